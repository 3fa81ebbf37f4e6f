"""Data adapters: what fit, evaluate and predict iterate over, as in Keras (``keras/src/trainers/data_adapters/``).

A ``DataAdapter`` holds one dataset and hands out its batches, ``(x, y, sample_weight)`` (y and sample_weight None
where there are none), epoch after epoch; the training loop asks it for batches, never for indices. x and y are
the user's structure: one array, or a list/tuple/dict of arrays for a model of several inputs or outputs.

- ``ArrayDataAdapter`` serves arrays held in memory (a batch is a view, or rows gathered into reused buffers).
- ``PyDatasetAdapter`` serves a ``glassnet.utils.PyDataset``: indices 0 … len − 1 only, read through the bounded
  prefetch queue of ``utils.py_dataset.prefetched`` (threads or processes, as the dataset asks).
- ``GeneratorAdapter`` serves a Python generator or any other iterable of batches, one batch at a time.

The two loader adapters hold O(batch × max_queue_size) of data, never the dataset; each batch they read is checked
against the first (same structure, shapes but for the batch axis, and dtypes: else an error naming both batches)
and then converted by the trainer's own checks (models/data.py), exactly as an array batch is. The data decisions
made before the first batch live here too, each in one function: how an input is stored (``store_inputs``),
per-sample weights from ``class_weight`` (``sample_weights``) and the validation split (``train_validation_split``).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Iterator

import numpy as np

from glassnet import backend
from glassnet.kernels.sparse import SparseRows
from glassnet.layers import Dense, InputLayer
from glassnet.models import data
from glassnet.utils.py_dataset import PyDataset, prefetched

#: Keras's warning when a loader has fewer batches than steps_per_epoch asks for.
RAN_OUT = ("Your input ran out of data; interrupting training. Make sure that your dataset or generator can generate "
           "at least `steps_per_epoch * epochs` batches.")


class DataAdapter:
    """What the training loop needs from a dataset: the batches of one epoch, and how many there are."""

    #: Rows per slice when x comes as BatchRows, to be trained on a slice at a time (models/slicing.py); else None.
    slice_rows: int | None = None
    #: Set when an epoch found no batch left (a generator already used up): fit then ends, as Keras's "ran out".
    ran_out: bool = False

    @property
    def num_batches(self) -> int | None:
        """Batches in one epoch (None: not known until a generator is used up)."""
        raise NotImplementedError(f"{type(self).__name__} must define num_batches")

    @property
    def batch_size(self) -> int | None:
        """Samples in a full batch (the last batch of an epoch may be shorter); None when the loader decides."""
        raise NotImplementedError(f"{type(self).__name__} must define batch_size")

    def get_epoch_iterator(self) -> Iterator[tuple]:
        """The batches of one epoch, each ``(x, y, sample_weight)``."""
        raise NotImplementedError(f"{type(self).__name__} must define get_epoch_iterator")

    def on_epoch_begin(self) -> None:
        """Called before every epoch; arrays need nothing."""

    def on_epoch_end(self) -> None:
        """Called after every complete epoch (where a PyDataset shuffles its files); arrays need nothing."""

    def epoch(self) -> Iterator[tuple[int, tuple]]:
        """``(step, (x, y, sample_weight))`` for each batch of one epoch, between ``on_epoch_begin`` and
        ``on_epoch_end``."""
        self.on_epoch_begin()
        yield from enumerate(self.get_epoch_iterator())
        self.on_epoch_end()


class ArrayDataAdapter(DataAdapter):
    """Batches of arrays already checked: ``x`` (an ndarray, SparseRows, or a structure of ndarrays), ``y`` (an array
    or a structure) and per-sample weights (or None).

    Without shuffling a batch is a view of the arrays. With it, each epoch follows ``rng.permutation(n)`` from a
    generator drawn from glassnet's global one when the adapter is made (``glassnet.utils.set_random_seed(s)``
    makes the order reproducible), and a batch of single arrays is gathered into buffers reused from batch to
    batch, so no epoch copies the dataset (a structure's leaves are gathered each into an array of its own). With
    ``slice_rows`` (batch slicing, models/slicing.py) x comes as ``BatchRows``, gathered a slice at a time by the
    step that trains on it. ``steps`` keeps only the first batches of each epoch.
    """

    def __init__(self, x, y=None, sample_weight: np.ndarray | None = None, batch_size: int = 32,
                 steps: int | None = None, shuffle: bool = False, slice_rows: int | None = None):
        self.x, self.y, self.sample_weight = x, y, sample_weight
        self.slice_rows = slice_rows
        self._structured = data.is_structure(x) or data.is_structure(y)
        self._size = data.batch_length(x)
        self._batch_size = batch_size
        batches = math.ceil(self._size / batch_size)
        self._num_batches = batches if steps is None else min(int(steps), batches)
        self._rng = backend.make_rng() if shuffle else None
        rows = min(batch_size, self._size)
        buffers = shuffle and not self._structured
        self._x_buffer = _buffer(x, slice_rows or rows) if buffers else None
        self._y_buffer = _buffer(y, rows) if buffers else None
        self._sw_buffer = _buffer(sample_weight, rows) if buffers else None

    @property
    def num_batches(self) -> int:
        return self._num_batches

    @property
    def batch_size(self) -> int:
        return self._batch_size

    def get_epoch_iterator(self) -> Iterator[tuple]:
        order = None if self._rng is None else self._rng.permutation(self._size)
        if self._structured:
            yield from self._structured_batches(order)
            return
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

    def _structured_batches(self, order: np.ndarray | None) -> Iterator[tuple]:
        """The batches when x or y is a structure: each leaf cut (or gathered) alike, in the user's structure."""
        for start in range(0, self._num_batches * self._batch_size, self._batch_size):
            stop = min(start + self._batch_size, self._size)
            rows = slice(start, stop) if order is None else order[start:stop]
            yield tuple(data.map_structure(lambda array, _name, rows=rows: array[rows], part, "x")
                        for part in (self.x, self.y, self.sample_weight))


class LoaderAdapter(DataAdapter):
    """Batches read from a Python loader, one pass after another. Keras's rules for ``steps``: without it an epoch
    is one whole pass; with it an epoch is the next ``steps`` batches, a pass continuing from epoch to epoch (a
    PyDataset restarts after its last batch); a loader that runs out first ends the epoch with Keras's warning.

    Each raw batch becomes ``(x, y, sample_weight)`` (``standardize``), is compared with the first batch, and
    goes through ``prepare``, the trainer's checks and conversions. The first batch is read when the adapter is
    made, so bad data fails before any training step, and handed out again as the first of the first epoch."""

    #: How the error messages call the loader.
    kind = "loader"

    def __init__(self, prepare: Callable, steps: int | None, method: str, count: int | None = None):
        self.prepare, self.steps, self.method = prepare, steps, method
        self._count = count  # batches in one pass, when known
        self._iterator: Iterator | None = None
        self._seen = 0  # batches read from the current pass
        self._first: tuple | None = None  # the first batch's index and (name, shape, dtype) of every array
        self._first_kind: tuple | None = None  # and its _kind
        self._peeked = self._read()
        if self._peeked is None:
            raise ValueError(self.empty_message())

    @property
    def num_batches(self) -> int | None:
        return self.steps if self.steps is not None else self._count

    @property
    def batch_size(self) -> None:
        return None

    def new_pass(self) -> Iterator:
        """An iterator over the raw batches of one pass."""
        raise NotImplementedError(f"{type(self).__name__} must define new_pass")

    def standardize(self, batch) -> tuple:
        """``(x, y, sample_weight)`` from what the loader yielded."""
        raise NotImplementedError(f"{type(self).__name__} must define standardize")

    def empty_message(self) -> str:
        raise NotImplementedError(f"{type(self).__name__} must define empty_message")

    def _read(self) -> tuple | None:
        """The next batch of the current pass (a new pass if none is under way), checked and prepared; None when
        the pass is over (then the next read starts a new one)."""
        if self._iterator is None:
            self._iterator, self._seen = self.new_pass(), 0
        if self._count is not None and self._seen >= self._count:
            self._iterator = None
            return None
        try:
            raw = next(self._iterator)
        except StopIteration:
            self._count, self._iterator = self._seen, None
            return None
        index = self._seen
        self._seen += 1
        x, y, sw = self.standardize(raw)
        self._check_like_first(index, x, y, sw)
        return self.prepare(x, y, sw)

    def get_epoch_iterator(self) -> Iterator[tuple]:
        step, self.ran_out = 0, False
        if self._peeked is not None:
            batch, self._peeked = self._peeked, None
            yield batch
            step = 1
        while self.steps is None or step < self.steps:
            batch = self._read()
            if batch is None:
                self.ran_out = step == 0
                if self.steps is not None or self.ran_out:
                    warnings.warn(RAN_OUT, stacklevel=2)
                return
            yield batch
            step += 1

    def _check_like_first(self, index: int, x, y, sw) -> None:
        """Every batch has the first batch's structure, shapes (but for the batch axis) and dtypes. Batches of
        plain arrays like the first are told by one comparison; others are described leaf by leaf."""
        kind = _kind(x, y, sw)
        if self._first is not None and kind is not None and kind == self._first_kind:
            return
        described = [(name, *_shape_and_dtype(a)) for part, arg in ((x, "x"), (y, "y"), (sw, "sample_weight"))
                     for name, a in data.leaves(part, arg).items()]
        if self._first is None:
            self._first, self._first_kind = (index, described), kind
            return
        first_index, first = self._first
        names, first_names = [d[0] for d in described], [d[0] for d in first]
        if names != first_names:
            raise ValueError(f"{self.method}: batch {index} from the {self.kind} holds {names}, but batch "
                             f"{first_index} held {first_names}; every batch must have the same structure")
        for (name, shape, dtype), (_, first_shape, first_dtype) in zip(described, first):
            if shape is not None and first_shape is not None and (shape[1:] != first_shape[1:] or dtype != first_dtype):
                raise ValueError(
                    f"{self.method}: batch {index} from the {self.kind} has `{name}` of shape {shape} and dtype "
                    f"{dtype}, but batch {first_index} had shape {first_shape} and dtype {first_dtype}; every batch "
                    "must have the same shape (but for its first, batch, axis) and dtype")


class PyDatasetAdapter(LoaderAdapter):
    """Batches of a PyDataset: ``dataset[i]`` for i in 0 … len − 1 (shuffled each pass with ``shuffle``, from
    glassnet's global generator), never past its length, through the dataset's prefetch queue."""

    kind = "PyDataset"

    def __init__(self, dataset: PyDataset, prepare: Callable, steps: int | None, shuffle: bool, method: str):
        self.dataset = dataset
        count = dataset.num_batches
        if count is None and shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as an "
                          "infinite PyDataset. The PyDataset is expected to already be shuffled.", stacklevel=4)
        self._rng = backend.make_rng() if shuffle and count is not None else None
        super().__init__(prepare, steps, method, count)

    def new_pass(self) -> Iterator:
        count = self.dataset.num_batches
        if count is None:
            indices: Iterable[int] = _count_up()
        elif self._rng is not None:
            indices = self._rng.permutation(count).tolist()
        else:
            indices = range(count)
        return prefetched(self.dataset, indices)

    def standardize(self, batch) -> tuple:
        if isinstance(batch, dict) or isinstance(batch, np.ndarray):
            return batch, None, None
        if isinstance(batch, list):
            batch = tuple(batch)
        if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
            raise ValueError("PyDataset.__getitem__() must return a tuple or a dict. If a tuple, it must be ordered "
                             "either (input,) or (inputs, targets) or (inputs, targets, sample_weights). Received: "
                             f"{str(batch)[:100]}... of type {type(batch)}")
        return (*batch, *(None,) * (3 - len(batch)))

    def empty_message(self) -> str:
        return "The PyDataset has length 0"

    def on_epoch_begin(self) -> None:
        self.dataset.on_epoch_begin()

    def on_epoch_end(self) -> None:
        self.dataset.on_epoch_end()


