"""``keras.models.clone_model``: a new model of the same architecture, with new weights.

Each layer is made again from its config (or by ``clone_function(layer)``), so the clone starts from fresh
initial values, as in Keras; a functional graph is recorded again on the new layers; a subclassed model is made
from its own ``get_config``.
"""

from __future__ import annotations

from collections.abc import Callable

from glassnet.layers.base import Layer
from glassnet.layers.input_layer import InputLayer
from glassnet.models.functional import Functional
from glassnet.models.model import Model
from glassnet.models.sequential import Sequential


def _fresh_copy(layer: Layer) -> Layer:
    """The same layer made again from its config: same name and settings, new weights."""
    if isinstance(layer, Model):
        return clone_model(layer)
    return type(layer).from_config(layer.get_config())


def clone_model(model: Model, input_tensors=None, clone_function: Callable[[Layer], Layer] | None = None,
                **kwargs) -> Model:
    """A new, uncompiled model with ``model``'s architecture and new weights (``clone_function(layer)`` makes each
    layer; default: the layer re-made from its config). ``input_tensors`` is not supported: the clone makes its
    own Inputs of the same shapes."""
    if input_tensors is not None:
        raise ValueError("clone_model: glassnet makes the clone's own Inputs (same shapes, dtypes and names); "
                         f"`input_tensors` is not supported, received {input_tensors!r}")
    if kwargs:
        raise TypeError(f"clone_model: unexpected arguments {sorted(kwargs)}")
    if not isinstance(model, Model):
        raise ValueError(f"Expected `model` argument to be a `Model` instance. Received: model={model!r}")
    clone_layer = clone_function or _fresh_copy
    if isinstance(model, Sequential):
        shape = model.expected_input_shape()
        dtype = model.inputs[0].dtype if model.built else None
        inputs = [] if shape is None else [InputLayer(batch_shape=shape, dtype=dtype)]
        return Sequential([*inputs, *(clone_layer(layer) for layer in model.layers)], trainable=model.trainable,
                          name=model.name)
    if isinstance(model, Functional):
        return model.clone(clone_layer)
    return type(model).from_config(model.get_config())
