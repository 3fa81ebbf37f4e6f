"""The Keras 3 Callback API: the hooks called by fit/evaluate/predict (CallbackList, in callback_list.py,
dispatches them).

A callback sees the model (``self.model``) and the run's parameters (``self.params``: verbose, epochs, steps) and
may stop training by setting ``self.model.stop_training = True``. It knows the model only as that object: nothing in
glassnet.callbacks imports glassnet.models.
"""

from __future__ import annotations


class Callback:
    """Base class: override the hooks you need; each receives a ``logs`` dict of the current results."""

    def __init__(self):
        self.params: dict = {}
        self._model = None

    def set_params(self, params: dict) -> None:
        self.params = params

    def set_model(self, model) -> None:
        self._model = model

    @property
    def model(self):
        return self._model

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of an epoch (0-based index)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of an epoch with the epoch's averaged training and validation results."""

    def on_train_begin(self, logs=None) -> None:
        """Called once when fit starts."""

    def on_train_end(self, logs=None) -> None:
        """Called once when fit finishes."""

    def on_test_begin(self, logs=None) -> None:
        """Called when evaluate (or fit's validation) starts."""

    def on_test_end(self, logs=None) -> None:
        """Called when evaluate (or fit's validation) ends."""

    def on_predict_begin(self, logs=None) -> None:
        """Called when predict starts."""

    def on_predict_end(self, logs=None) -> None:
        """Called when predict ends."""

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        """Called before a training step (``batch`` is the index within the epoch)."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        """Called after a training step with the epoch's running results."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs=None) -> None:
        """Called before an evaluation step."""

    def on_test_batch_end(self, batch: int, logs=None) -> None:
        """Called after an evaluation step with the running results."""

    def on_predict_batch_begin(self, batch: int, logs=None) -> None:
        """Called before a prediction step."""

    def on_predict_batch_end(self, batch: int, logs=None) -> None:
        """Called after a prediction step."""

    def on_batch_begin(self, batch: int, logs=None) -> None:
        """Backwards-compatible alias of on_train_batch_begin."""

    def on_batch_end(self, batch: int, logs=None) -> None:
        """Backwards-compatible alias of on_train_batch_end."""