class GeneratorAdapter(LoaderAdapter):
    """Batches of a generator (one pass in all: a used-up generator ends fit) or of another iterable (a new pass
    each time: ``iter(loader)`` again)."""

    kind = "generator"

    def __init__(self, loader: Iterable, prepare: Callable, steps: int | None, method: str):
        self.loader = loader
        super().__init__(prepare, steps, method)

    def new_pass(self) -> Iterator:
        return iter(self.loader)

    def standardize(self, batch) -> tuple:
        if not isinstance(batch, tuple) or len(batch) not in (1, 2, 3):
            raise ValueError("When passing a Python generator to a Keras model, the generator must return a tuple, "
                             "either (input,) or (inputs, targets) or (inputs, targets, sample_weights). Received: "
                             f"{str(batch)[:100]}")
        return (*batch, *(None,) * (3 - len(batch)))

    def empty_message(self) -> str:
        return ("When passing a Python generator to a Keras model, the generator must yield at least one batch. "
                "Received an empty generator.")


def _kind(x, y, sw) -> tuple | None:
    """What a batch of plain arrays must share with the first: each array's shape but for the batch axis and its
    dtype (None for a batch of structures or of other kinds of arrays)."""
    if type(x) is not np.ndarray or not (y is None or type(y) is np.ndarray) or not (sw is None or
                                                                                   type(sw) is np.ndarray):
        return None
    return (x.shape[1:], x.dtype, None if y is None else (y.shape[1:], y.dtype),
            None if sw is None else (sw.shape[1:], sw.dtype))


