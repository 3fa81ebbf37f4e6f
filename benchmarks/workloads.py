"""The workloads of issue 7 (A, B, C), C driven by a custom loop (D), issue 16's convnet (CONV) and LSTM (LSTM),
their initial weights and their batch orders, shared by every peer.

Every peer receives the same float32 data, the same Glorot-uniform kernels with zero biases (Keras's default
initialization, generated here once from a seed), and trains with the same hyperparameters. D is C's network and
data trained by 1000 ``train_on_batch`` calls on shuffled batches, the loop a GAN or RL user writes; peers without
that API (PyTorch, NumPy) run their own manual loop, which is the same for C and D.

CONV (issue 16's "D": Chollet's ch. 8 MNIST convnet) and LSTM (issue 16's "E": Embedding(10000, 32) → LSTM(32) →
Dense(1) on IMDB cut to 200 words) were renamed because D is taken. Their peers start from their own library's
initialization (only the dense workloads share weights and are compared with the NumPy reference), and a round is
a slice of the epoch, reported per epoch (``epoch_samples``): a full epoch takes minutes on two cores.
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
    network: str = "dense"  # "dense" (units and activations), "convnet" (CONV_FILTERS) or "lstm" (LSTM_SHAPE)
    epoch_samples: int = 0  # when a round is a slice of the epoch: the epoch's samples its time is scaled to

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
        if self.network == "convnet":
            convs = sum(k * k * c_in * c_out + c_out for (_, c_in), (_, c_out), k in conv_layers())
            _, (side, channels), _ = conv_layers()[-1]
            return convs + side * side * channels * 10 + 10  # Flatten → Dense(10)
        if self.network == "lstm":
            vocabulary, dim, length, units = LSTM_SHAPE
            return vocabulary * dim + 4 * units * (dim + units + 1) + units + 1
        return sum(a * b + b for a, b in zip(self.units[:-1], self.units[1:]))

    @property
    def activations_per_sample(self) -> int:
        """Floats one sample's forward pass keeps: every layer's output, the input included (for an LSTM, each
        step's four gates, cell and hidden state)."""
        if self.network == "convnet":
            outputs = [28 * 28]
            for (_, _), (side, channels), _ in conv_layers():
                outputs.append(side * side * channels)  # the convolution's output, then (but the last) its pooling
                if side > 3:
                    outputs.append((side // 2) ** 2 * channels)
            return sum(outputs) + outputs[-1] + 10  # Flatten's copy, the logits
        if self.network == "lstm":
            _, dim, length, units = LSTM_SHAPE
            return length + length * dim + length * 6 * units + 1
        return sum(self.units)

    @property
    def architecture(self) -> str:
        if self.network == "convnet":
            return "28×28×1-" + "-".join(f"Conv{k}×{k}({c})" for _, (_, c), k in conv_layers()) + "-Dense(10)"
        if self.network == "lstm":
            vocabulary, dim, length, units = LSTM_SHAPE
            return f"{length} words-Embedding({vocabulary}, {dim})-LSTM({units})-Dense(1, sigmoid)"
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
CONV_FILTERS = (32, 64, 128)  # Conv2D 3×3 relu, MaxPooling2D(2) between, Flatten, Dense(10, softmax)
LSTM_SHAPE = (10_000, 32, 200, 32)  # vocabulary, embedding width, words per review, LSTM units
WORKLOADS["CONV"] = Workload("CONV", "MNIST convnet (ch. 8)", (784, 10), ("relu", "softmax"),
                             "sparse_categorical_crossentropy", "rmsprop", 1e-3, 64, 6_400, 640,
                             "s/epoch", 0, network="convnet", epoch_samples=60_000)
WORKLOADS["LSTM"] = Workload("LSTM", "IMDB LSTM", (200, 1), ("tanh", "sigmoid"), "binary_crossentropy", "rmsprop",
                             1e-3, 128, 2_560, 512, "s/epoch", 0, network="lstm", epoch_samples=25_000)
RMSPROP_RHO = 0.9
RMSPROP_EPSILON = 1e-7


def conv_layers() -> list[tuple[tuple[int, int], tuple[int, int], int]]:
    """CONV's convolutions as ((input side, channels), (output side, channels), kernel side): 'valid' 3×3
    convolutions on 28×28×1 images, each but the last followed by 2×2 max pooling."""
    layers, side, channels = [], 28, 1
    for i, filters in enumerate(CONV_FILTERS):
        out = side - 2
        layers.append(((side, channels), (out, filters), 3))
        side, channels = (out // 2 if i < len(CONV_FILTERS) - 1 else out), filters
    return layers


def initial_weights(workload: Workload, seed: int = 0) -> list[np.ndarray]:
    """Keras's default initialization as Keras orders it: [kernel, bias] per layer, kernel (fan_in, units)
    Glorot-uniform in ±√(6 / (fan_in + fan_out)), bias zeros; float32. Empty for CONV and LSTM, whose peers
    initialize themselves."""
    if workload.network != "dense":
        return []
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
