"""The experiment as constructor calls kept as data: the session runs them, "Export as Python" prints them.

One description serves both, so the exported code builds exactly the model the page trains: the same layers,
initializers (with the same seeds), regularizers, loss and optimizer.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from glassnet.playground.settings import hidden_activations

NUM_SAMPLES = {"classification": 500, "regression": 1200}  # as on playground.tensorflow.org
INITIALIZERS = {
    "glorot_uniform": ("GlorotUniform", {}),
    "he_normal": ("HeNormal", {}),
    "random_normal": ("RandomNormal", {"stddev": 0.5}),
    "random_uniform": ("RandomUniform", {"minval": -0.5, "maxval": 0.5}),  # the playground's own initialization
    "zeros": ("Zeros", {}),
}


@dataclass(frozen=True)
class Call:
    """``glassnet.<module>.<name>(*args, **kwargs)``; arguments may themselves be Calls."""

    module: str
    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def build(self):
        """Run the call and return the object it makes."""
        target = getattr(importlib.import_module(f"glassnet.{self.module}"), self.name)
        return target(*[_built(a) for a in self.args], **{k: _built(v) for k, v in self.kwargs.items()})

    def code(self) -> str:
        """The call as Python source, for a file that imports ``from glassnet import <module>``."""
        parts = [_source(a) for a in self.args] + [f"{k}={_source(v)}" for k, v in self.kwargs.items()]
        return f"{self.module}.{self.name}({', '.join(parts)})"


class LayerList(tuple):
    """A list argument of Calls (Sequential's layers), printed one per line."""

    def build(self) -> list:
        return [c.build() for c in self]

    def code(self) -> str:
        return "[\n" + "".join(f"    {c.code()},\n" for c in self) + "]"


def _built(value):
    return value.build() if isinstance(value, (Call, LayerList)) else value


def _source(value) -> str:
    return value.code() if isinstance(value, (Call, LayerList)) else repr(value)


def _initializer(settings: dict, index: int) -> Call:
    """The kernel initializer of Dense layer ``index``: each layer draws from its own seed, derived from init_seed."""
    name, kwargs = INITIALIZERS[settings["initializer"]]
    if name != "Zeros":
        kwargs = {**kwargs, "seed": settings["init_seed"] * 16 + index}
    return Call("initializers", name, kwargs=kwargs)


def _regularizer(settings: dict) -> Call | None:
    kind, rate = settings["regularization"], settings["regularization_rate"]
    if kind == "none" or rate == 0:
        return None
    return Call("regularizers", kind.upper(), (rate,))


def layers(settings: dict) -> list[Call]:
    """Input, then per hidden layer a Dense (and a Dropout when asked), then the output Dense: sigmoid for
    classification (a probability of class 1), linear for regression."""
    regularizer = _regularizer(settings)

    def dense(units: int, activation: str, index: int) -> Call:
        kwargs = {"activation": activation, "kernel_initializer": _initializer(settings, index)}
        if regularizer is not None:
            kwargs["kernel_regularizer"] = regularizer
        return Call("layers", "Dense", (units,), kwargs)

    out = [Call("layers", "Input", kwargs={"shape": (len(settings["features"]),)})]
    for i, (n, activation) in enumerate(zip(settings["layers"], hidden_activations(settings))):
        out.append(dense(n, activation, i))
        if settings["dropout"] > 0:
            out.append(Call("layers", "Dropout", (settings["dropout"],), {"seed": settings["init_seed"] * 16 + i}))
    output_activation = "sigmoid" if settings["problem"] == "classification" else "linear"
    return out + [dense(1, output_activation, len(settings["layers"]))]


def model(settings: dict) -> Call:
    return Call("models", "Sequential", (LayerList(layers(settings)),))


def optimizer(settings: dict) -> Call:
    lr = settings["learning_rate"]
    return {
        "sgd": Call("optimizers", "SGD", kwargs={"learning_rate": lr}),
        "momentum": Call("optimizers", "SGD", kwargs={"learning_rate": lr, "momentum": 0.9}),
        "adam": Call("optimizers", "Adam", kwargs={"learning_rate": lr}),
    }[settings["optimizer"]]


def loss(settings: dict) -> Call:
    """Binary cross-entropy on the sigmoid output, or the mean squared error."""
    if settings["loss"] == "crossentropy":
        return Call("losses", "BinaryCrossentropy")
    return Call("losses", "MeanSquaredError")
