"""The matrix products of backpropagation, dZ·Wᵀ and Xᵀ·dZ, laid out the way BLAS runs them fastest."""

from __future__ import annotations

import numpy as np

from glassnet import backend

#: A transposed right operand with at most this many elements is copied contiguous before the product.
SMALL_TRANSPOSE = 16384


def times_transposed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·bᵀ (for dX = dZ·Wᵀ). A small 2-D b is transposed into a contiguous copy first: OpenBLAS is slow on a
    transposed, thin matrix (MNIST's 10×512 kernel: 42 µs as a view, 18 µs copied)."""
    bt = np.swapaxes(b, -1, -2)
    if b.ndim == 2 and b.size <= SMALL_TRANSPOSE and backend.kernels() == "fast":
        bt = np.ascontiguousarray(bt)
    return a @ bt


def transposed_times(a, b: np.ndarray, batched: bool = False) -> np.ndarray:
    """aᵀ·b (for dW = Xᵀ·dZ). Unless ``batched`` (a batch of kernels, one per batch entry), the leading batch axes
    are summed over, as every sample adds its share to one kernel: they are folded into the rows, one product
    instead of one per batch entry. ``a`` may be SparseRows."""
    if batched:
        return np.swapaxes(a, -1, -2) @ b
    if a.ndim == 2:
        return a.T @ b
    return a.reshape(-1, a.shape[-1]).T @ b.reshape(-1, b.shape[-1])


def sum_rows(a: np.ndarray) -> np.ndarray:
    """Σ over every axis but the last (for db = Σ dZ over the samples)."""
    return np.add.reduce(a.reshape(-1, a.shape[-1]), axis=0)
