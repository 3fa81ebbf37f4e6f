"""Data adapters: what fit, evaluate and predict iterate over, as in Keras (``keras/src/trainers/data_adapters/``).

A ``DataAdapter`` holds one dataset and hands out its batches, ``(x, y, sample_weight)`` (y and sample_weight None
where there are none), epoch after epoch; the training loop asks it for batches, never for indices.
``ArrayDataAdapter`` serves arrays held in memory; generators and ``PyDataset`` are other adapters with the same
interface. The data decisions made before the first batch live here too, each in one function: how an input is
stored (``store_inputs``), per-sample weights from ``class_weight`` (``sample_weights``) and the validation split
(``train_validation_split``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from glassnet import backend
from glassnet.kernels.sparse import SparseRows
from glassnet.layers import Dense, InputLayer
from glassnet.models import data


class DataAdapter:
    """What the training loop needs from a dataset: the batches of one epoch, and how many there are."""

    #: Rows per slice when x comes as BatchRows, to be trained on a slice at a time (models/slicing.py); else None.
    slice_rows: int | None = None

    @property
    def num_batches(self) -> int:
        """Batches in one epoch."""
        raise NotImplementedError(f"{type(self).__name__} must define num_batches")

    @property
    def batch_size(self) -> int:
        """Samples in a full batch (the last batch of an epoch may be shorter)."""
        raise NotImplementedError(f"{type(self).__name__} must define batch_size")

    def get_epoch_iterator(self) -> Iterator[tuple]:
        """The batches of one epoch, each ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_epoch_iterator")

    def on_epoch_end(self) -> None:
        """Called after every complete epoch (where a PyDataset shuffles its files); arrays need nothing."""

    def epoch(self) -> Iterator[tuple[int, tuple]]:
        """``(step, (x, y, sample_weight))`` for each batch of one epoch, then ``on_epoch_end``."""
        yield from enumerate(self.get_epoch_iterator())
        self.on_epoch_end()


