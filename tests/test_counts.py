"""qprim counts outcomes with NumPy: the very dict `BitArray.get_counts` gives, keys in the
same order, at every sweep point and over all of them."""

from __future__ import annotations

import numpy as np
import pytest
from qiskit.primitives import BitArray

from qprim.report.counts import counts


@pytest.mark.parametrize("num_bits", [1, 5, 8, 9, 13])
@pytest.mark.parametrize("shape", [(), (3,), (2, 3)])
def test_counts_are_get_counts(num_bits: int, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(num_bits)
    # few distinct outcomes among many shots, as a real circuit gives
    outcomes = rng.integers(0, 2**num_bits, size=7)
    samples = rng.choice(outcomes, size=(*shape, 500))
    bits = BitArray.from_samples(samples.reshape(-1).tolist(), num_bits).reshape(*shape, 500)
    for point in [*np.ndindex(shape), ()] if shape else [()]:
        expected = bits[point].get_counts() if point else bits.get_counts()
        assert list(counts(bits, point).items()) == list(expected.items())


def test_counts_of_a_real_sampler_result() -> None:
    from qiskit import QuantumCircuit
    from qiskit_aer.primitives import SamplerV2

    ghz = QuantumCircuit(3)
    ghz.h(0)
    ghz.cx(0, 1)
    ghz.cx(1, 2)
    ghz.rx(0.3, 2)
    ghz.measure_all()
    bits = SamplerV2(seed=3).run([ghz], shots=4000).result()[0].data.meas
    assert list(counts(bits).items()) == list(bits.get_counts().items())
