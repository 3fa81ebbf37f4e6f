"""The course's two experiments, measured here: vectorized versus for-loop code, and why weights start random.

``vectorization`` computes one forward and backward pass of a 2-layer network three ways (a Python loop over
samples and neurons, a loop over samples, and glassnet's vectorized ops), checks they agree, and times them.
``initialization`` trains the same network from zeros, from a constant and from random weights, and shows that
without randomness every hidden unit of a layer computes, and keeps computing, the same thing.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from glassnet import backend, ops
from glassnet.autodiff import Variable

# ----- vectorization -----------------------------------------------------------------------------------------


@dataclass
class VectorizationResult:
    """Seconds per forward + backward pass of each implementation, and the largest disagreement between them."""

    batch: int
    loop_seconds: float  # over samples and over neurons
    sample_loop_seconds: float  # over samples, vectorized over neurons
    vectorized_seconds: float
    max_abs_difference: float

    @property
    def speedup(self) -> float:
        """How many times faster vectorized code is than the loop over samples and neurons."""
        return self.loop_seconds / self.vectorized_seconds

    @property
    def sample_loop_speedup(self) -> float:
        return self.sample_loop_seconds / self.vectorized_seconds

    def __str__(self) -> str:
        return (f"batch {self.batch}: loop over samples and neurons {self.loop_seconds * 1e3:.2f} ms, loop over "
                f"samples {self.sample_loop_seconds * 1e3:.2f} ms, vectorized {self.vectorized_seconds * 1e3:.3f} ms"
                f"\nspeedup {self.speedup:.0f}x (over the sample loop {self.sample_loop_speedup:.0f}x); results "
                f"agree to {self.max_abs_difference:.1e}")


def _loop_over_samples_and_neurons(x, y, w1, b1, w2, b2):
    """The course's equations one sample and one neuron at a time (tanh hidden layer, sigmoid output, BCE)."""
    m, hidden = len(x), w1.shape[1]
    dw1, db1, dw2, db2 = np.zeros_like(w1), np.zeros_like(b1), np.zeros_like(w2), np.zeros_like(b2)
    cost = 0.0
    for i in range(m):
        a1 = np.zeros(hidden)
        for j in range(hidden):
            a1[j] = np.tanh(np.dot(x[i], w1[:, j]) + b1[j])  # z1_j = Σ_k x_k w1_kj + b1_j
        z2 = b2[0]
        for j in range(hidden):
            z2 += a1[j] * w2[j, 0]
        a2 = 1 / (1 + np.exp(-z2))
        cost += -(y[i, 0] * np.log(a2) + (1 - y[i, 0]) * np.log(1 - a2)) / m
        dz2 = a2 - y[i, 0]  # dZ[2] = A[2] − Y
        db2[0] += dz2 / m
        for j in range(hidden):
            dw2[j, 0] += a1[j] * dz2 / m
            dz1 = dz2 * w2[j, 0] * (1 - a1[j] ** 2)  # dZ[1] = dA[1] * g'(Z[1]), g = tanh
            dw1[:, j] += x[i] * dz1 / m
            db1[j] += dz1 / m
    return cost, dw1, db1, dw2, db2


def _loop_over_samples(x, y, w1, b1, w2, b2):
    """The same, one sample at a time, each sample's layer computed with vector operations."""
    m = len(x)
    dw1, db1, dw2, db2 = np.zeros_like(w1), np.zeros_like(b1), np.zeros_like(w2), np.zeros_like(b2)
    cost = 0.0
    for i in range(m):
        a1 = np.tanh(x[i] @ w1 + b1)
        a2 = 1 / (1 + np.exp(-(a1 @ w2 + b2)))
        cost += float(-(y[i] * np.log(a2) + (1 - y[i]) * np.log(1 - a2))[0]) / m
        dz2 = a2 - y[i]
        dw2 += np.outer(a1, dz2) / m
        db2 += dz2 / m
        dz1 = (w2 @ dz2) * (1 - a1**2)
        dw1 += np.outer(x[i], dz1) / m
        db1 += dz1 / m
    return cost, dw1, db1, dw2, db2


def _vectorized(x, y, w1, b1, w2, b2):
    """glassnet's engine: one op per layer step for the whole batch, gradients by backward()."""
    variables = [Variable(v, dtype=np.float64) for v in (w1, b1, w2, b2)]
    kw1, kb1, kw2, kb2 = variables
    z2 = ops.tanh(x @ kw1 + kb1) @ kw2 + kb2
    cost = ops.mean(ops.sigmoid_cross_entropy(y, z2))
    cost.backward()
    return (float(cost.numpy()), *(v.grad for v in variables))


