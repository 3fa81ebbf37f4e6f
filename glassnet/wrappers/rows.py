"""How the wrappers hand rows to a model: scipy sparse matrices as dense rows (which ``fit`` stores as SparseRows
when they are large and mostly zeros), and predictions in padded blocks of one fixed shape, so that a row's
prediction never depends on the other rows of the call (scikit-learn's subset invariance)."""

from __future__ import annotations

import numpy as np
import scipy.sparse

from glassnet import backend
from glassnet.models import Sequential
from glassnet.models.data import SPARSE_MIN_BYTES

#: Rows of every prediction batch. A matrix product's rounding can depend on its number of rows (BLAS picks
#: kernels and splits work by shape), so every batch is padded to this many rows.
BLOCK_ROWS = 64


def as_dense(X) -> np.ndarray:
    """``X`` as a NumPy array: a scipy sparse matrix or array (CSR, CSC, COO, ...) is expanded, zeros included,
    straight into the model's float type (the values the model would cast it to, at half the memory of float64)."""
    if scipy.sparse.issparse(X):
        return X.astype(backend.floatx(), copy=False).toarray()
    return np.asarray(X)


def block_rows(n_features: int) -> int:
    """Rows per prediction batch for ``n_features`` inputs: BLOCK_ROWS, halved until one batch stays under the
    size at which ``predict`` would store it by rows (another kernel, other rounding) instead of densely."""
    row_bytes = n_features * np.dtype(backend.floatx()).itemsize
    rows = BLOCK_ROWS
    while rows > 1 and rows * row_bytes >= SPARSE_MIN_BYTES:
        rows //= 2
    return rows


def predict_in_blocks(model: Sequential, X) -> np.ndarray:
    """``model.predict`` of ``X`` (dense or scipy sparse) as float64, computed in batches of exactly
    :func:`block_rows` rows (the last one padded with zero rows, whose outputs are dropped), a few batches per
    call and every call under the dense-storage size, so memory stays bounded for sparse inputs too."""
    if scipy.sparse.issparse(X):
        X = X.tocsr()  # rows can be sliced from every format once it is CSR (DIA, DOK, ... cannot)
    n_samples, n_features = X.shape
    rows = block_rows(n_features)
    row_bytes = n_features * np.dtype(backend.floatx()).itemsize
    per_call = rows * max(1, (SPARSE_MIN_BYTES - 1) // (rows * row_bytes))
    outputs = []
    for start in range(0, n_samples, per_call):
        part = as_dense(X[start:start + per_call])
        padded = np.zeros((-(-len(part) // rows) * rows, n_features), dtype=backend.floatx())
        padded[:len(part)] = part
        outputs.append(model.predict(padded, batch_size=rows, verbose=0)[:len(part)])
    return np.concatenate(outputs).astype(np.float64)
