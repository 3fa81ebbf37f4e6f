"""glassnet, used exactly as a Keras user writes it: Sequential, Dense, compile, fit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from benchmarks.data import Dataset
from benchmarks.peers.keras_like import KerasStyleTrainer
from benchmarks.workloads import Workload

LABEL = "glassnet"
REQUIRES = ("glassnet",)
WORKLOADS = ("A", "B", "C", "D", "CONV", "LSTM")


def version() -> str:
    import glassnet

    return glassnet.__version__


def prepare() -> None:
    """Load the library before the worker measures its baseline memory: import it, and compile the fused optimizer
    updates that the workloads use (Numba's compiler and code: about 170 MB, paid once per process whatever the
    workload's size, as PyTorch pays its own runtime when imported)."""
    from glassnet import callbacks, layers, models, optimizers  # noqa: F401

    for optimizer in (optimizers.RMSprop(), optimizers.SGD()):
        optimizer.precompile("float32")


class Trainer(KerasStyleTrainer):
    def __init__(self, workload: Workload, data: Dataset, weights: list[np.ndarray], seed: int):
        import glassnet
        from glassnet import callbacks, layers, models, optimizers

        glassnet.backend.set_random_seed(seed)
        api = SimpleNamespace(layers=layers, models=models, optimizers=optimizers, callbacks=callbacks)
        super().__init__(api, workload, data, weights, seed)

    def describe(self) -> str | None:
        """How glassnet held the input it trained on, when not as a dense array (the report prints it)."""
        from glassnet.kernels import SparseRows

        if any(key[0] is SparseRows for key in self.model._cached_step.plans):
            return ("glassnet stored the input as SparseRows (the nonzeros of each row): its first layer's X·W and "
                    "Xᵀ·dZ skip the zeros, so it multiplies less than the dense matmuls of the bound count")
        return None
