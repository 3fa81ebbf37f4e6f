"""``PyDataset`` (``keras.utils.PyDataset``, alias ``Sequence``): a dataset written in Python that hands out whole
batches by index, and ``prefetched``, the bounded queue that fit reads it through.

A PyDataset says how many batches it has (``__len__``) and makes batch ``i`` on demand (``__getitem__``), so fit
holds only the batches it is about to train on: never the dataset. With ``workers > 1`` (threads) or
``use_multiprocessing=True`` (processes) the next batches are made in parallel, at most ``max_queue_size`` of them
ahead of the one being trained on: memory stays O(batch × max_queue_size), however long the dataset is.
"""

from __future__ import annotations

import multiprocessing
import warnings
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

__all__ = ["PyDataset", "Sequence", "prefetched"]


class PyDataset:
    """Base class of a dataset that makes its batches in Python: define ``__len__`` (the number of batches) and
    ``__getitem__(index)`` (batch ``index`` as ``x``, ``(x, y)`` or ``(x, y, sample_weight)``); optionally
    ``on_epoch_begin``/``on_epoch_end`` (to reshuffle, say). fit asks only for indices ``0 … len - 1``.

    ``workers``, ``use_multiprocessing`` and ``max_queue_size`` say how fit reads it: with no worker, or one and no
    processes, batch by batch in the training thread; else in a pool of ``workers`` threads (or processes, which
    need a dataset that pickles), at most ``max_queue_size`` batches ahead. Iterating over the dataset yourself
    (``for x, y in dataset``) reads it in order, without workers, as in Keras.
    """

    def __init__(self, workers: int = 1, use_multiprocessing: bool = False, max_queue_size: int = 10):
        for name, value, least in (("workers", workers, 0), ("max_queue_size", max_queue_size, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or value < least:
                raise ValueError(f"PyDataset: argument `{name}` must be an integer of at least {least}, received "
                                 f"{value!r}")
        self.workers = workers
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = max_queue_size

    def __getitem__(self, index: int):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index): batch `index`")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__(): the number of batches")

    @property
    def num_batches(self) -> int | None:
        """The number of batches (``len(self)``); a dataset without ``__len__`` may return None: endless."""
        return len(self)

    def __iter__(self) -> Iterator:
        """The batches in order, ``self[0]`` to ``self[num_batches - 1]`` (endless when ``num_batches`` is None)."""
        count = self.num_batches
        index = 0
        while count is None or index < count:
            yield self[index]
            index += 1

    def on_epoch_begin(self) -> None:
        """Called by fit before each epoch."""

    def on_epoch_end(self) -> None:
        """Called by fit after each epoch (a place to reshuffle)."""


#: Keras 3's other name for PyDataset (``keras.utils.Sequence``).
Sequence = PyDataset


def settings(dataset) -> tuple[int, bool, int]:
    """(workers, use_multiprocessing, max_queue_size) of a PyDataset; Keras's defaults (1, False, 10), with Keras's
    warning, for a subclass whose ``__init__`` did not call ``super().__init__()``."""
    if not all(hasattr(dataset, name) for name in ("workers", "use_multiprocessing", "max_queue_size")):
        warnings.warn("Your `PyDataset` class should call `super().__init__(**kwargs)` in its constructor. "
                      "`**kwargs` can include `workers`, `use_multiprocessing`, `max_queue_size`. Do not pass these "
                      "arguments to `fit()`, as they will be ignored.", stacklevel=3)
    return (getattr(dataset, "workers", 1), getattr(dataset, "use_multiprocessing", False),
            getattr(dataset, "max_queue_size", 10))


def prefetched(dataset, indices: Iterable[int]) -> Iterator:
    """``dataset[i]`` for each of ``indices`` in order. In parallel when the dataset asks for it (``settings``): at
    most ``max_queue_size`` batches are made ahead of the one handed out, so memory is bounded by the queue. Closing
    the iterator early (fit stopped, an error) cancels the batches not started and shuts the pool down."""
    workers, use_processes, queue_size = settings(dataset)
    if workers == 0 or (workers == 1 and not use_processes):
        for i in indices:
            yield dataset[i]
        return
    with _pool(dataset, workers, use_processes) as pool:
        fetch = _item_in_worker if use_processes else dataset.__getitem__
        pending: deque = deque()
        try:
            for i in indices:
                pending.append(pool.submit(fetch, i))
                if len(pending) >= queue_size:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        finally:
            for future in pending:
                future.cancel()


def _pool(dataset, workers: int, use_processes: bool) -> Executor:
    """A pool of threads sharing ``dataset``, or of processes each holding a copy (pickled once per worker, made
    afresh for each pass so that changes made by ``on_epoch_end`` reach them, as in Keras)."""
    if not use_processes:
        return ThreadPoolExecutor(max_workers=workers, thread_name_prefix="glassnet-pydataset")
    return ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(),
                               initializer=_hold_in_worker, initargs=(dataset,))


_worker_dataset = None  # a worker process's copy of the dataset


def _hold_in_worker(dataset) -> None:
    global _worker_dataset
    _worker_dataset = dataset


def _item_in_worker(index: int):
    return _worker_dataset[index]
