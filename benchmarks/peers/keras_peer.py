"""Keras 3 on its PyTorch backend (KERAS_BACKEND=torch), the same program as the glassnet peer."""

from __future__ import annotations

import os
from types import SimpleNamespace

import numpy as np

from benchmarks.data import Dataset
from benchmarks.peers.keras_like import KerasStyleTrainer
from benchmarks.workloads import Workload

LABEL = "Keras 3 (torch backend)"
REQUIRES = ("keras", "torch")
WORKLOADS = ("A", "B", "C", "D", "CONV", "LSTM")


def version() -> str:
    from importlib.metadata import version as installed

    return installed("keras")


def prepare() -> None:
    """Select the torch backend, import Keras and give torch the benchmark's thread count."""
    os.environ["KERAS_BACKEND"] = "torch"
    import keras  # noqa: F401
    import torch

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))


class Trainer(KerasStyleTrainer):
    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        import keras

        keras.utils.set_random_seed(seed)
        api = SimpleNamespace(layers=keras.layers, models=keras.models, optimizers=keras.optimizers,
                              callbacks=keras.callbacks)
        super().__init__(api, workload, data, weights, seed)