class ArrayDataAdapter(DataAdapter):
    """Batches of arrays already checked: ``x`` (an ndarray, or SparseRows), ``y`` and per-sample weights (or None).

    Without shuffling a batch is a view of the arrays. With it, each epoch follows ``rng.permutation(n)`` from a
    generator drawn from glassnet's global one when the adapter is made (``glassnet.utils.set_random_seed(s)``
    makes the order reproducible), and a batch is gathered into buffers reused from batch to batch, so no epoch
    copies the dataset. With ``slice_rows`` (batch slicing, models/slicing.py) x comes as ``BatchRows``, gathered
    a slice at a time by the step that trains on it. ``steps`` keeps only the first batches of each epoch.
    """

    def __init__(self, x: np.ndarray | SparseRows, y: np.ndarray | None = None,
                 sample_weight: np.ndarray | None = None, batch_size: int = 32, steps: int | None = None,
                 shuffle: bool = False, slice_rows: int | None = None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.slice_rows = slice_rows
        self._size = len(x)
        self._batch_size = batch_size
        batches = math.ceil(self._size / batch_size)
        self._num_batches = batches if steps is None else min(int(steps), batches)
        self._rng = backend.make_rng() if shuffle else None
        rows = min(batch_size, self._size)
        self._x_buffer = _buffer(x, slice_rows or rows) if shuffle else None
        self._y_buffer = _buffer(y, rows) if shuffle else None
        self._sw_buffer = _buffer(sample_weight, rows) if shuffle else None

    @property
    def num_batches(self) -> int:
        return self._num_batches

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def get_epoch_iterator(self) -> Iterator[tuple]:
        order = None if self._rng is None else self._rng.permutation(self._size)
        for start in range(0, self._num_batches * self._batch_size, self._batch_size):
            stop = min(start + self._batch_size, self._size)
            if self.slice_rows is not None:
                x = BatchRows(self.x, order, start, stop, self._x_buffer)
            elif order is None:
                x = self.x[start:stop]
            else:
                x = _gather(self.x, order[start:stop], self._x_buffer)
            if order is None:
                yield x, _rows(self.y, start, stop), _rows(self.sample_weight, start, stop)
            else:
                index = order[start:stop]
                yield x, _gather(self.y, index, self._y_buffer), _gather(self.sample_weight, index, self._sw_buffer)


class BatchRows:
    """One batch of x whose rows are gathered only when asked for: ``rows(a, b)`` is rows a..b of the batch, a view
    when the batch is a contiguous range (no shuffle), else gathered into the adapter's reused buffer. Batch slicing
    takes a big batch this way, one slice at a time, so that each slice is still in cache for its backward pass."""

    def __init__(self, x: np.ndarray | SparseRows, order: np.ndarray | None, start: int, stop: int,
                 buffer: np.ndarray | None):
        self.x, self.order, self.start, self.stop, self.buffer = x, order, start, stop, buffer

    def __len__(self) -> int:
        return self.stop - self.start

    def rows(self, a: int, b: int) -> np.ndarray | SparseRows:
        if self.order is None:
            return self.x[self.start + a:self.start + b]
        return _gather(self.x, self.order[self.start + a:self.start + b], self.buffer)


def _gather(array: np.ndarray | SparseRows | None, index: np.ndarray, buffer: np.ndarray | None):
    """Rows ``index`` of ``array`` copied into ``buffer`` (SparseRows gather their nonzeros into arrays of their
    own; None stays None)."""
    if array is None:
        return None
    if buffer is None:
        return array.take(index)
    # mode="clip": the indices are a permutation, always valid; with mode="raise" NumPy buffers `out` and copies
    # every batch twice (3x slower on IMDB's 20 MB batches)
    return np.take(array, index, axis=0, out=buffer[:len(index)], mode="clip")


def _buffer(array: np.ndarray | SparseRows | None, rows: int) -> np.ndarray | None:
    """An empty array for ``rows`` rows of ``array``; None for SparseRows (which gather into arrays of their own)
    and for None."""
    return np.empty((rows, *array.shape[1:]), dtype=array.dtype) if isinstance(array, np.ndarray) else None


def _rows(array: np.ndarray | None, start: int, stop: int) -> np.ndarray | None:
    return None if array is None else array[start:stop]


def store_inputs(x: np.ndarray, layers: list) -> np.ndarray | SparseRows:
    """How ``x`` is held for a model whose layers (InputLayer first, when it has one) are ``layers``: as SparseRows
    when it is large and mostly zeros (``data.sparse_rows``) and the first layer is glassnet's own Dense, whose
    only use of them is X·W (and Xᵀ·dZ in backward), with no layer casting them to another dtype on the way; else
    as it is. Building SparseRows checks every value finite, so only a dense x needs data.check_finite."""
    if not keeps_dense(x):  # the cheap test first: most inputs are small
        first = next((layer for layer in layers if not isinstance(layer, InputLayer)), None)
        if type(first) is Dense and all(np.dtype(layer.dtype) == x.dtype for layer in (layers[0], first)):
            rows = data.sparse_rows(x)
            if rows is not None:
                return rows
    return x


def keeps_dense(x: np.ndarray) -> bool:
    """Whether store_inputs holds every input of x's shape and dtype as it is: one too small to gain from
    SparseRows."""
    return x.nbytes < data.SPARSE_MIN_BYTES


def sample_weights(y: np.ndarray, sample_weight, class_weight, method: str) -> np.ndarray | None:
    """One float weight per sample from ``sample_weight`` or from ``class_weight`` (class index → weight)."""
    if sample_weight is not None and class_weight is not None:
        raise ValueError(f"{method}: you cannot pass `class_weight` and `sample_weight` at the same time.")
    if sample_weight is not None:
        sw = data.as_array(sample_weight, "sample_weight", method)
        if sw.ndim == 2 and sw.shape[1] == 1:
            sw = sw[:, 0]
        if sw.ndim != 1:
            raise ValueError(f"{method}: argument `sample_weight` must have shape (samples,), received shape "
                             f"{sw.shape}")
        data.check_finite(sw, "sample_weight", method)
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


def train_validation_split(arrays: tuple, validation_split: float, method: str) -> tuple[tuple, tuple]:
    """Keras's split of ``(x, y, sample_weight)``: the LAST ``validation_split`` fraction of the samples (before
    any shuffling) validates. x and y are converted to arrays first (sample_weight may be None)."""
    x, y, sample_weight = data.as_array(arrays[0], "x", method), data.as_array(arrays[1], "y", method), arrays[2]
    n = data.check_lengths(method, x=x, y=y, sample_weight=sample_weight)
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"{method}: argument `validation_split` must be in [0, 1), received {validation_split!r}")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"{method}: validation_split={validation_split} leaves an empty training or validation set with "
            f"{n} samples (training gets {split_at}, validation {n - split_at}); use a different split"
        )
    parts = [x, y, sample_weight]
    return (tuple(None if a is None else a[:split_at] for a in parts),
            tuple(None if a is None else a[split_at:] for a in parts))


def unpack_validation_data(validation_data, method: str) -> tuple:
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` as three items (the last may be None)."""
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(f"{method}: argument `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"val_sample_weight), received {type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list))
                            else ""))
    x_val, y_val, *rest = validation_data
    return x_val, y_val, (rest[0] if rest else None)
