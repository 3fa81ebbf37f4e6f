"""EarlyStopping: stop fit when the monitored quantity has stopped improving (Keras 3 semantics)."""

from __future__ import annotations

from glassnet.callbacks.callback import Callback
from glassnet.callbacks.monitor import check_mode, higher_is_better, improves, monitored_value, worst_value


class EarlyStopping(Callback):
    """Stop after ``patience`` epochs without an improvement larger than ``min_delta`` in ``monitor``.

    ``baseline``: training also stops if the value never beats it. ``restore_best_weights``: at the end of
    training, set the weights of the best epoch seen. ``start_from_epoch``: epochs of warm-up not monitored.
    """

    uses_batch_hooks = False

    def __init__(self, monitor: str = "val_loss", min_delta: float = 0, patience: int = 0, verbose: int = 0,
                 mode: str = "auto", baseline: float | None = None, restore_best_weights: bool = False,
                 start_from_epoch: int = 0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(min_delta)
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(mode, "EarlyStopping")
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_epoch = 0
        self.best_weights = None
        self._maximize = None

    def on_train_begin(self, logs=None):
        self.wait = 0
        self.stopped_epoch = 0
        self.best_weights = None
        self.best_epoch = 0
        self._maximize = higher_is_better(self.monitor, self.mode, "EarlyStopping")
        self.best = worst_value(self._maximize)

    def on_epoch_end(self, epoch, logs=None):
        current = monitored_value(logs, self.monitor, "EarlyStopping")
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if improves(current, self.best, self._maximize, self.min_delta):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or improves(current, self.baseline, self._maximize, self.min_delta):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)
