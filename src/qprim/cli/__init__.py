"""The `qprim` command line: one module per command group, rendering, no logic."""

from qprim.cli.app import app, main

__all__ = ["app", "main"]
