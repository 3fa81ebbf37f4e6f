"""Checks and conversion of the arrays given to fit/evaluate/predict and the ``*_on_batch`` methods, done before
any step (what becomes batches, and how, is models/data_adapters.py).

x and y are each one array, or, for a model of several inputs or outputs, a structure: a list, tuple or dict of
arrays (nested as the model's inputs are). ``is_structure``, ``map_structure`` and ``leaves`` walk one; each leaf
gets the checks a single array gets, its errors naming it by its place (``x[1]``, ``y['price']``).

Every error names the method and the argument, what was received and what was expected, as Keras does, and is
raised before the first training step so that a bad dataset never leaves a half-trained model.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet import backend
from glassnet.autodiff.tensor import Tensor
from glassnet.kernels.sparse import SparseRows

#: Inputs with at most this share of nonzeros are stored by rows (SparseRows) when the first layer is a Dense:
#: below it, skipping the zeros beats multi-threaded BLAS on the whole matrix (benchmarks/RESULTS.md).
SPARSE_MAX_DENSITY = 0.1
#: Smaller inputs stay dense: their matmuls are quick either way, and tests and toy data keep BLAS's exact sums.
SPARSE_MIN_BYTES = 1 << 20
#: Up to this many values, check_finite sums the whole array: quicker than one sum per sample.
SMALL_ARRAY = 4096


def as_array(value, arg: str, method: str, dtype=None) -> np.ndarray:
    """``value`` as an ndarray, cast once to ``dtype`` (floatx by default for float/int data; bool kept for y)."""
    target = np.dtype(dtype or backend.floatx())
    if type(value) is np.ndarray and value.dtype == target and value.ndim:  # already what this makes (a batch)
        return value
    if value is None:
        raise ValueError(f"{method}: argument `{arg}` is required, received None")
    if isinstance(value, Tensor):
        value = value.data
    try:
        arr = np.asarray(value)
    except ValueError as e:  # ragged nested lists
        raise ValueError(f"{method}: argument `{arg}` must be a rectangular array of numbers; received "
                         f"{type(value).__name__} that NumPy cannot stack ({e})") from None
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"{method}: argument `{arg}` must hold numbers (bool, int or float); received an array of "
                        f"dtype {arr.dtype} from {type(value).__name__}")
    if arr.ndim == 0:
        raise ValueError(f"{method}: argument `{arg}` must have a first (sample) dimension; received a scalar "
                         f"{arr.item()!r}")
    if arr.dtype != target:
        arr = arr.astype(target)
    return arr


def as_texts(value, arg: str, method: str) -> np.ndarray:
    """``value`` as an array of texts (one per sample, or a column of them), for a model whose input is declared
    ``Input(dtype="string")``."""
    if value is None:
        raise ValueError(f"{method}: argument `{arg}` is required, received None")
    arr = np.asarray(value.data if isinstance(value, Tensor) else value)
    if arr.dtype.kind not in "OUS":
        raise TypeError(f"{method}: the model's input is declared dtype='string', so argument `{arg}` must hold "
                        f"texts; received an array of dtype {arr.dtype} from {type(value).__name__}")
    if arr.ndim == 0 or not len(arr):
        raise ValueError(f"{method}: argument `{arg}` must hold at least one text per sample; received shape "
                         f"{arr.shape}")
    return arr


def is_structure(value) -> bool:
    """Whether ``value`` is a structure of arrays rather than one array: a dict, or a list/tuple whose items are all
    arrays (ndarray, Tensor) or structures. A list of numbers or of lists of numbers stays one array, as before."""
    if type(value) is np.ndarray:  # the common case first: fit's own arrays
        return False
    if isinstance(value, dict):
        return True
    return (isinstance(value, (list, tuple)) and len(value) > 0
            and all(isinstance(v, (np.ndarray, Tensor)) or is_structure(v) for v in value))


def map_structure(fn, value, name: str):
    """``fn(leaf, leaf_name)`` for every array of ``value``, in the same structure (``value`` itself when it is
    one array); a leaf's name is its place, ``name[0]`` or ``name['key']``. None stays None."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {k: map_structure(fn, v, f"{name}[{k!r}]") for k, v in value.items()}
    if is_structure(value):
        return type(value)(map_structure(fn, v, f"{name}[{i}]") for i, v in enumerate(value))
    return fn(value, name)


