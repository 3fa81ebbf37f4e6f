"""A plain hand-written NumPy training loop: the same math as Keras, float32, preallocated buffers, in-place
RMSprop. It is a speed peer and the reference that glassnet's loss curve is checked against.

Forward: Z[l] = A[l-1]·W[l] + b[l], A[l] = g(Z[l]). Backward from the output's fused gradient
dZ[L] = (A[L] − Y)/m (softmax + categorical cross-entropy, sigmoid + binary cross-entropy) or
dZ[L] = 2(A[L] − Y)·(1 − A[L]²)/m (tanh + mean squared error): dW[l] = A[l-1]ᵀ·dZ[l], db[l] = Σ dZ[l],
dZ[l-1] = dZ[l]·W[l]ᵀ ∘ g'(Z[l-1]). RMSprop as Keras 3 writes it: v ← ρv + (1−ρ)g², w ← w − η·g / √(v + ε).
"""

from __future__ import annotations

import numpy as np

from benchmarks.data import Dataset
from benchmarks.workloads import RMSPROP_EPSILON, RMSPROP_RHO, Workload, batch_order

LABEL = "NumPy (hand-written)"
REQUIRES = ("numpy",)
WORKLOADS = "ABCD"


def version() -> str:
    return np.__version__


def prepare() -> None:
    """Nothing to import beyond NumPy."""


class NumpyMLP:
    """The workload's network as arrays; ``train_step`` does one forward, backward and update, returns the loss."""

    def __init__(self, workload: Workload, weights: list[np.ndarray]):
        self.workload = workload
        self.params = [np.array(w, dtype=np.float32) for w in weights]  # [W1, b1, W2, b2, ...]
        self.grads = [np.empty_like(p) for p in self.params]
        self.scratch = [np.empty_like(p) for p in self.params]
        self.velocity = [np.zeros_like(p) for p in self.params] if workload.optimizer == "rmsprop" else None
        self._per_batch_size: dict[int, tuple[list[np.ndarray], list[np.ndarray]]] = {}

    def _buffers(self, m: int) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Activations A[l] and gradients dZ[l] for a batch of m samples, allocated once per batch size."""
        if m not in self._per_batch_size:
            widths = self.workload.units[1:]
            self._per_batch_size[m] = ([np.empty((m, n), np.float32) for n in widths],
                                       [np.empty((m, n), np.float32) for n in widths])
        return self._per_batch_size[m]

    def train_step(self, x: np.ndarray, y: np.ndarray) -> float:
        m = len(x)
        acts, deltas = self._buffers(m)
        kernels, biases = self.params[0::2], self.params[1::2]
        layers = len(kernels)
        a = x
        for l in range(layers):
            z = acts[l]
            np.matmul(a, kernels[l], out=z)
            z += biases[l]
            if l < layers - 1:
                _activate(self.workload.activations[l], z)
            a = z
        loss = _output_gradient(self.workload.activations[-1], acts[-1], y, deltas[-1])
        for l in reversed(range(layers)):
            dz = deltas[l]
            a_prev = x if l == 0 else acts[l - 1]
            np.matmul(a_prev.T, dz, out=self.grads[2 * l])
            np.sum(dz, axis=0, out=self.grads[2 * l + 1])
            if l > 0:
                np.matmul(dz, kernels[l].T, out=deltas[l - 1])
                _multiply_by_derivative(self.workload.activations[l - 1], deltas[l - 1], a_prev)
        self._update()
        return loss

    def _update(self) -> None:
        lr = self.workload.learning_rate
        if self.velocity is None:  # SGD: w ← w − η·g
            for p, g, s in zip(self.params, self.grads, self.scratch):
                np.multiply(g, lr, out=s)
                p -= s
            return
        for p, g, v, s in zip(self.params, self.grads, self.velocity, self.scratch):
            v *= RMSPROP_RHO
            np.square(g, out=s)
            s *= 1 - RMSPROP_RHO
            v += s
            np.add(v, RMSPROP_EPSILON, out=s)
            np.sqrt(s, out=s)
            np.divide(g, s, out=s)
            s *= lr
            p -= s


def _activate(name: str, z: np.ndarray) -> None:
    if name == "relu":
        np.maximum(z, 0, out=z)
    elif name == "tanh":
        np.tanh(z, out=z)
    else:
        raise ValueError(f"hidden activation {name!r} is not in this reference")


def _multiply_by_derivative(name: str, da: np.ndarray, a: np.ndarray) -> None:
    """dZ = dA ∘ g'(Z), with g' written from the activation's output: relu' = [A > 0], tanh' = 1 − A²."""
    if name == "relu":
        da *= a > 0
    else:
        da *= 1 - a * a


def _output_gradient(name: str, z: np.ndarray, y: np.ndarray, dz: np.ndarray) -> float:
    """The batch-mean loss from the output logits z, and its gradient d(loss)/dz written into dz."""
    m = len(z)
    if name == "softmax":  # categorical cross-entropy: −Σ y·log softmax(z)
        shifted = z - z.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        total = exp.sum(axis=1, keepdims=True)
        loss = -np.mean(np.sum(y * (shifted - np.log(total)), axis=1))
        np.divide(exp, total, out=dz)
        dz -= y
        dz /= m
    elif name == "sigmoid":  # binary cross-entropy from logits: max(z, 0) − z·y + log(1 + e^−|z|)
        loss = np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z))))
        np.multiply(np.tanh(z * 0.5) + 1, 0.5, out=dz)  # σ(z) without overflow
        dz -= y
        dz /= m
    else:  # tanh output, mean squared error
        a = np.tanh(z)
        diff = a - y
        loss = np.mean(diff * diff)
        np.multiply(diff, (1 - a * a) * (2.0 / m), out=dz)
    return float(loss)


class Trainer:
    """One round = one epoch over the data in a new shuffled order, batches gathered into reused buffers."""

    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        self.workload, self.data, self.seed = workload, data, seed
        self.model = NumpyMLP(workload, weights)
        self._batch: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def _gather(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = len(index)
        if m not in self._batch:
            self._batch[m] = (np.empty((m, self.data.x.shape[1]), np.float32),
                              np.empty((m, self.data.y.shape[1]), np.float32))
        xb, yb = self._batch[m]
        np.take(self.data.x, index, axis=0, out=xb)
        np.take(self.data.y, index, axis=0, out=yb)
        return xb, yb

    def train(self, order: np.ndarray) -> list[float]:
        """Train on the batches of ``order`` in turn; the loss of each step."""
        bs = self.workload.batch_size
        return [self.model.train_step(*self._gather(order[s:s + bs])) for s in range(0, len(order), bs)]

    def warmup(self) -> None:
        self.train(np.arange(min(len(self.data.x), 5 * self.workload.batch_size)))

    def run_round(self, i: int) -> None:
        self.train(batch_order(len(self.data.x), self.seed + i))
