"""Sequence data: ``pad_sequences`` (lists of token ids to one rectangular array) and
``timeseries_dataset_from_array`` (sliding windows over a series, gathered a batch at a time), as in Keras 3."""

from __future__ import annotations

import math

import numpy as np

from glassnet.backend import make_rng
from glassnet.utils.py_dataset import PyDataset

__all__ = ["TimeseriesDataset", "pad_sequences", "timeseries_dataset_from_array"]


def pad_sequences(sequences, maxlen: int | None = None, dtype="int32", padding: str = "pre",
                  truncating: str = "pre", value=0.0) -> np.ndarray:
    """``sequences`` (a list of lists or arrays, each of length ≤ anything) as one array (samples, maxlen, …):
    each cut to its last (``truncating="pre"``) or first (``"post"``) ``maxlen`` steps, then filled with ``value``
    before (``padding="pre"``) or after (``"post"``). ``maxlen`` defaults to the longest sequence."""
    if not hasattr(sequences, "__len__"):
        raise ValueError("`sequences` must be iterable.")
    if padding not in ("pre", "post"):
        raise ValueError(f'Padding type "{padding}" not understood')
    if truncating not in ("pre", "post"):
        raise ValueError(f'Truncating type "{truncating}" not understood')
    lengths, step_shape = [], None
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError(f"`sequences` must be a list of iterables. Found non-iterable: {s}")
        lengths.append(len(s))
        if step_shape is None and len(s):
            step_shape = np.asarray(s).shape[1:]  # the steps' shape, from the first non-empty sequence
    step_shape = step_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    text_dtype = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not text_dtype:
        raise ValueError(f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\nYou should set "
                         "`dtype=object` for variable length strings.")
    out = np.full((len(sequences), maxlen, *step_shape), value, dtype=dtype)
    for i, (s, length) in enumerate(zip(sequences, lengths)):
        kept = min(length, maxlen)
        if kept == 0:
            continue
        steps = np.asarray(s[length - kept:] if truncating == "pre" else s[:kept], dtype=dtype)
        if steps.shape[1:] != step_shape:
            raise ValueError(f"Shape of sample {steps.shape[1:]} of sequence at position {i} is different from "
                             f"expected shape {step_shape}")
        if padding == "post":
            out[i, :kept] = steps
        else:
            out[i, maxlen - kept:] = steps
    return out


class TimeseriesDataset(PyDataset):
    """Windows over ``data``: sample ``k`` is ``data[p, p + r, …, p + (L − 1)·r]`` for the k-th start position
    ``p`` (offset by ``start_index``), with target ``targets[p]``; gathered when its batch is asked for. With
    ``rng``, each epoch's end shuffles the windows again."""

    def __init__(self, data: np.ndarray, targets: np.ndarray | None, starts: np.ndarray, sequence_length: int,
                 sampling_rate: int, batch_size: int | None, rng: np.random.Generator | None = None):
        super().__init__()
        self.data, self.targets, self.starts, self.batch_size, self.rng = data, targets, starts, batch_size, rng
        self.offsets = np.arange(sequence_length) * sampling_rate

    def on_epoch_end(self) -> None:
        if self.rng is not None:
            self.rng.shuffle(self.starts)

    def __len__(self) -> int:
        return len(self.starts) if self.batch_size is None else math.ceil(len(self.starts) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch index {index} out of range: the dataset has {len(self)} batches")
        starts = (self.starts[index] if self.batch_size is None
                  else self.starts[index * self.batch_size:(index + 1) * self.batch_size])
        windows = self.data[np.add.outer(starts, self.offsets)]
        return windows if self.targets is None else (windows, self.targets[starts])


def timeseries_dataset_from_array(data, targets, sequence_length: int, sequence_stride: int = 1,
                                  sampling_rate: int = 1, batch_size: int | None = 128, shuffle: bool = False,
                                  seed=None, start_index: int | None = None, end_index: int | None = None
                                  ) -> TimeseriesDataset:
    """A dataset of sliding windows over ``data`` (axis 0 is time): windows of ``sequence_length`` steps taken
    every ``sampling_rate`` steps, starting every ``sequence_stride`` steps within ``data[start_index:end_index]``;
    with ``targets``, window k starting at step i is paired with ``targets[i]``. ``shuffle`` permutes the windows
    with ``np.random.RandomState(seed)``, as Keras does, and again after each epoch (Keras's tf.data version
    shuffles within a buffer each epoch instead)."""
    n = len(data)
    if start_index:
        if start_index < 0:
            raise ValueError(f"`start_index` must be 0 or greater. Received: start_index={start_index}")
        if start_index >= n:
            raise ValueError(f"`start_index` must be lower than the length of the data. Received: "
                             f"start_index={start_index}, for data of length {n}")
    if end_index:
        if start_index and end_index <= start_index:
            raise ValueError(f"`end_index` must be higher than `start_index`. Received: start_index={start_index}, "
                             f"and end_index={end_index} ")
        if end_index >= n:
            raise ValueError(f"`end_index` must be lower than the length of the data. Received: "
                             f"end_index={end_index}, for data of length {n}")
        if end_index <= 0:
            raise ValueError(f"`end_index` must be higher than 0. Received: end_index={end_index}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        if value <= 0:
            raise ValueError(f"`{name}` must be higher than 0. Received: {name}={value}")
        if value >= n:
            raise ValueError(f"`{name}` must be lower than the length of the data. Received: {name}={value}, for "
                             f"data of length {n}")
    start_index, end_index = start_index or 0, end_index or n
    count = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        count = min(count, len(targets))
    starts = np.arange(0, max(count, 0), sequence_stride)
    if shuffle:
        seed = int(make_rng().integers(1_000_000)) if seed is None else seed
        np.random.RandomState(seed).shuffle(starts)
    data = np.asarray(data)[start_index:end_index]
    targets = None if targets is None else np.asarray(targets)[start_index:end_index]
    return TimeseriesDataset(data, targets, starts, sequence_length, sampling_rate, batch_size,
                             np.random.default_rng(seed) if shuffle else None)