def leaves(value, name: str) -> dict:
    """{leaf name: array} of a structure (``{name: value}`` for one array), in order."""
    found = {}
    map_structure(lambda leaf, leaf_name: found.__setitem__(leaf_name, leaf), value, name)
    return found


def batch_length(value) -> int:
    """Samples in a batch: the length of its (first) array."""
    return len(value) if type(value) is np.ndarray else len(next(iter(leaves(value, "y").values())))


def check_not_empty(arr: np.ndarray, arg: str, method: str) -> None:
    if len(arr) == 0:
        raise ValueError(f"{method}: argument `{arg}` is empty (shape {arr.shape}); expected at least one sample")


def check_finite(arr: np.ndarray, arg: str, method: str) -> None:
    """Refuse NaN and ±inf. Fast path: a sum is finite only if all its values are, so a small array (one batch)
    is checked by its total, a large one by each sample's sum (one matrix-vector product, multi-threaded BLAS); a
    sum that overflowed sends us to the exact element-wise check."""
    if arr.dtype.kind != "f" or arr.size == 0:
        return
    if arr.size <= SMALL_ARRAY:
        if math.isfinite(np.add.reduce(arr, axis=None)):
            return
    else:
        rows = arr.reshape(len(arr), -1)
        if np.isfinite(rows @ np.ones(rows.shape[1], dtype=arr.dtype)).all():
            return
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    n_nan = int(np.isnan(arr).sum())
    n_inf = int(bad.sum()) - n_nan
    first = int(np.argmax(bad.reshape(len(arr), -1).any(axis=1)))
    raise ValueError(
        f"{method}: argument `{arg}` contains {n_nan} NaN and {n_inf} infinite value(s) (first in sample {first}); "
        "expected finite numbers. Remove or impute them before training."
    )


def sparse_rows(x: np.ndarray) -> SparseRows | None:
    """``x`` stored as the nonzeros of its rows when it is a large 2-D float matrix that is mostly zeros (a multi-hot
    or bag-of-words input), else None. Building them also checks every value finite: with ``x`` returned as
    SparseRows, check_finite need not read it again. Needs Numba."""
    if (x.ndim != 2 or x.dtype.char not in "fd" or not x.flags.c_contiguous or x.nbytes < SPARSE_MIN_BYTES
            or backend.numba() is None):
        return None
    sample = x[::max(1, len(x) // 64)]  # 64 rows spread over the data: a cheap first guess of the density
    if np.count_nonzero(sample) > SPARSE_MAX_DENSITY * sample.size:
        return None
    return SparseRows.from_dense(x, int(SPARSE_MAX_DENSITY * x.size))


def check_lengths(method: str, **arrays) -> int:
    """All given arrays hold the same number of samples; returns it."""
    given = {name: len(arr) for name, arr in arrays.items() if arr is not None}
    if len(set(given.values())) > 1:
        described = ", ".join(f"`{name}` has {n} samples" for name, n in given.items())
        raise ValueError(f"{method}: data cardinality is ambiguous: {described}. Make sure all arrays contain the "
                         "same number of samples.")
    return next(iter(given.values()))


def check_features(arr: np.ndarray, expected: tuple | None, arg: str, method: str, model_name: str) -> None:
    """Each sample of ``arr`` has the shape the model expects (``expected`` is batch-first, batch None)."""
    if expected is None:
        return
    sample, want = arr.shape[1:], tuple(expected)[1:]
    if len(sample) != len(want) or any(w is not None and w != s for w, s in zip(want, sample)):
        raise ValueError(
            f"{method}: argument `{arg}` has shape {arr.shape}, i.e. samples of shape {sample}, but model "
            f"'{model_name}' expects inputs of shape {tuple(expected)} (samples of shape {want})."
        )


def check_batch_size(batch_size, method: str) -> int:
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"{method}: argument `batch_size` must be a positive integer or None, received "
                         f"{batch_size!r}")
    return int(batch_size)
