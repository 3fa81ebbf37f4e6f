"""ReduceLROnPlateau: multiply the learning rate by ``factor`` when the monitored quantity stops improving."""

from __future__ import annotations

import numpy as np

from glassnet.callbacks.callback import Callback
from glassnet.callbacks.monitor import check_mode, higher_is_better, improves, monitored_value, worst_value


class ReduceLROnPlateau(Callback):
    """After ``patience`` epochs without an improvement larger than ``min_delta``: lr ← max(lr·factor, min_lr),
    then wait ``cooldown`` epochs before counting again. Adds ``learning_rate`` to the epoch logs, as Keras does.
    """

    uses_batch_hooks = False

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, verbose: int = 0,
                 mode: str = "auto", min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}")
        self.monitor = monitor
        self.factor = factor
        self.patience = patience
        self.verbose = verbose
        self.mode = check_mode(mode, "ReduceLROnPlateau")
        self.min_delta = min_delta
        self.cooldown = cooldown
        self.min_lr = min_lr
        self.wait = 0
        self.cooldown_counter = 0
        self.best = None
        self._maximize = None

    def on_train_begin(self, logs=None):
        self._maximize = higher_is_better(self.monitor, self.mode, "ReduceLROnPlateau")
        self.best = worst_value(self._maximize)
        self.wait = 0
        self.cooldown_counter = 0

    def on_epoch_end(self, epoch, logs=None):
        optimizer = self.model.optimizer
        if logs is not None:
            logs["learning_rate"] = float(optimizer.learning_rate)
        current = monitored_value(logs, self.monitor, "ReduceLROnPlateau")
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if improves(current, self.best, self._maximize, self.min_delta):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter == 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > np.float32(self.min_lr):
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
