"""The matrix products of backpropagation, dZ·Wᵀ and Xᵀ·dZ, laid out the way BLAS runs them fastest."""

from __future__ import annotations

import numpy as np

from glassnet import backend

#: A transposed right operand with this many elements (or between), and at most THIN_COLUMNS columns (fewer than its
#: rows), is copied contiguous before the product: below, the copy costs what it saves; above, or with more columns,
#: BLAS handles the transposed view as well (784×512: 0.4 ms as a view; an LSTM's 32×128 U: 12 µs as a view,
#: 14 µs copied).
THIN_TRANSPOSE = (1024, 16384)
THIN_COLUMNS = 32


def times_transposed(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·bᵀ (for dX = dZ·Wᵀ). A small 2-D b with few columns is transposed into a contiguous copy first: OpenBLAS
    is slow on a transposed, thin matrix (MNIST's 512×10 kernel: 110 µs as a view, 20 µs copied; 128×32: 19 and
    15 µs)."""
    if b.ndim != 2:
        return a @ np.swapaxes(b, -1, -2)
    thin = THIN_TRANSPOSE[0] <= b.size <= THIN_TRANSPOSE[1] and b.shape[1] <= min(THIN_COLUMNS, b.shape[0] - 1)
    if thin and backend.kernels() == "fast":
        return a @ np.ascontiguousarray(b.T)
    return a @ b.T


#: aᵀ·b with this few outputs (columns of a times columns of b) and at least BLOCK_ROWS·BLOCKS_MIN rows is taken
#: in blocks of rows, one batched product then a sum: OpenBLAS runs a (10 × 43,264)·(43,264 × 32) product (the
#: book convnet's first kernel gradient) on one long reduction at 0.72 ms; in blocks of 512 rows, 0.37 ms.
THIN_OUTPUT = 1024
BLOCK_ROWS, BLOCKS_MIN = 512, 16


def transposed_times(a, b: np.ndarray, batched: bool = False) -> np.ndarray:
    """aᵀ·b (for dW = Xᵀ·dZ). Unless ``batched`` (a batch of kernels, one per batch entry), the leading batch axes
    are summed over, as every sample adds its share to one kernel: they are folded into the rows, one product
    instead of one per batch entry. ``a`` may be SparseRows."""
    if batched:
        return np.swapaxes(a, -1, -2) @ b
    if a.ndim != 2:
        a, b = a.reshape(-1, a.shape[-1]), b.reshape(-1, b.shape[-1])
    if (len(a) >= BLOCK_ROWS * BLOCKS_MIN and type(a) is np.ndarray and a.shape[1] * b.shape[1] <= THIN_OUTPUT
            and backend.kernels() == "fast"):
        return _in_row_blocks(a, b)
    return a.T @ b


def _in_row_blocks(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """aᵀ·b as Σ over blocks of BLOCK_ROWS rows of a_blockᵀ·b_block (one batched product), the rows left over
    added after."""
    whole = len(a) - len(a) % BLOCK_ROWS
    blocks = a[:whole].reshape(-1, BLOCK_ROWS, a.shape[1]).transpose(0, 2, 1) @ b[:whole].reshape(
        -1, BLOCK_ROWS, b.shape[1])
    total = np.add.reduce(blocks, axis=0)
    if whole < len(a):
        total += a[whole:].T @ b[whole:]
    return total


#: From this many rows on, Σ over the rows runs as the product 1ᵀ·A: BLAS sums a convolution's 43,264 × 32 gradient
#: 3.5 × faster than NumPy's reduction down the rows.
SUM_AS_PRODUCT = 1024


def sum_rows(a: np.ndarray) -> np.ndarray:
    """Σ over every axis but the last (for db = Σ dZ over the samples)."""
    rows = a if a.ndim == 2 else a.reshape(-1, a.shape[-1])
    if len(rows) >= SUM_AS_PRODUCT and rows.dtype.kind == "f" and backend.kernels() == "fast":
        return np.ones(len(rows), dtype=rows.dtype) @ rows
    return np.add.reduce(rows, axis=0)
