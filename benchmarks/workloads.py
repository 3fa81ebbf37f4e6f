"""The workloads of issue 7 (A, B, C), C driven by a custom loop (D), their initial weights and their batch orders,
shared by every peer.

Every peer receives the same float32 data, the same Glorot-uniform kernels with zero biases (Keras's default
initialization, generated here once from a seed), and trains with the same hyperparameters. D is C's network and
data trained by 1000 ``train_on_batch`` calls on shuffled batches, the loop a GAN or RL user writes; peers without
that API (PyTorch, NumPy) run their own manual loop, which is the same for C and D.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Workload:
    """One benchmark: a dense network, its loss and optimizer, the batch size and the samples in one round."""

    key: str
    title: str
    units: tuple[int, ...]  # layer widths, input first: (784, 512, 10)
    activations: tuple[str, ...]  # one per Dense layer
    loss: str  # a Keras loss name
    optimizer: str  # "rmsprop" or "sgd"
    learning_rate: float
    batch_size: int
    samples: int  # one round is one epoch over this many samples
    quick_samples: int  # the --quick smoke test's round
    unit: str  # how the round time is reported
    loss_check_steps: int  # steps compared with the NumPy reference
    driver: str = "fit"  # how a Keras-style peer trains: "fit", or "train_on_batch" (one call per batch)

    @property
    def per_thousand_steps(self) -> bool:
        """Whether the round is reported per 1000 steps (C and D, whatever the round's length)."""
        return self.unit == "s/1000 steps"

    def steps(self, samples: int) -> int:
        """Batches in one epoch of ``samples`` (the last one may be partial, as in Keras's fit)."""
        return math.ceil(samples / self.batch_size)

    def batch_sizes(self, samples: int) -> list[int]:
        """The size of every batch of one epoch over ``samples``."""
        full, rest = divmod(samples, self.batch_size)
        return [self.batch_size] * full + ([rest] if rest else [])

    @property
    def n_params(self) -> int:
        return sum(a * b + b for a, b in zip(self.units[:-1], self.units[1:]))

    @property
    def architecture(self) -> str:
        inner = "-".join(f"{n}({a})" for n, a in zip(self.units[1:], self.activations))
        return f"{self.units[0]}-{inner}"


# RMSprop and SGD use Keras 3's defaults (RMSprop: learning_rate 0.001, rho 0.9, epsilon 1e-7); C uses the
# playground's learning rate 0.03.
WORKLOADS = {
    "A": Workload("A", "MNIST MLP", (784, 512, 10), ("relu", "softmax"), "categorical_crossentropy", "rmsprop",
                  1e-3, 128, 60_000, 2_560, "s/epoch", 40),
    "B": Workload("B", "IMDB MLP, multi-hot", (10_000, 16, 16, 1), ("relu", "relu", "sigmoid"),
                  "binary_crossentropy", "rmsprop", 1e-3, 512, 25_000, 2_560, "s/epoch", 30),
    "C": Workload("C", "playground net", (2, 8, 8, 1), ("tanh", "tanh", "tanh"), "mean_squared_error", "sgd",
                  0.03, 10, 10_000, 1_000, "s/1000 steps", 300),
    "D": Workload("D", "playground net (C) via train_on_batch", (2, 8, 8, 1), ("tanh", "tanh", "tanh"),
                  "mean_squared_error", "sgd", 0.03, 10, 10_000, 1_000, "s/1000 steps", 300, driver="train_on_batch"),
}
RMSPROP_RHO = 0.9
RMSPROP_EPSILON = 1e-7


def initial_weights(workload: Workload, seed: int = 0) -> list[np.ndarray]:
    """Keras's default initialization as Keras orders it: [kernel, bias] per layer, kernel (fan_in, units)
    Glorot-uniform in ±√(6 / (fan_in + fan_out)), bias zeros; float32."""
    rng = np.random.default_rng(seed)
    weights = []
    for fan_in, fan_out in zip(workload.units[:-1], workload.units[1:]):
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        weights.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(np.float32))
        weights.append(np.zeros(fan_out, dtype=np.float32))
    return weights


def batch_order(samples: int, seed: int) -> np.ndarray:
    """A shuffled order of the sample indices for one epoch (what fit(shuffle=True) draws)."""
    return np.random.default_rng(seed).permutation(samples)