def _best_seconds(fn, repeats: int) -> tuple[float, tuple]:
    best, result = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def vectorization(batch: int = 256, n_in: int = 20, hidden: int = 32, seed: int = 0,
                  repeats: int = 3) -> VectorizationResult:
    """Time one forward + backward pass of a (n_in → hidden tanh → 1 sigmoid) network on ``batch`` samples with a
    loop over samples and neurons, a loop over samples, and vectorized, in float64; they must agree to 1e-6."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((batch, n_in))
    y = (rng.random((batch, 1)) > 0.5).astype(np.float64)
    w1, b1 = rng.standard_normal((n_in, hidden)) / np.sqrt(n_in), rng.standard_normal(hidden) * 0.1
    w2, b2 = rng.standard_normal((hidden, 1)) / np.sqrt(hidden), rng.standard_normal(1) * 0.1
    args = (x, y, w1, b1, w2, b2)
    loop_s, loop = _best_seconds(lambda: _loop_over_samples_and_neurons(*args), max(1, repeats // 2))
    sample_s, sample = _best_seconds(lambda: _loop_over_samples(*args), repeats)
    vec_s, vec = _best_seconds(lambda: _vectorized(*args), repeats * 5)
    diff = max(float(np.max(np.abs(np.asarray(a) - np.asarray(b)))) for other in (loop, sample)
               for a, b in zip(other, vec))
    if diff > 1e-6:
        raise AssertionError(f"the loop and vectorized results differ by {diff:.3g} (expected at most 1e-6)")
    return VectorizationResult(batch, loop_s, sample_s, vec_s, diff)


# ----- initialization ----------------------------------------------------------------------------------------


def distinct_units(kernel: np.ndarray, tol: float = 1e-6) -> int:
    """How many different hidden units a layer has: distinct columns of its (fan_in, units) kernel, to ``tol``."""
    kept: list[np.ndarray] = []
    for column in np.asarray(kernel, dtype=np.float64).T:
        if not any(np.max(np.abs(column - k)) <= tol * max(1.0, np.max(np.abs(k))) for k in kept):
            kept.append(column)
    return len(kept)


@dataclass
class InitializationRun:
    """One initialization after training: distinct hidden units per layer, gradient asymmetry, accuracy."""

    name: str
    units: list[int]  # units per hidden layer
    distinct: list[int]  # distinct units per hidden layer after training
    gradient_asymmetry: list[float]  # per hidden layer: max |dW[:, j] − dW[:, 0]| at the end
    accuracy: float
    loss: float


@dataclass
class InitializationResult:
    runs: list[InitializationRun]

    def __getitem__(self, name: str) -> InitializationRun:
        return next(r for r in self.runs if r.name == name)

    def __str__(self) -> str:
        lines = [f"{'initialization':<16}{'distinct units / units':<26}{'max gradient asymmetry':<26}"
                 f"{'accuracy':>9}{'loss':>9}"]
        for r in self.runs:
            units = ", ".join(f"{d}/{u}" for d, u in zip(r.distinct, r.units))
            asym = ", ".join(f"{a:.1e}" for a in r.gradient_asymmetry)
            lines.append(f"{r.name:<16}{units:<26}{asym:<26}{r.accuracy:>9.3f}{r.loss:>9.4f}")
        lines.append("With zeros or a constant every hidden unit of a layer gets the same gradient, so they stay "
                     "identical: the layer acts as one unit. Random weights break the symmetry.")
        return "\n".join(lines)


def _toy_data(n_samples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from glassnet.datasets import toy2d

    x, y = toy2d.circle(n_samples=n_samples, noise=0.05, seed=seed)
    return (x / 5.0).astype("float32"), y.reshape(-1, 1).astype("float32")


def initialization(hidden: tuple[int, ...] = (8, 8), epochs: int = 300, learning_rate: float = 1.0,
                   n_samples: int = 400, seed: int = 0, initializers: dict | None = None) -> InitializationResult:
    """Train a (2 → hidden… tanh → 1 sigmoid) classifier on the playground's circle data (full-batch gradient
    descent) from each initialization (default: zeros, constant 0.5, glorot_uniform; biases start at 0). ``seed``
    draws the data and the random initial weights, so a run's figures do not depend on what ran before."""
    from glassnet.initializers import Constant
    from glassnet.inspect.graph import trace
    from glassnet.layers import Dense, Input
    from glassnet.models import Sequential
    from glassnet.optimizers import SGD

    initializers = initializers or {"zeros": "zeros", "constant": Constant(0.5), "random": "glorot_uniform"}
    x, y = _toy_data(n_samples, seed)
    runs = []
    for name, init in initializers.items():
        with backend.temporary_seed(seed):
            layers = [Dense(h, activation="tanh", kernel_initializer=init) for h in hidden]
            model = Sequential([Input((2,)), *layers, Dense(1, activation="sigmoid", kernel_initializer=init)])
        model.compile(optimizer=SGD(learning_rate), loss="binary_crossentropy")
        history = model.fit(x, y, batch_size=len(x), epochs=epochs, verbose=0, shuffle=False)
        graph = trace(model, x, y)
        grads = {graph.tensors[i].name: g for i, g in graph.grads.items() if graph.node(i).op == "Variable"}
        asymmetry = [float(np.max(np.abs(grads[layer.kernel.name] - grads[layer.kernel.name][:, :1])))
                     for layer in layers]
        predicted = model.predict(x, verbose=0) > 0.5
        runs.append(InitializationRun(
            name, list(hidden), [distinct_units(layer.kernel.numpy()) for layer in layers], asymmetry,
            float(np.mean(predicted == (y > 0.5))), float(history.history["loss"][-1]),
        ))
    return InitializationResult(runs)
