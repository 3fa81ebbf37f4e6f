"""Sequential: a plain stack of layers, each feeding the next, with Keras 3's model API.

Layers are added with ``add`` (or given as a list); the model builds lazily on its first call, on ``build``, or as
soon as the input shape is known (an ``Input`` first, or ``input_shape=``/``input_dim=`` on the first layer).
Training, evaluation and prediction come from :class:`~glassnet.models.trainer.Trainer`.
"""

from __future__ import annotations

import numpy as np

from glassnet import layers as layers_module
from glassnet.autodiff.tensor import Tensor, WeightChanges
from glassnet.layers.base import Layer, training_mode
from glassnet.layers.input_layer import InputLayer
from glassnet.layers.symbolic import KerasTensor, is_symbolic
from glassnet.models.model import Model


class Sequential(Model):
    """``Sequential(layers=None, trainable=True, name=None)``: ``model(x)`` applies the layers in order."""

    def __init__(self, layers=None, trainable: bool = True, name: str | None = None):
        super().__init__(name=name, trainable=trainable)
        self._layers: list[Layer] = []
        self._output_shapes: dict[str, tuple] = {}  # by layer name (unique in a model; survives copies)
        for layer in layers or []:
            self.add(layer, rebuild=False)
        self._maybe_rebuild()

    # ----- the stack -------------------------------------------------------------------------------------------
    def add(self, layer, rebuild: bool = True) -> None:
        """Append a layer; an ``Input(shape)`` (or InputLayer) may come first to declare the input shape."""
        if isinstance(layer, KerasTensor):
            layer = layer.operation
        if not isinstance(layer, Layer):
            raise ValueError(
                f"Only instances of `glassnet.layers.Layer` can be added to a Sequential model. Received: {layer!r} "
                f"(of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._layers:
                raise ValueError(
                    f"Sequential model '{self.name}' has already been configured to use input shape "
                    f"{self._input_batch_shape()}. You cannot add a different Input layer to it."
                    if self._has_input_layer() else
                    "An Input (InputLayer) can only be the first layer of a Sequential model; "
                    f"'{self.name}' already has {len(self._layers)} layer(s)."
                )
        elif not self._layers and layer._input_shape_arg is not None:
            self._layers.append(InputLayer(shape=layer._input_shape_arg, batch_size=layer._batch_size_arg))
        names = {existing.name for existing in self._layers}
        if layer.name in names:
            raise ValueError(
                f"All layers added to a Sequential model should have unique names. Name '{layer.name}' is already "
                "the name of a layer in this model. Update the `name` argument to pass a unique name."
            )
        self._layers.append(layer)
        WeightChanges.note()
        self.built = False
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild: bool = True) -> Layer:
        """Remove and return the last layer."""
        if not self.layers:
            raise IndexError(f"There are no layers in the model '{self.name}' to pop.")
        layer = self._layers.pop()
        WeightChanges.note()
        self.built = False
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _has_input_layer(self) -> bool:
        return bool(self._layers) and isinstance(self._layers[0], InputLayer)

    def _input_batch_shape(self) -> tuple | None:
        return tuple(self._layers[0].batch_shape) if self._has_input_layer() else None

    def _maybe_rebuild(self) -> None:
        if self._has_input_layer() and len(self._layers) > 1:
            self.build(self._input_batch_shape())

    @property
    def layers(self) -> list[Layer]:
        """The layers, without the InputLayer (as in Keras)."""
        return self._layers[1:] if self._has_input_layer() else list(self._layers)

    def _tracked_layers(self) -> list[Layer]:
        return self.layers

    def step_layers(self) -> list[Layer]:
        return list(self._layers)

    def input_readers(self, x) -> list[tuple[object, list[Layer]]]:
        return [(x, self.layers[:1])]

    def _takes_structures(self) -> bool:
        return False

    @property
    def output_names(self) -> list[str] | None:
        return [self.layers[-1].name] if self.layers else None

    @property
    def inputs(self) -> list[KerasTensor]:
        """The Input tensor of the first layer, in a list (once the model knows its input shape)."""
        self._require_built("inputs")
        return [self._layers[0].output]

    @property
    def input(self) -> KerasTensor:
        return self.inputs[0]

    def expected_input_shape(self) -> tuple | None:
        """The input shape (batch first, None for the batch) the model is built for or declares; None if unknown."""
        if self._build_input_shape is not None:
            return self._build_input_shape
        return self._input_batch_shape()

    # ----- building and calling --------------------------------------------------------------------------------
    def build(self, input_shape=None) -> None:
        """Create every layer's weights for inputs of ``input_shape`` (batch first; the batch may be None)."""
        if input_shape is None:
            input_shape = self._input_batch_shape()
            if input_shape is None:
                raise ValueError(
                    f"You must provide an `input_shape` argument to build Sequential model '{self.name}', or "
                    "start it with an Input(shape) layer."
                )
        shape = (None, *tuple(input_shape)[1:])
        if not self.layers:
            raise ValueError(f"Sequential model '{self.name}' has no layers to build; add layers first.")
        if not self._has_input_layer():
            self._layers.insert(0, InputLayer(batch_shape=shape))
        elif tuple(self._layers[0].batch_shape[1:]) != shape[1:]:
            raise ValueError(
                f"Sequential model '{self.name}' was declared with input shape {self._input_batch_shape()}; "
                f"it cannot be built for input shape {tuple(input_shape)}"
            )
        self._output_shapes = {}
        for layer in self.layers:
            if not layer.built:
                layer.build(shape)
            shape = tuple(layer.compute_output_shape(shape))
            self._output_shapes[layer.name] = shape
        self._build_input_shape = (None, *tuple(self._input_batch_shape())[1:])
        self.built = True

    def output_shape_of(self, layer: Layer) -> tuple:
        return self._output_shapes[layer.name]

    @property
    def output_shape(self) -> tuple:
        self._require_built("output_shape")
        return self._output_shapes[self.layers[-1].name]

    def __call__(self, inputs, training: bool | None = None, mask=None) -> Tensor:
        """Apply the layers in order; builds the model on the first call from the inputs' shape. On a symbolic
        tensor, records the call (the model used as a layer of a functional model)."""
        if is_symbolic(inputs):
            return self._symbolic_call(inputs, (), {})
        if not self.built:
            shape = np.shape(inputs.data if isinstance(inputs, Tensor) else inputs)
            self.build((None, *shape[1:]))
        x = inputs
        with training_mode(training):
            for layer in self._layers:
                x = layer(x)
        return x

    call = __call__

    def __repr__(self) -> str:
        return f"<Sequential name={self.name}, built={self.built}, layers={[layer.name for layer in self.layers]}>"

    # ----- configuration and files -----------------------------------------------------------------------------
    def get_config(self) -> dict:
        """Name, trainable flag, the layers' configs (InputLayer included) and the build input shape."""
        config = {"name": self.name, "trainable": self.trainable,
                  "layers": [layers_module.serialize(layer) for layer in self._layers]}
        if self._build_input_shape is not None:
            config["build_input_shape"] = list(self._build_input_shape)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Sequential:
        """A new model from ``get_config()``'s output; only known layer classes (or ``custom_objects``) are built."""
        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config.get("layers", []):
            model.add(layers_module.deserialize(layer_config, custom_objects=custom_objects), rebuild=False)
        build_shape = config.get("build_input_shape")
        if build_shape is not None:
            model.build(tuple(build_shape))
        else:
            model._maybe_rebuild()
        return model