def _shape_and_dtype(array) -> tuple:
    """(shape, dtype) of one array of a batch, as NumPy reads it ((None, None) for None, and for a leaf NumPy
    cannot read: the trainer's checks name it)."""
    if array is None:
        return None, None
    if not (hasattr(array, "shape") and hasattr(array, "dtype")):
        try:
            array = np.asarray(array)
        except ValueError:
            return None, None
    return tuple(array.shape), array.dtype


def _count_up() -> Iterator[int]:
    index = 0
    while True:
        yield index
        index += 1


def is_loader(x) -> bool:
    """Whether ``x`` is a loader of batches (a PyDataset, a generator or another iterable) rather than arrays."""
    if isinstance(x, PyDataset):
        return True
    return (hasattr(x, "__iter__") and not isinstance(x, (np.ndarray, SparseRows, list, tuple, dict, str, bytes))
            and not hasattr(x, "__array__") and not hasattr(x, "shape"))


def loader_adapter(x, y, sample_weight, class_weight, prepare: Callable, steps: int | None, shuffle: bool,
                   method: str) -> LoaderAdapter:
    """The adapter of a loader, after Keras's checks of the arguments a loader cannot take."""
    kind = "PyDataset" if isinstance(x, PyDataset) else "generator"
    for value, arg, what in ((y, "y", "the targets"), (sample_weight, "sample_weights", "the sample weights")):
        if value is not None:
            raise ValueError(f"When providing `x` as a {kind}, `{arg}` should not be passed. Instead, {what} should "
                             f"be included as part of the {kind}.")
    if kind == "generator" and class_weight is not None:
        raise ValueError(f"Argument `class_weight` is not supported for Python generator inputs. Received: "
                         f"class_weight={class_weight}")
    if steps is not None and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1):
        raise ValueError(f"{method}: the number of steps must be a positive integer or None, received {steps!r}")
    if kind == "generator":
        if shuffle:
            warnings.warn("`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
                          "generator. The generator is expected to yield already-shuffled data.", stacklevel=3)
        return GeneratorAdapter(x, prepare, steps, method)
    return PyDatasetAdapter(x, prepare, steps, shuffle, method)


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
    any shuffling) validates, each array of a structure cut alike. x and y are converted to arrays first
    (sample_weight may be None); a loader cannot be split (Keras's message)."""
    if is_loader(arrays[0]):
        raise ValueError("Argument `validation_split` is only supported for tensors or NumPy arrays.Found "
                         f"incompatible type in the input: [{type(arrays[0])}]")
    x, y = (data.map_structure(lambda a, name: data.as_array(a, name, method), part, arg)
            for part, arg in ((arrays[0], "x"), (arrays[1], "y")))
    sample_weight = arrays[2]
    n = data.check_lengths(method, **data.leaves(x, "x"), **data.leaves(y, "y"), sample_weight=sample_weight)
    if not 0.0 < validation_split < 1.0:
        raise ValueError(f"{method}: argument `validation_split` must be in [0, 1), received {validation_split!r}")
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"{method}: validation_split={validation_split} leaves an empty training or validation set with "
            f"{n} samples (training gets {split_at}, validation {n - split_at}); use a different split"
        )
    parts = [x, y, sample_weight]
    return (tuple(data.map_structure(lambda a, _name: a[:split_at], part, "x") for part in parts),
            tuple(data.map_structure(lambda a, _name: a[split_at:], part, "x") for part in parts))


def unpack_validation_data(validation_data, method: str) -> tuple:
    """``(x_val, y_val)`` or ``(x_val, y_val, sample_weight_val)`` as three items (the last may be None); a loader
    (PyDataset, generator) as ``(loader, None, None)``."""
    if is_loader(validation_data):
        return validation_data, None, None
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(f"{method}: argument `validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
                         f"val_sample_weight), or a PyDataset or generator of batches; received "
                         f"{type(validation_data).__name__}"
                         + (f" of length {len(validation_data)}" if isinstance(validation_data, (tuple, list))
                            else ""))
    x_val, y_val, *rest = validation_data
    return x_val, y_val, (rest[0] if rest else None)
