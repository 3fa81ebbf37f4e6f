"""``split_dataset``: arrays (or a list/tuple/dict of arrays of one length) cut into a left and a right part, with
Keras 3's rules for ``left_size``/``right_size`` (a fraction, a number of samples, or None for the rest).

As Keras's reference (tf.data) version: the left part is the first ``left_size`` samples, the right part the last
``right_size`` (so with sizes summing to less than the whole, the middle is left out), after an optional shuffle of
the samples by Python's ``random`` with ``seed`` (the same order Keras's ``random.seed(seed); random.shuffle``
gives). Keras on torch returns ``random_split`` Subsets, shuffled even without ``shuffle``.
"""

from __future__ import annotations

import random

import numpy as np

from glassnet.backend import make_rng

__all__ = ["split_dataset"]


def split_dataset(dataset, left_size=None, right_size=None, shuffle: bool = False, seed=None):
    """(left, right): the samples of ``dataset`` split in two, in the structure given (an array, or a list/tuple/dict
    of arrays cut alike): the first ``left_size`` and the last ``right_size`` samples, after a shuffle with ``seed``
    if asked. Keras returns datasets of samples; glassnet returns the arrays themselves, ready for ``fit``."""
    parts = dataset.values() if isinstance(dataset, dict) else dataset if isinstance(dataset, (list, tuple)) else [
        dataset]
    arrays = [np.asarray(a) for a in parts]
    if not arrays or any(a.ndim == 0 for a in arrays):
        raise TypeError("The `dataset` argument must be an array, or a list/tuple/dict of arrays with the same "
                        f"length. Received: dataset={dataset!r:.100} of type {type(dataset)}")
    lengths = {len(a) for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"The arrays of `dataset` must have the same length; received lengths "
                         f"{[len(a) for a in arrays]}")
    total = lengths.pop()
    left, right = split_sizes(left_size, right_size, total)
    order = None
    if shuffle:
        order = list(range(total))
        random.Random(int(make_rng().integers(1_000_000)) if seed is None else seed).shuffle(order)
        order = np.array(order)

    def cut(array: np.ndarray, start: int, stop: int) -> np.ndarray:
        return array[start:stop] if order is None else array[order[start:stop]]

    def build(start: int, stop: int):
        pieces = [cut(a, start, stop) for a in arrays]
        if isinstance(dataset, dict):
            return dict(zip(dataset, pieces))
        return type(dataset)(pieces) if isinstance(dataset, (list, tuple)) else pieces[0]

    return build(0, left), build(total - right, total)


def split_sizes(left_size, right_size, total: int) -> tuple[int, int]:
    """Keras's ``left_size``/``right_size`` as numbers of samples (checks and messages as Keras 3's)."""
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be specified. Received: "
                         "left_size=None and right_size=None")
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and type(size) not in (int, float):
            raise TypeError(f"Invalid `{name}` Type. Expected: int or float or None, Received: "
                            f"type({name})={type(size)}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the split sizes must be "
                         "non-zero.")
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if (type(size) is int and not 0 < size < total) or (type(size) is float and not 0 < size < 1):
            raise ValueError(f"`{name}` should be either a positive integer smaller than {total}, or a float "
                             f"within the range `[0, 1]`. Received: {name}={size}")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It must be less than or equal "
                         "to 1.")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total:
        raise ValueError(f"The sum of `left_size` and `right_size` should be smaller than the {total}. Received: "
                         f"left_size + right_size = {left + right}and total_length = {total}")
    for size, side in ((left, "left"), (right, "right")):
        if size == 0:
            raise ValueError(f"With `dataset` of length={total}, `left_size`={left} and `right_size`={right}."
                             f"Resulting {side} side dataset split will be empty. Adjust any of the aforementioned "
                             "parameters")
    return int(left), int(right)
