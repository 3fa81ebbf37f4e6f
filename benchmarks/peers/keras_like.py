"""The Keras-style peers (glassnet and Keras 3 itself) share one trainer: the same model code, run by ``fit``.

``api`` is a module namespace with ``layers``, ``models``/``Sequential``, ``optimizers`` and ``callbacks`` that
follows Keras 3; passing glassnet's or Keras's runs the identical program on either library.
"""

from __future__ import annotations

import numpy as np

from benchmarks.data import Dataset
from benchmarks.workloads import RMSPROP_EPSILON, RMSPROP_RHO, Workload


def build(api, workload: Workload, weights: list[np.ndarray]):
    """The workload's Sequential model, compiled, holding ``weights``."""
    layers, models, optimizers = api.layers, api.models, api.optimizers
    model = models.Sequential(
        [layers.Input(shape=(workload.units[0],))]
        + [layers.Dense(n, activation=a) for n, a in zip(workload.units[1:], workload.activations)]
    )
    if workload.optimizer == "rmsprop":
        optimizer = optimizers.RMSprop(learning_rate=workload.learning_rate, rho=RMSPROP_RHO, epsilon=RMSPROP_EPSILON)
    else:
        optimizer = optimizers.SGD(learning_rate=workload.learning_rate)
    model.compile(optimizer=optimizer, loss=workload.loss)
    model.set_weights(weights)
    return model


class KerasStyleTrainer:
    """One round = ``model.fit(x, y, batch_size, epochs=1, shuffle=True)``, exactly what a Keras user writes."""

    def __init__(self, api, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        self.api, self.workload, self.data = api, workload, data
        self.model = build(api, workload, weights)

    def warmup(self) -> None:
        n = min(len(self.data.x), 5 * self.workload.batch_size)
        self.model.fit(self.data.x[:n], self.data.y[:n], batch_size=self.workload.batch_size, epochs=1, verbose=0)

    def run_round(self, i: int) -> None:
        self.model.fit(self.data.x, self.data.y, batch_size=self.workload.batch_size, epochs=1, shuffle=True,
                       verbose=0)

    def running_mean_losses(self, order: np.ndarray) -> list[float]:
        """Train on the batches of ``order`` in turn (fit on the reordered data, shuffle=False); the loss that
        fit reports after each batch (Keras's running mean over the epoch so far)."""
        reported: list[float] = []

        class Recorder(self.api.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                reported.append(float(logs["loss"]))

        self.model.fit(self.data.x[order], self.data.y[order], batch_size=self.workload.batch_size, epochs=1,
                       shuffle=False, verbose=0, callbacks=[Recorder()])
        return reported

