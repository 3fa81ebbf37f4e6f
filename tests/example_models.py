"""Small models for the inspect tests: any callable with ``layers`` and ``loss`` is traceable."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from glassnet import losses
from glassnet.layers import Dense


class Stack:
    """A minimal Sequential stand-in: calls its layers in order; ``loss`` as compile would set it."""

    def __init__(self, layers, loss=None):
        self.layers, self.loss = layers, loss

    def __call__(self, x, training: bool = False):
        for layer in self.layers:
            x = layer(x)
        return x


def net_2_3_1(seed: int = 0) -> Stack:
    """The course's 2-3-1 network: Dense(3, sigmoid) on 2 inputs, Dense(1, sigmoid), binary cross-entropy."""
    model = Stack([Dense(3, activation="sigmoid", kernel_initializer="glorot_uniform"),
                   Dense(1, activation="sigmoid")], losses.BinaryCrossentropy())
    model(np.zeros((1, 2), dtype="float32"))  # build
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        layer.kernel.assign(rng.standard_normal(layer.kernel.shape))
        layer.bias.assign(rng.standard_normal(layer.bias.shape))
    return model


def example(name: str):
    """The module ``examples/NAME.py`` of this repository (the examples folder is not a package)."""
    path = Path(__file__).resolve().parents[1] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
