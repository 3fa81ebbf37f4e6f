"""SparseRows: a 2-D input stored as the nonzeros of each row (CSR), for inputs that are mostly zeros.

A multi-hot review (IMDB: 10,000 words, about 130 of them present) is 98.7% zeros. Stored densely, a shuffled
batch of 512 reviews is first gathered (20 MB), then X·W multiplies every zero and dW = Xᵀ·dZ reads all of it again.
Stored by rows, a batch is gathered by copying its nonzeros, X·W adds up the rows of W that each review's words
select, and Xᵀ·dZ adds each review's row of dZ into the rows of dW that its words select: the same sums without
the zero terms, about 1/75 of the work (benchmarks/RESULTS.md).

A Tensor can hold SparseRows as its value. MatMul runs on it unchanged, through ``x @ w`` and ``x.T @ dz``, so the
recorded backward is still dW = Xᵀ·dZ. SparseRows are input data: read-only, never differentiated. The loops are
compiled by Numba (glassnet never makes SparseRows without it); the products and gathers of a step run on one core,
like the fused optimizer updates, so as not to fight OpenBLAS's threads; the conversion from a dense array, before
training starts, uses every core.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from glassnet import backend


class SparseRows:
    """Rows ``i`` of an (n, d) matrix as ``values[indptr[i]:indptr[i+1]]`` at columns
    ``indices[indptr[i]:indptr[i+1]]`` (columns increasing within a row). ``shape`` and ``dtype`` are the dense
    matrix's; ``np.asarray`` gives the dense matrix back."""

    __slots__ = ("indptr", "indices", "values", "shape")
    ndim = 2

    def __init__(self, indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, shape: tuple[int, int]):
        if len(indptr) != shape[0] + 1 or len(indices) != len(values) or indptr[-1] > len(values):
            raise ValueError(f"SparseRows: indptr of length {len(indptr)} ({shape[0] + 1} expected for shape "
                             f"{shape}) must index into {len(values)} values with {len(indices)} column indices")
        self.indptr, self.indices, self.values = (_readonly(a) for a in (indptr, indices, values))
        self.shape = (int(shape[0]), int(shape[1]))

    @classmethod
    def from_dense(cls, x: np.ndarray, max_nonzeros: int) -> SparseRows | None:
        """``x`` (2-D, C-contiguous, float32 or float64) by rows, in one pass that also checks every value is
        finite. None when ``x`` has more than ``max_nonzeros`` nonzeros or any NaN or ±inf (the caller keeps it
        dense, and its own checks report the bad values). The pass is memory-bound, so each core compresses a
        part of the rows (before training starts: no BLAS thread is working then), and the parts are joined."""
        bounds = np.linspace(0, len(x), _parts(len(x)) + 1).astype(np.int64)
        with ThreadPoolExecutor(len(bounds) - 1) as pool:
            parts = list(pool.map(lambda start, stop: _compress(x[start:stop], max_nonzeros), bounds[:-1], bounds[1:]))
        if any(part is None for part in parts) or sum(len(part[1]) for part in parts) > max_nonzeros:
            return None
        offsets = np.cumsum([0] + [len(indices) for _, indices, _ in parts])
        indptr = np.concatenate([[0]] + [counts[1:] + offset for (counts, _, _), offset in zip(parts, offsets)])
        return cls(indptr, np.concatenate([part[1] for part in parts]), np.concatenate([part[2] for part in parts]),
                   x.shape)

    # ----- what a Tensor and the trainer read ------------------------------------------------------------------
    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def size(self) -> int:
        return self.shape[0] * self.shape[1]

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1] - self.indptr[0])

    @property
    def nbytes(self) -> int:
        return self.indptr.nbytes + self.indices.nbytes + self.values.nbytes

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, rows) -> SparseRows:
        """Rows by a slice (views, no copy) or by an array of row numbers (gathered, as ``take``)."""
        if isinstance(rows, slice):
            start, stop, step = rows.indices(self.shape[0])
            if step == 1:
                stop = max(start, stop)
                return SparseRows(self.indptr[start:stop + 1], self.indices, self.values, (stop - start, self.shape[1]))
            rows = np.arange(start, stop, step)
        return self.take(rows)

    def take(self, rows) -> SparseRows:
        """The rows ``rows`` (row numbers, in that order) as new SparseRows: a shuffled batch."""
        rows = np.asarray(rows, dtype=np.intp)
        if rows.ndim != 1:
            raise IndexError(f"SparseRows.take: expected a 1-D array of row numbers, received shape {rows.shape}")
        if len(rows) and (rows.min() < -self.shape[0] or rows.max() >= self.shape[0]):
            raise IndexError(f"SparseRows.take: row numbers must lie in [-{self.shape[0]}, {self.shape[0]}); "
                             f"received {rows.min()}..{rows.max()}")
        rows = rows % max(self.shape[0], 1)
        indptr = np.empty(len(rows) + 1, dtype=np.int64)
        indptr[0] = 0
        np.cumsum(self.indptr[rows + 1] - self.indptr[rows], out=indptr[1:])
        indices = np.empty(indptr[-1], dtype=self.indices.dtype)
        values = np.empty(indptr[-1], dtype=self.values.dtype)
        _loops().take(self.indptr, self.indices, self.values, rows, indptr, indices, values)
        return SparseRows(indptr, indices, values, (len(rows), self.shape[1]))

    # ----- the two products MatMul needs -----------------------------------------------------------------------
    def __matmul__(self, w: np.ndarray) -> np.ndarray:
        """X·W: row i is Σ x_ik · W[k] over the nonzeros x_ik of row i."""
        if not isinstance(w, np.ndarray) or w.ndim != 2 or w.shape[0] != self.shape[1]:
            raise ValueError(f"SparseRows @ w: expected w of shape ({self.shape[1]}, units), received "
                             f"{getattr(w, 'shape', type(w).__name__)}")
        out = np.empty((self.shape[0], w.shape[1]), dtype=np.result_type(self.dtype, w.dtype))
        _loops().matmul(self.indptr, self.indices, self.values, np.ascontiguousarray(w, dtype=out.dtype), out)
        return out

    @property
    def T(self) -> _TransposedRows:  # noqa: N802 - NumPy's name
        return _TransposedRows(self)

    # ----- conversions -------------------------------------------------------------------------------------------
    def toarray(self) -> np.ndarray:
        """The dense matrix."""
        dense = np.zeros(self.shape, dtype=self.dtype)
        counts = np.diff(self.indptr)
        rows = np.repeat(np.arange(self.shape[0]), counts)
        start = self.indptr[0]
        dense[rows, self.indices[start:start + len(rows)]] = self.values[start:start + len(rows)]
        return dense

    def __array__(self, dtype=None, copy=None):
        if copy is False:
            raise ValueError("SparseRows cannot be viewed as a dense array without a copy (np.asarray makes one)")
        dense = self.toarray()
        return dense if dtype is None else dense.astype(dtype, copy=False)

    def copy(self) -> SparseRows:
        start, stop = self.indptr[0], self.indptr[-1]
        return SparseRows(self.indptr - start, self.indices[start:stop].copy(), self.values[start:stop].copy(),
                          self.shape)

    def __repr__(self) -> str:
        return (f"SparseRows(shape={self.shape}, dtype={self.dtype}, nonzeros={self.nnz} "
                f"({self.nnz / max(self.size, 1):.2%}))")


