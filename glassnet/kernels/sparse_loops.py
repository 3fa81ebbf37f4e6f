"""The compiled loops behind SparseRows (autodiff/sparse.py): plain Python over CSR arrays that Numba compiles.

Imported only when SparseRows are first used, since importing it imports Numba. Each loop runs on one core and
releases the GIL (SparseRows.from_dense runs ``compress`` on a part of the rows in each core's thread), and Numba
caches the machine code on disk, so a new process does not compile it again.
"""

from __future__ import annotations

import numba
import numpy as np
from numba.cpython.unsafe.numbers import trailing_zeros

#: compress finds nonzeros this many values at a time: one bit mask per block, then one step per set bit.
BLOCK = 64

_compiled = numba.njit(error_model="numpy", cache=True, nogil=True)


@_compiled
def compress(x, max_nonzeros, indptr, indices, values):
    """Store the nonzeros of each row of x; returns their count, or -1 past max_nonzeros or at a NaN or ±inf.
    Each block of 64 values becomes a bit mask of its nonzeros (a loop LLVM vectorizes, which also checks that
    they are all finite), then one step per set bit: most blocks of a multi-hot row have none."""
    n, d = x.shape
    largest = np.finfo(x.dtype).max
    whole = d - d % BLOCK
    count = 0
    for i in range(n):
        row = x[i]
        finite = True
        for start in range(0, whole, BLOCK):
            mask = np.uint64(0)
            for j in range(BLOCK):
                v = row[start + j]
                finite &= abs(v) <= largest
                mask |= np.uint64(v != 0) << np.uint64(j)
            while mask:
                j = trailing_zeros(mask)
                indices[count] = start + j
                values[count] = row[start + j]
                count += 1
                mask &= mask - np.uint64(1)
            if count > max_nonzeros:  # at most one block past it: the buffers hold max_nonzeros + BLOCK
                return -1
        for k in range(whole, d):
            v = row[k]
            finite &= abs(v) <= largest
            if v != 0:
                indices[count] = k
                values[count] = v
                count += 1
        if not finite or count > max_nonzeros:
            return -1
        indptr[i + 1] = count
    return count


@_compiled
def take(indptr, indices, values, rows, out_indptr, out_indices, out_values):
    """Copy the nonzeros of rows ``rows`` one after another (``out_indptr`` already holds where each starts)."""
    for r in range(len(rows)):
        start, stop = indptr[rows[r]], indptr[rows[r] + 1]
        at = out_indptr[r]
        for p in range(stop - start):
            out_indices[at + p] = indices[start + p]
            out_values[at + p] = values[start + p]


@_compiled
def matmul(indptr, indices, values, w, out):
    """out = X·W: row i is Σ x_ik · W[k], over row i's nonzeros in column order."""
    n = len(indptr) - 1
    units = w.shape[1]
    for i in range(n):
        for u in range(units):
            out[i, u] = 0
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            v = values[p]
            for u in range(units):
                out[i, u] += v * w[k, u]


@_compiled
def transposed_matmul(indptr, indices, values, dz, out):
    """out += Xᵀ·dZ: row i of dZ, times x_ik, added into row k of out, for every nonzero x_ik (out starts at 0)."""
    n = len(indptr) - 1
    units = dz.shape[1]
    for i in range(n):
        for p in range(indptr[i], indptr[i + 1]):
            k = indices[p]
            v = values[p]
            for u in range(units):
                out[k, u] += v * dz[i, u]
