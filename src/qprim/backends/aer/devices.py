"""Fake devices of `qiskit_ibm_runtime.fake_provider`: Aer's targets and noise models."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

from qprim.errors import InputError

if TYPE_CHECKING:
    from qiskit.providers import BackendV2


def fake_device(name: str) -> BackendV2:
    """A device of `qiskit_ibm_runtime.fake_provider` by its name (`fake_manila`, ...)."""
    from qiskit_ibm_runtime.fake_provider import FakeProviderForBackendV2

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # some fake devices warn about their own properties
        provider = FakeProviderForBackendV2()
        try:
            return provider.backend(name)
        except Exception as exc:
            raise InputError(
                f"unknown Aer device {name!r}: use aer_simulator or a fake device name "
                "such as fake_manila or fake_brisbane"
            ) from exc
