"""Array helpers of the course's notebooks: one-hot and multi-hot encoding, normalization, splits and K-fold.

Two normalizations, two names: ``normalize`` keeps Keras's meaning (``keras.utils.normalize``: scale each row to
unit Lp norm, L2 by default), and ``standardize`` is the book's feature-wise normalization (subtract the training
mean, divide by the training standard deviation, per feature).
"""

from __future__ import annotations

import numbers
from collections.abc import Iterator, Sequence

import numpy as np

from glassnet.backend import make_rng, set_random_seed, to_array

__all__ = ["k_fold", "multi_hot", "normalize", "set_random_seed", "standardize", "to_categorical",
           "train_test_split"]


def to_categorical(x, num_classes: int | None = None) -> np.ndarray:
    """One-hot encode integer class labels ``x``, like ``keras.utils.to_categorical``: float32 of shape
    ``x.shape + (num_classes,)`` (a trailing axis of size 1 is dropped first); ``num_classes`` defaults to
    ``max(x) + 1``."""
    labels = np.asarray(x)
    if labels.dtype.kind == "f" and not np.all(labels == np.round(labels)):
        raise ValueError("to_categorical expects integer class labels, received non-integer values")
    labels = labels.astype(np.int64)
    shape = labels.shape[:-1] if labels.ndim > 1 and labels.shape[-1] == 1 else labels.shape
    labels = labels.reshape(-1)
    if not num_classes:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"to_categorical expects labels in [0, {num_classes}), received values from "
                         f"{labels.min()} to {labels.max()}")
    one_hot = np.zeros((labels.size, num_classes), dtype=np.float32)
    one_hot[np.arange(labels.size), labels] = 1.0
    return one_hot.reshape(shape + (num_classes,))


def multi_hot(sequences: Sequence[Sequence[int]], num_tokens: int) -> np.ndarray:
    """The book's ``vectorize_sequences``: row i has 1.0 at every index that occurs in ``sequences[i]``.

    Built in one scatter: row numbers repeated by sequence length, column numbers concatenated. float32
    ``(len(sequences), num_tokens)``.
    """
    arrays = [np.asarray(s, dtype=np.int64).reshape(-1) for s in sequences]
    lengths = np.array([a.size for a in arrays], dtype=np.int64)
    columns = np.concatenate(arrays) if arrays else np.zeros(0, dtype=np.int64)
    if columns.size and (columns.min() < 0 or columns.max() >= num_tokens):
        raise ValueError(f"multi_hot expects token indices in [0, {num_tokens}), received values from "
                         f"{columns.min()} to {columns.max()}; raise num_tokens or load with num_words={num_tokens}")
    result = np.zeros((len(arrays), num_tokens), dtype=np.float32)
    result[np.repeat(np.arange(len(arrays)), lengths), columns] = 1.0
    return result


def normalize(x, axis: int = -1, order: int = 2) -> np.ndarray:
    """Keras's ``keras.utils.normalize``: divide each slice along ``axis`` by its Lp norm (L2 by default);
    all-zero slices stay zero. For the book's feature-wise normalization use :func:`standardize`."""
    x = to_array(x, name="x")
    norm = np.atleast_1d(np.linalg.norm(x, order, axis))
    norm[norm == 0] = 1
    return x / np.expand_dims(norm, axis)


def standardize(x, mean=None, std=None, axis: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Feature-wise normalization as the book does it: ``(x - mean) / std`` with the statistics along ``axis``.

    Without ``mean``/``std`` they are computed from ``x`` (the training data); pass the training ones to normalize
    test data with them. Returns ``(normalized x, mean, std)``. A constant feature (std 0) is only centred.
    """
    x = to_array(x, name="x")
    mean = x.mean(axis=axis) if mean is None else np.asarray(mean, dtype=x.dtype)
    std = x.std(axis=axis) if std is None else np.asarray(std, dtype=x.dtype)
    mean_b, std_b = np.expand_dims(mean, axis), np.expand_dims(std, axis)
    return (x - mean_b) / np.where(std_b == 0, 1, std_b), mean, std


def train_test_split(x, y, test_size: float | int = 0.2, shuffle: bool = True, seed=None):
    """Split ``x`` and ``y`` (same length) into ``x_train, x_test, y_train, y_test`` (scikit-learn's order).

    ``test_size`` is a fraction in (0, 1) (rounded up to whole samples) or a number of samples; the test set is
    the last part after an optional seeded shuffle.
    """
    n = len(x)
    if len(y) != n:
        raise ValueError(f"x and y must have the same length, received {n} and {len(y)}")
    if isinstance(test_size, numbers.Integral):
        n_test = int(test_size)
    elif 0 < test_size < 1:
        n_test = int(np.ceil(test_size * n))
    else:
        raise ValueError(f"test_size must be a fraction in (0, 1) or a number of samples, received {test_size!r}")
    if not 0 < n_test < n:
        raise ValueError(f"test_size={test_size!r} leaves {n_test} of {n} samples for testing; need 1 to {n - 1}")
    order = make_rng(seed).permutation(n) if shuffle else np.arange(n)
    train, test = order[: n - n_test], order[n - n_test:]
    x, y = np.asarray(x), np.asarray(y)
    return x[train], x[test], y[train], y[test]


def k_fold(x, k: int = 4, shuffle: bool = False, seed=None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """The book's K-fold validation: yields ``(train_idx, val_idx)`` for fold i = 0..k-1.

    ``x`` is the number of samples or the data. With ``m = n // k``, fold i validates on samples
    ``[i·m, (i+1)·m)`` and trains on all the others (the ``n % k`` samples left over are always trained on).
    ``shuffle`` permutes the sample order first, with ``seed``.
    """
    n = int(x) if isinstance(x, numbers.Integral) else len(x)
    if not isinstance(k, numbers.Integral) or not 2 <= k <= n:
        raise ValueError(f"k_fold expects an integer k with 2 <= k <= {n} (the number of samples), received k={k!r}")
    order = make_rng(seed).permutation(n) if shuffle else np.arange(n)
    fold = n // k
    for i in range(k):
        val = order[i * fold:(i + 1) * fold]
        train = np.concatenate([order[: i * fold], order[(i + 1) * fold:]])
        yield train, val