class _TransposedRows:
    """Xᵀ for SparseRows X, as MatMul's backward uses it: ``x.T @ dz`` = dW."""

    __slots__ = ("rows",)

    def __init__(self, rows: SparseRows):
        self.rows = rows

    @property
    def shape(self) -> tuple[int, int]:
        return self.rows.shape[::-1]

    def __matmul__(self, dz: np.ndarray) -> np.ndarray:
        """Xᵀ·dZ: each row i of dZ, times x_ik, added into row k of the result, for every nonzero x_ik."""
        x = self.rows
        if not isinstance(dz, np.ndarray) or dz.ndim != 2 or dz.shape[0] != x.shape[0]:
            raise ValueError(f"SparseRows.T @ dz: expected dz of shape ({x.shape[0]}, units), received "
                             f"{getattr(dz, 'shape', type(dz).__name__)}")
        out = np.zeros((x.shape[1], dz.shape[1]), dtype=np.result_type(x.dtype, dz.dtype))
        _loops().transposed_matmul(x.indptr, x.indices, x.values, np.ascontiguousarray(dz, dtype=out.dtype), out)
        return out


ROWS_PER_PART = 1024  # from_dense splits the rows among the cores in parts of at least this many


def _parts(rows: int) -> int:
    """How many parts from_dense splits ``rows`` into: one per core, none smaller than ROWS_PER_PART rows."""
    return max(1, min(os.cpu_count() or 1, rows // ROWS_PER_PART))


def _compress(x: np.ndarray, max_nonzeros: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(indptr, indices, values) of the rows of ``x``, or None past ``max_nonzeros`` or at a NaN or ±inf."""
    loops = _loops()
    capacity = max_nonzeros + loops.BLOCK  # a block's nonzeros are stored before the count is checked
    indptr = np.zeros(len(x) + 1, dtype=np.int64)
    indices = np.empty(capacity, dtype=np.int32)  # pages that stay unwritten cost no memory
    values = np.empty(capacity, dtype=x.dtype)
    nonzeros = loops.compress(x, max_nonzeros, indptr, indices, values)
    return None if nonzeros < 0 else (indptr, indices[:nonzeros], values[:nonzeros])


def _readonly(a: np.ndarray) -> np.ndarray:
    a = a.view()
    a.flags.writeable = False
    return a


def _loops():
    """The module of compiled loops (sparse_loops), imported when SparseRows are first used: it imports Numba."""
    if backend.numba() is None:
        raise RuntimeError("SparseRows need the fast kernels: install Numba (pip install 'glassnet[fast]') and leave "
                           "GLASSNET_KERNELS unset or set it to 'fast'")
    from glassnet.kernels import sparse_loops

    return sparse_loops
