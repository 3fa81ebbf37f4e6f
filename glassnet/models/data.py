"""Checks and preparation of the arrays given to fit/evaluate/predict, done once, before any step.

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


def as_array(value, arg: str, method: str, dtype=None) -> np.ndarray:
    """``value`` as an ndarray, cast once to ``dtype`` (floatx by default for float/int data; bool kept for y)."""
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
    target = np.dtype(dtype or backend.floatx())
    if arr.dtype != target:
        arr = arr.astype(target)
    return arr


def check_not_empty(arr: np.ndarray, arg: str, method: str) -> None:
    if len(arr) == 0:
        raise ValueError(f"{method}: argument `{arg}` is empty (shape {arr.shape}); expected at least one sample")


def check_finite(arr: np.ndarray, arg: str, method: str) -> None:
    """Refuse NaN and ±inf. Fast path: each sample's sum (one matrix-vector product, multi-threaded BLAS) is finite
    only if all its values are; a sum that overflowed sends us to the exact element-wise check."""
    if arr.dtype.kind != "f" or arr.size == 0:
        return
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


def sample_weights(y: np.ndarray, sample_weight, class_weight, method: str) -> np.ndarray | None:
    """One float weight per sample from ``sample_weight`` or from ``class_weight`` (class index → weight)."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{method}: you cannot pass `class_weight` and `sample_weight` at the same time.")
    if sample_weight is not None:
        sw = as_array(sample_weight, "sample_weight", method)
        if sw.ndim == 2 and sw.shape[1] == 1:
            sw = sw[:, 0]
        if sw.ndim != 1:
            raise ValueError(f"{method}: argument `sample_weight` must have shape (samples,), received shape "
                             f"{sw.shape}")
        check_finite(sw, "sample_weight", method)
        if (sw < 0).any():
            raise ValueError(f"{method}: argument `sample_weight` must be non-negative, received a minimum of "
                             f"{sw.min():g}")
        return sw
    if class_weight is None:
        return None
    if not isinstance(class_weight, dict):
        raise ValueError(f"{method}: argument `class_weight` must be a dict {{class index: weight}}, received "
                         f"{type(class_weight).__name__}")
    if y.ndim > 1 and y.shape[-1] > 1:
        classes = np.argmax(y, axis=-1)
    else:
        classes = np.rint(y.reshape(len(y))).astype(np.int64)
    lookup = np.zeros(int(max(max(class_weight), classes.max())) + 1, dtype=backend.floatx())
    missing = sorted(set(np.unique(classes).tolist()) - {int(k) for k in class_weight})
    if missing:
        raise ValueError(f"{method}: argument `class_weight` has no weight for class(es) {missing} found in `y`; "
                         f"received keys {sorted(class_weight)}")
    for k, w in class_weight.items():
        lookup[int(k)] = w
    return lookup[classes]


def split_validation(arrays: list, validation_split: float, method: str) -> tuple[list, list]:
    """Keras's split: the LAST ``validation_split`` fraction of the samples (before any shuffling) validates."""
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"{method}: argument `validation_split` must be in [0, 1), received {validation_split!r}")
    n = len(arrays[0])
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"{method}: validation_split={validation_split} leaves an empty training or validation set with "
            f"{n} samples (training gets {split_at}, validation {n - split_at}); use a different split"
        )
    return ([None if a is None else a[:split_at] for a in arrays],
            [None if a is None else a[split_at:] for a in arrays])


def unpack_validation_data(validation_data, method: str) -> tuple:
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)``."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(f"{method}: argument `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"val_sample_weight), received {type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list))
                            else ""))
    x_val, y_val, *rest = validation_data
    return x_val, y_val, (rest[0] if rest else None)
