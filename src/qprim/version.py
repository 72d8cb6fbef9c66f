"""qprim's version, in a module of its own: the run record stamps it on every run, and
that must not import the Python API (`qprim/__init__`), which sits layers above."""

__version__ = "0.2.0"
