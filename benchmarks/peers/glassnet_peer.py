"""glassnet, used exactly as a Keras user writes it: Sequential, Dense, compile, fit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from benchmarks.data import Dataset
from benchmarks.peers.keras_like import KerasStyleTrainer
from benchmarks.workloads import Workload

LABEL = "glassnet"
REQUIRES = ("glassnet",)
WORKLOADS = "ABC"


def version() -> str:
    import glassnet

    return glassnet.__version__


def prepare() -> None:
    """Import the library before the worker measures its baseline memory."""
    from glassnet import callbacks, layers, models, optimizers  # noqa: F401


class Trainer(KerasStyleTrainer):
    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        import glassnet
        from glassnet import callbacks, layers, models, optimizers

        glassnet.backend.set_random_seed(seed)
        api = SimpleNamespace(layers=layers, models=models, optimizers=optimizers, callbacks=callbacks)
        super().__init__(api, workload, data, weights, seed)
