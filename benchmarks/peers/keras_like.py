"""The Keras-style peers (glassnet and Keras 3 itself) share one trainer: the same model code, run by ``fit`` (or,
for workload D, by one ``train_on_batch`` call per batch, as a custom training loop does).

``api`` is a module namespace with ``layers``, ``models``/``Sequential``, ``optimizers`` and ``callbacks`` that
follows Keras 3; passing glassnet's or Keras's runs the identical program on either library.
"""

from __future__ import annotations

import numpy as np

from benchmarks.data import Dataset
from benchmarks.workloads import LSTM_SHAPE, RMSPROP_EPSILON, RMSPROP_RHO, Workload, batch_order, conv_layers


def stack(layers, workload: Workload) -> list:
    """The workload's layers, Input first: Dense layers; CONV's Conv2D/MaxPooling2D stack; LSTM's Embedding → LSTM."""
    if workload.network == "convnet":
        convnet = [layers.Input(shape=(28, 28, 1))]
        for i, (_, (_, filters), kernel) in enumerate(conv_layers()):
            convnet.append(layers.Conv2D(filters, kernel, activation="relu"))
            if i < len(conv_layers()) - 1:
                convnet.append(layers.MaxPooling2D(2))
        return convnet + [layers.Flatten(), layers.Dense(10, activation="softmax")]
    if workload.network == "lstm":
        vocabulary, dim, length, units = LSTM_SHAPE
        return [layers.Input(shape=(length,), dtype="int64"), layers.Embedding(vocabulary, dim), layers.LSTM(units),
                layers.Dense(1, activation="sigmoid")]
    return [layers.Input(shape=(workload.units[0],))] + [
        layers.Dense(n, activation=a) for n, a in zip(workload.units[1:], workload.activations)]


def build(api, workload: Workload, weights: list[np.ndarray]):
    """The workload's Sequential model, compiled, holding ``weights`` (its own initialization when empty)."""
    models, optimizers = api.models, api.optimizers
    model = models.Sequential(stack(api.layers, workload))
    if workload.optimizer == "rmsprop":
        optimizer = optimizers.RMSprop(learning_rate=workload.learning_rate, rho=RMSPROP_RHO, epsilon=RMSPROP_EPSILON)
    else:
        optimizer = optimizers.SGD(learning_rate=workload.learning_rate)
    model.compile(optimizer=optimizer, loss=workload.loss)
    if weights:
        model.set_weights(weights)
    return model


class KerasStyleTrainer:
    """One round = ``model.fit(x, y, batch_size, epochs=1, shuffle=True)``, exactly what a Keras user writes; for a
    ``train_on_batch`` workload, one epoch of ``model.train_on_batch(x[batch], y[batch])`` over a shuffled order,
    exactly what a custom loop writes (and what the PyTorch peer's loop does)."""

    def __init__(self, api, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        self.api, self.workload, self.data, self.seed = api, workload, data, seed
        self.model = build(api, workload, weights)

    def warmup(self) -> None:
        n = min(len(self.data.x), 5 * self.workload.batch_size)
        if self.workload.driver == "train_on_batch":
            self.train_on_batches(np.arange(n))
        else:
            self.model.fit(self.data.x[:n], self.data.y[:n], batch_size=self.workload.batch_size, epochs=1,
                           verbose=0)

    def run_round(self, i: int) -> None:
        if self.workload.driver == "train_on_batch":
            self.train_on_batches(batch_order(len(self.data.x), self.seed + i))
        else:
            self.model.fit(self.data.x, self.data.y, batch_size=self.workload.batch_size, epochs=1, shuffle=True,
                           verbose=0)

    def train_on_batches(self, order: np.ndarray) -> list[float]:
        """One ``train_on_batch`` per batch of ``order``, the batch indexed out of the arrays; each batch's loss."""
        x, y, bs = self.data.x, self.data.y, self.workload.batch_size
        losses = []
        for s in range(0, len(order), bs):
            batch = order[s:s + bs]
            losses.append(float(self.model.train_on_batch(x[batch], y[batch])))
        return losses

    def running_mean_losses(self, order: np.ndarray) -> list[float]:
        """Train on the batches of ``order`` in turn (fit on the reordered data, shuffle=False); the loss that
        fit reports after each batch (Keras's running mean over the epoch so far)."""
        if self.workload.driver == "train_on_batch":  # the same running mean, from each call's batch loss
            sizes = np.diff([*range(0, len(order), self.workload.batch_size), len(order)])
            totals = np.cumsum(np.asarray(self.train_on_batches(order)) * sizes)
            return (totals / np.cumsum(sizes)).tolist()
        reported: list[float] = []

        class Recorder(self.api.callbacks.Callback):
            def on_train_batch_end(self, batch, logs=None):
                reported.append(float(logs["loss"]))

        self.model.fit(self.data.x[order], self.data.y[order], batch_size=self.workload.batch_size, epochs=1,
                       shuffle=False, verbose=0, callbacks=[Recorder()])
        return reported

