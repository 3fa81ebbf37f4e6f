"""The BLAS layout choices of kernels.linalg give the plain product's values: aᵀ·b in blocks of rows, a·bᵀ with a
thin b copied contiguous."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import backend, kernels
from glassnet.kernels import linalg

pytestmark = pytest.mark.fast_kernels

BLOCKED = linalg.BLOCK_ROWS * linalg.BLOCKS_MIN


@pytest.mark.parametrize("rows, k, n, in_blocks", [
    (BLOCKED, 10, 32, True),  # whole blocks only
    (BLOCKED + 77, 9, 33, True),  # a part-block left over
    (BLOCKED - 1, 10, 32, False),  # too few rows
    (BLOCKED + 77, 40, 32, False),  # too many outputs
])
def test_transposed_times_in_row_blocks_is_the_product(rows, k, n, in_blocks, monkeypatch):
    rng = np.random.default_rng(rows + k)
    a = rng.normal(size=(rows, k)).astype(np.float32)
    b = rng.normal(size=(rows, n)).astype(np.float32)
    calls = []
    original = linalg._in_row_blocks
    monkeypatch.setattr(linalg, "_in_row_blocks", lambda x, y: calls.append(x.shape) or original(x, y))
    out = kernels.transposed_times(a, b)
    assert bool(calls) == in_blocks
    expected = a.astype(np.float64).T @ b.astype(np.float64)
    assert out.shape == (k, n) and out.dtype == np.float32
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-3)
    backend.set_kernels("numpy")
    try:
        np.testing.assert_allclose(kernels.transposed_times(a, b), out, rtol=1e-4, atol=1e-3)
    finally:
        backend.set_kernels("fast")


def test_batch_axes_are_folded_into_the_rows():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(64, 26 * 26, 10)).astype(np.float32)  # a convolution's windows, image by image
    b = rng.normal(size=(64, 26 * 26, 32)).astype(np.float32)
    expected = np.einsum("nrk,nro->ko", a.astype(np.float64), b.astype(np.float64))
    np.testing.assert_allclose(kernels.transposed_times(a, b), expected, rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("b_shape, copied", [
    ((512, 10), True),  # MNIST's output kernel: few columns, many rows
    ((128, 32), True),
    ((32, 128), False),  # an LSTM's U: more columns than rows, as fast as a view
    ((256, 64), False),  # too many columns
    ((16, 16), False),  # too small to matter
    ((6272, 10), False),  # too large: the copy costs more than it saves
])
def test_times_transposed_copies_only_a_thin_b(b_shape, copied, monkeypatch):
    rng = np.random.default_rng(b_shape[0])
    a = rng.normal(size=(64, b_shape[1])).astype(np.float32)
    b = rng.normal(size=b_shape).astype(np.float32)
    calls = []
    original = np.ascontiguousarray
    monkeypatch.setattr(linalg.np, "ascontiguousarray", lambda x: calls.append(x.shape) or original(x))
    out = kernels.times_transposed(a, b)
    assert calls == ([b_shape[::-1]] if copied else [])
    np.testing.assert_allclose(out, a.astype(np.float64) @ b.astype(np.float64).T, rtol=1e-4, atol=1e-3)
