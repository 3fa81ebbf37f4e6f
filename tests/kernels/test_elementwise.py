"""The compiled elementwise passes give NumPy's results bit for bit, NaN and the sign of zero included."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import kernels
from glassnet.kernels import elementwise

pytestmark = pytest.mark.fast_kernels


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [10, elementwise.COMPILED_MIN_SIZE + 7])
def test_times_positive_is_the_masked_product(dtype, size):
    rng = np.random.default_rng(size)
    a = rng.normal(size=(size, 3)).astype(dtype)
    values = rng.normal(size=a.shape).astype(dtype)
    a[:4, 0] = [0.0, -0.0, np.nan, 2.0]  # not positive, not positive, not positive, positive
    values[:4, 0] = [np.nan, -1.0, 3.0, -0.0]
    out = kernels.times_positive(values, a)
    expected = values * (a > 0)
    assert out.dtype == dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, expected)  # NaN in the same places
    np.testing.assert_array_equal(np.signbit(out), np.signbit(expected))
    assert np.isnan(out[0, 0]) and out[1, 0] == 0 and np.signbit(out[1, 0]) and out[2, 0] == 0
    assert out[3, 0] == 0 and np.signbit(out[3, 0])


def test_times_positive_reads_non_contiguous_arrays():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(300, 200)).astype(np.float32).T
    values = rng.normal(size=(200, 300)).astype(np.float32)[:, ::-1]
    np.testing.assert_array_equal(kernels.times_positive(values, a), values * (a > 0))
