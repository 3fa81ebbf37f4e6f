"""The fast kernels' convolution helpers give the plain NumPy path's results: col2im's compiled scatter (every
window entry added back where im2col read it) and the sum over rows taken as a product with a vector of ones."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import backend, kernels

pytestmark = pytest.mark.fast_kernels

# (input spatial shape, window, strides, dilation, pads): overlapping and disjoint windows, dilated, padded, 1-D
CASES = [
    ((9, 9), (3, 3), (1, 1), (1, 1), [(0, 0), (0, 0)]),
    ((9, 8), (2, 3), (2, 1), (1, 2), [(1, 0), (1, 1)]),
    ((10, 10), (2, 2), (2, 2), (1, 1), [(0, 0), (0, 0)]),
    ((12,), (3,), (2,), (2,), [(2, 1)]),
]


def in_both_modes(fn):
    """fn() under the NumPy kernels, then under the fast ones."""
    results = []
    try:
        for mode in ("numpy", "fast"):
            backend.set_kernels(mode)
            results.append(fn())
    finally:
        backend.set_kernels("fast")
    return results


@pytest.mark.parametrize("spatial, window, strides, dilation, pads", CASES)
def test_compiled_col2im_is_the_numpy_col2im(spatial, window, strides, dilation, pads):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, *spatial, 5)).astype(np.float32)
    cols = rng.normal(size=kernels.im2col(x, window, strides, dilation, pads).shape).astype(np.float32)
    numpy_dx, fast_dx = in_both_modes(lambda: kernels.col2im(cols, x.shape, window, strides, dilation, pads))
    assert fast_dx.shape == x.shape
    np.testing.assert_allclose(fast_dx, numpy_dx, rtol=1e-6, atol=1e-6)
    # the adjoint of im2col: <im2col(x), cols> = <x, col2im(cols)>
    np.testing.assert_allclose(np.vdot(kernels.im2col(x, window, strides, dilation, pads), cols),
                               np.vdot(x, fast_dx), rtol=1e-5)


def test_compiled_col2im_reads_a_broadcast_operand():
    """Average pooling's backward hands col2im one share per window broadcast over the window (stride 0)."""
    share = np.arange(2 * 4 * 4 * 3, dtype=np.float32).reshape(2, 4, 4, 1, 1, 3)
    cols = np.broadcast_to(share, (2, 4, 4, 2, 2, 3))
    numpy_dx, fast_dx = in_both_modes(lambda: kernels.col2im(cols, (2, 8, 8, 3), (2, 2), (2, 2), (1, 1),
                                                             [(0, 0), (0, 0)]))
    np.testing.assert_array_equal(fast_dx, numpy_dx)
    assert fast_dx[1, 7, 6, 2] == share[1, 3, 3, 0, 0, 2]  # each input in one window: its share, once


@pytest.mark.parametrize("rows", [7, kernels.linalg.SUM_AS_PRODUCT, 5000])
def test_sum_rows_is_the_sum_over_the_rows(rows):
    a = np.random.default_rng(rows).normal(size=(rows // 4 + 1, 4, 6)).astype(np.float32)
    numpy_sum, fast_sum = in_both_modes(lambda: kernels.sum_rows(a))
    expected = a.astype(np.float64).sum(axis=(0, 1))
    assert fast_sum.shape == (6,) and fast_sum.dtype == np.float32
    np.testing.assert_allclose(fast_sum, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(numpy_sum, expected, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("channels", [1, kernels.conv.FEW_CHANNELS, kernels.conv.FEW_CHANNELS + 3])
@pytest.mark.parametrize("spatial, window, strides, dilation, pads", CASES)
def test_im2col_is_every_window_as_a_row(channels, spatial, window, strides, dilation, pads):
    """cols[n, (i, j), (p, q, c)] = x_padded[n, i·s + p·d, j·s + q·d, c], written out with loops; with ``ones``
    each row ends with a 1. Few channels are copied one window offset at a time, more in one compiled pass (one
    copy with GLASSNET_KERNELS=numpy): same rows."""
    rng = np.random.default_rng(channels)
    x = rng.normal(size=(2, *spatial, channels)).astype(np.float32)
    cols = kernels.im2col(x, window, strides, dilation, pads)
    padded = kernels.conv.pad(x, pads)
    outputs = cols.shape[1:-1]
    assert cols.shape == (2, *outputs, np.prod(window) * channels) and cols.flags.c_contiguous
    for n in range(2):
        for out in np.ndindex(*outputs):
            row = [padded[(n, *(o * s + k * d for o, k, s, d in zip(out, offset, strides, dilation)))]
                   for offset in np.ndindex(*window)]
            np.testing.assert_array_equal(cols[(n, *out)], np.concatenate(row))
    with_ones = kernels.im2col(x, window, strides, dilation, pads, ones=True)
    np.testing.assert_array_equal(with_ones[..., :-1], cols)
    assert (with_ones[..., -1] == 1).all()
