"""CSVLogger: append one row per epoch (epoch index and every log value) to a CSV file."""

from __future__ import annotations

import csv
import os

import numpy as np

from glassnet.callbacks.callback import Callback


class CSVLogger(Callback):
    """Write ``epoch,<log keys in sorted order>`` rows to ``filename``; ``append=True`` continues an existing file."""

    uses_batch_hooks = False

    def __init__(self, filename: str | os.PathLike, separator: str = ",", append: bool = False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self.keys = None
        self.writer = None
        self._file = None
        self._append_header = True

    def on_train_begin(self, logs=None):
        if self.append and os.path.exists(self.filename):
            with open(self.filename, encoding="utf-8") as f:
                self._append_header = not bool(len(f.readline()))
            mode = "a"
        else:
            self._append_header = True
            mode = "w"
        self._file = open(self.filename, mode, newline="", encoding="utf-8")  # noqa: SIM115 - closed on train end
        self.keys = None
        self.writer = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
            self.writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep,
                                         lineterminator="\n")
            if self._append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _cell(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


def _cell(value):
    """A log value as a CSV cell; a metric with one value per class as ``[0.5, 0.25, ...]`` (one cell, as Keras)."""
    if isinstance(value, np.ndarray) and value.ndim:
        return "[" + ", ".join(str(v) for v in value.ravel()) + "]"
    return value
