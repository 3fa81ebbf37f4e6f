"""The workloads' data, built the same way in every worker: float32 inputs, float32 targets, integer labels.

A: real MNIST from ``glassnet.datasets.mnist`` scaled to [0, 1]; B: real IMDB reviews (10,000 most frequent
words) as multi-hot rows; C: the playground's circle data (-1/+1 labels); CONV: MNIST as (n, 28, 28, 1) images;
LSTM: IMDB reviews as word indices (10,000 words), cut and padded to 200. When a real dataset cannot be loaded
the data are synthetic of the same shape and density, and ``source`` says so.

The suite builds each workload's data once (``save``) and every timed worker reads the arrays back (``read``):
building IMDB's data goes through the Keras-style loader's lists of 11.7 million Python ints, and CPython keeps
about 100 MB of that allocation resident after it is freed; a worker that built its own data would count that as
training memory (the same for every peer).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from benchmarks.workloads import Workload


@dataclass
class Dataset:
    """Inputs ``x`` (n, features) float32, targets ``y`` as the Keras loss expects them (one-hot for A, (n, 1)
    otherwise) float32, integer class ``labels`` (for PyTorch's and scikit-learn's losses), and where they came
    from."""

    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    source: str

    @property
    def nbytes(self) -> int:
        return self.x.nbytes + self.y.nbytes


def save(dataset: Dataset, path: str | os.PathLike) -> None:
    """Write the dataset's arrays and source to ``path`` (.npz, uncompressed, no pickles)."""
    np.savez(path, x=dataset.x, y=dataset.y, labels=dataset.labels, source=np.array(dataset.source))


def read(path: str | os.PathLike) -> Dataset:
    """A dataset written by :func:`save`: its arrays only, nothing else allocated on the way."""
    with np.load(path, allow_pickle=False) as f:
        return Dataset(f["x"], f["y"], f["labels"], str(f["source"]))


def load(workload: Workload, samples: int) -> Dataset:
    """The first ``samples`` training samples of ``workload``'s dataset."""
    loaders = {"A": _mnist, "B": _imdb, "C": _circle, "D": _circle, "CONV": _mnist_images, "LSTM": _imdb_sequences}
    return loaders[workload.key](workload, samples)


def _one_hot(labels: np.ndarray, classes: int) -> np.ndarray:
    return np.eye(classes, dtype=np.float32)[labels]


def _mnist(workload: Workload, samples: int) -> Dataset:
    try:
        from glassnet.datasets import mnist

        (images, labels), _ = mnist.load_data()
        source = "real MNIST (glassnet.datasets.mnist)"
    except Exception as error:  # noqa: BLE001 - any failure to find the data means: use synthetic data
        rng = np.random.default_rng(1)
        images = rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, samples).astype(np.uint8)
        source = f"SYNTHETIC uniform random images (MNIST unavailable: {type(error).__name__}: {error})"
    x = np.empty((samples, workload.units[0]), dtype=np.float32)
    np.divide(images[:samples].reshape(samples, -1), np.float32(255), out=x)  # no float64 temporary
    labels = labels[:samples].astype(np.int64)
    return Dataset(x, _one_hot(labels, workload.units[-1]), labels, source)


def _imdb(workload: Workload, samples: int) -> Dataset:
    words = workload.units[0]
    try:
        from glassnet.datasets import imdb
        from glassnet.utils import multi_hot

        (sequences, labels), _ = imdb.load_data(num_words=words)
        x = multi_hot(sequences[:samples], words)
        source = f"real IMDB (glassnet.datasets.imdb, num_words={words})"
    except Exception as error:  # noqa: BLE001 - any failure to find the data means: use synthetic data
        rng = np.random.default_rng(2)
        x = (rng.random((samples, words), dtype=np.float32) < 0.012).astype(np.float32)
        labels = rng.integers(0, 2, samples)
        source = f"SYNTHETIC random multi-hot, 1.2% ones (IMDB unavailable: {type(error).__name__}: {error})"
    labels = np.asarray(labels[:samples], dtype=np.int64)
    source += f", {x.mean():.2%} ones"
    return Dataset(x, labels.astype(np.float32).reshape(-1, 1), labels, source)


def _circle(workload: Workload, samples: int) -> Dataset:
    from glassnet.datasets import toy2d

    x, y = toy2d.circle(samples, noise=0.0, seed=3, signed=True)
    return Dataset(x, y.reshape(-1, 1), (y > 0).astype(np.int64), "playground circle data (glassnet toy2d), -1/+1")


def _mnist_images(workload: Workload, samples: int) -> Dataset:
    """A's MNIST as images (n, 28, 28, 1) with integer labels (the sparse cross-entropy's targets)."""
    flat = _mnist(workload, samples)
    labels = flat.labels
    return Dataset(flat.x.reshape(samples, 28, 28, 1), labels, labels, flat.source)


def _imdb_sequences(workload: Workload, samples: int) -> Dataset:
    """IMDB reviews as word indices below 10,000, each cut to its last 200 words and padded in front with 0."""
    from benchmarks.workloads import LSTM_SHAPE

    vocabulary, _, length, _ = LSTM_SHAPE
    try:
        from glassnet.datasets import imdb
        from glassnet.utils import pad_sequences

        (sequences, labels), _ = imdb.load_data(num_words=vocabulary)
        x = pad_sequences(sequences[:samples], maxlen=length).astype(np.int64)
        source = f"real IMDB (glassnet.datasets.imdb, num_words={vocabulary}, maxlen {length})"
    except Exception as error:  # noqa: BLE001 - any failure to find the data means: use synthetic data
        rng = np.random.default_rng(2)
        x = rng.integers(1, vocabulary, (samples, length))
        labels = rng.integers(0, 2, samples)
        source = f"SYNTHETIC random word indices (IMDB unavailable: {type(error).__name__}: {error})"
    labels = np.asarray(labels[:samples], dtype=np.int64)
    return Dataset(x, labels.astype(np.float32).reshape(-1, 1), labels, source)
