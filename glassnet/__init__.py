"""glassnet: a Keras-compatible neural-network library on a NumPy autodiff engine you can see through.

``import glassnet as keras`` runs Keras code: ``keras.Sequential``, ``keras.layers.Dense``, ``keras.optimizers``,
``keras.datasets.mnist.load_data()``, ... Then ``glassnet.inspect`` opens the box.
"""

# First: glassnet.ops gives Tensor its Python operators (+, @, [], .sum(), ...). Importing any glassnet module runs
# this file first, so they are attached before user code reaches a Tensor (even `from glassnet.autodiff import
# Tensor`). The tiers below glassnet.ops (backend, autodiff) never import it, and use no operator at import time.
from glassnet import ops
from glassnet.version import __version__ as __version__  # re-exported

# isort: split
from glassnet import (
    activations,
    autodiff,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    initializers,
    layers,
    losses,
    metrics,
    models,
    optimizers,
    random,
    regularizers,
    utils,
)
from glassnet.autodiff import Tensor, Variable, no_grad
from glassnet.keras_names import missing_attribute
from glassnet.layers import Input
from glassnet.layers.symbolic import KerasTensor
from glassnet.models import Model, Sequential, load_model

__all__ = [
    "Input", "KerasTensor", "Model", "Sequential", "Tensor", "Variable", "activations", "autodiff", "backend",
    "callbacks", "config",
    "constraints", "datasets", "initializers", "layers", "load_model", "losses", "metrics", "models", "no_grad", "ops",
    "optimizers", "random", "regularizers", "utils",
]


def _layer_flops(model) -> dict[str, int]:
    """summary(show_flops=True)'s counter: glassnet.inspect's cost model, imported when a summary first asks (on
    first use, as ``__getattr__`` imports inspect below)."""
    import importlib

    return importlib.import_module("glassnet.inspect.profile").layer_flops(model)


models.summary.count_flops_with(_layer_flops)  # models sit below inspect: this package hands the counter down


def __getattr__(name: str):
    """``glassnet.inspect`` and ``glassnet.wrappers`` are imported on first use (they pull in more than training
    needs); a Keras name glassnet lacks raises an error saying it does not implement it yet."""
    if name in ("inspect", "wrappers"):
        import importlib

        return importlib.import_module(f"glassnet.{name}")
    raise missing_attribute(__name__, name)
