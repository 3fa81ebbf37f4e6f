"""ModelCheckpoint: save the model (or its weights) every epoch or every N batches, or only when it improves."""

from __future__ import annotations

import os

from glassnet.callbacks.callback import Callback
from glassnet.callbacks.monitor import check_mode, higher_is_better, improves, monitored_value, worst_value


class ModelCheckpoint(Callback):
    """Save to ``filepath``, which may name the epoch and any log value: ``'ckpt-{epoch:02d}-{val_loss:.2f}.keras'``.

    ``save_best_only``: save only when ``monitor`` improves on the best value so far (``initial_value_threshold``
    sets a value it must beat first). ``save_weights_only``: write a ``.weights.h5`` file instead of the whole model
    (a ``.keras`` file; ``.h5`` and ``.glassnet`` also work). ``save_freq=N``: every N batches instead of every
    epoch (``{batch}`` in the path names the batch). Each file is written atomically, so a run killed mid-save
    leaves the previous checkpoint loadable.
    """

    def __init__(self, filepath: str | os.PathLike, monitor: str = "val_loss", verbose: int = 0,
                 save_best_only: bool = False, save_weights_only: bool = False, mode: str = "auto",
                 save_freq: str | int = "epoch", initial_value_threshold: float | None = None):
        super().__init__()
        if save_freq != "epoch" and (isinstance(save_freq, bool) or not isinstance(save_freq, int) or save_freq < 1):
            raise ValueError(f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer values")
        self.save_freq = save_freq
        self._current_epoch = 0
        self._batches_since_save = 0
        self.filepath = os.fspath(filepath)
        if save_weights_only and not self.filepath.endswith(".weights.h5"):
            raise ValueError("When using `save_weights_only=True` in `ModelCheckpoint`, the filepath provided must end "
                             f"in `.weights.h5` (Keras weights format). Received: filepath={self.filepath}")
        if not save_weights_only and not self.filepath.endswith((".keras", ".h5", ".glassnet")):
            raise ValueError("The filepath provided must end in `.keras` (Keras model format). Received: "
                             f"filepath={self.filepath}")
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.mode = check_mode(mode, "ModelCheckpoint")
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold
        self._maximize = None

    def on_train_begin(self, logs=None):
        if self.save_best_only:
            self._maximize = higher_is_better(self.monitor, self.mode, "ModelCheckpoint")
            if self.best is None:
                self.best = worst_value(self._maximize)

    @property
    def uses_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def _format_path(self, epoch: int, logs: dict, batch: int | None) -> str:
        try:
            return self.filepath.format(epoch=epoch + 1, **({} if batch is None else {"batch": batch + 1}), **logs)
        except KeyError as e:
            raise KeyError(
                f"ModelCheckpoint: failed to format filepath {self.filepath!r}: the logs have no key {e}. "
                f"Available keys: epoch, {', '.join(logs)}"
            ) from None

    def _save(self, path: str) -> None:
        folder = os.path.dirname(path)
        if folder:
            os.makedirs(folder, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def on_epoch_begin(self, epoch, logs=None):
        self._current_epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        """With ``save_freq=N``: a checkpoint every N batches (counted across epochs), named with ``{batch}`` too."""
        self._batches_since_save += 1
        if self._batches_since_save >= self.save_freq:
            self._batches_since_save = 0
            self._checkpoint(self._current_epoch, logs, batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._checkpoint(epoch, logs, None)

    def _checkpoint(self, epoch: int, logs: dict | None, batch: int | None) -> None:
        """Save now, or, with ``save_best_only``, if ``monitor`` improved."""
        logs = {key: value for key, value in (logs or {}).items() if key != "batch"}
        path = self._format_path(epoch, logs, batch)
        if not self.save_best_only:
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: saving model to {path}")
            self._save(path)
            return
        current = monitored_value(logs, self.monitor, "ModelCheckpoint")
        if current is None:
            return
        if improves(current, self.best, self._maximize):
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, "
                      f"saving model to {path}")
            self.best = current
            self._save(path)
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
