"""Model: what every glassnet model is (``keras.Model``) — a Layer made of layers, with the training API.

Three kinds share it, as in Keras 3:

- ``Model(inputs, outputs)``: a functional model, a graph of layer calls on ``keras.Input`` tensors
  (models/functional.py; ``Model(...)`` with inputs makes one);
- ``Sequential([...])``: a stack (models/sequential.py);
- ``class MyModel(Model)`` with ``__init__`` creating layers and ``call(inputs, training=None)`` using them:
  a subclassed model, whose layers are the ones held in its attributes.

Weights, penalties and ``trainable`` come from the Layer base (a layer's weights are its own and its layers');
compile/fit/evaluate/predict from the Trainer; this class adds what all models show: ``layers``, ``get_layer``,
``summary``, ``get_weights``/``set_weights``, and the files.
"""

from __future__ import annotations

import json
import os

import numpy as np

from glassnet import backend, keras_format
from glassnet.autodiff.tensor import Tensor, as_tensor, no_grad
from glassnet.keras_format import objects as keras_objects
from glassnet.layers.base import Layer, training_mode
from glassnet.layers.symbolic import is_shape, is_symbolic, map_shapes, map_structure
from glassnet.models import display
from glassnet.models import summary as summary_module
from glassnet.models.trainer import Trainer

_functional_subclasses: dict[type, type] = {}  # a subclass of Model -> the same subclass over a functional graph


class Model(Trainer, Layer):
    """``keras.Model``: ``Model(inputs, outputs, name=None)`` for a functional model, or subclass it and write
    ``call(inputs, training=None)``."""

    functional_class: type | None = None  # set by models/functional.py: the class Model(inputs, outputs) makes
    _noun = "model"

    def __new__(cls, *args, **kwargs):
        """``Model(inputs, outputs)`` makes a functional model; so does a subclass given inputs and outputs (its
        methods, e.g. a custom ``train_step``, over a functional graph), as in Keras."""
        functional = Model.functional_class
        given = len(args) == 2 or (len(args) == 1 and "outputs" in kwargs) or {"inputs", "outputs"} <= set(kwargs)
        if not given or issubclass(cls, functional):
            return super().__new__(cls)
        if cls is Model:
            return super().__new__(functional)
        if cls not in _functional_subclasses:
            _functional_subclasses[cls] = type(cls.__name__, (cls, functional), {"__module__": cls.__module__})
        return super().__new__(_functional_subclasses[cls])

    def __init__(self, *, name: str | None = None, trainable: bool = True, **kwargs):
        Layer.__init__(self, name=name, trainable=trainable, **kwargs)
        Trainer.__init__(self)
        self._output_shape: tuple | None = None

    # ----- the layers --------------------------------------------------------------------------------------------
    @property
    def layers(self) -> list[Layer]:
        """The model's layers: for a subclassed model, the layers held in its attributes, in assignment order."""
        return self._tracked_layers()

    def step_layers(self) -> list[Layer]:
        """The layers a training step runs through, Input layers first, for the trainer's choices of how to store
        the inputs (SparseRows only for a first Dense) and whether a batch may be split into slices (only when
        every layer treats samples apart). A subclassed model lists itself first: its own ``call`` runs too, and
        no choice may assume what that code does."""
        return [self, *self.layers]

    def input_readers(self, x) -> list[tuple[object, list[Layer]]]:
        """Each input's data in ``x`` with the layers that read it as given, so that fit can check the whole data
        against them before any step (an Embedding's indices); none for a subclassed model, whose ``call`` may do
        anything first."""
        return []

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """The layer called ``name``, or at position ``index`` of ``model.layers`` (exactly one of the two)."""
        if (name is None) == (index is None):
            raise ValueError(f"Provide either a layer name or layer index at `get_layer`. Received: name={name!r}, "
                             f"index={index!r}.")
        layers = self.layers
        if index is not None:
            if not isinstance(index, int) or not -len(layers) <= index < len(layers):
                raise ValueError(f"Was asked to retrieve layer at index {index} but model only has {len(layers)} "
                                 "layers.")
            return layers[index]
        for layer in layers:
            if layer.name == name:
                return layer
        raise ValueError(f"No such layer: {name}. Existing layers are: {[layer.name for layer in layers]}.")

    # ----- calling and building ----------------------------------------------------------------------------------
    def __call__(self, inputs, training: bool | None = None, mask=None, **kwargs):
        """On symbolic tensors, record the call (a model used as a layer); on data, build on first use and run
        ``call`` in the given training mode (inherited when None)."""
        if is_symbolic(inputs):
            return self._symbolic_call(inputs, (), kwargs)
        inputs = map_structure(_as_model_input, inputs)
        if not self.built:
            self._build_for(inputs)
        if self._call_takes_mask:
            kwargs["mask"] = mask
        self._call_losses = []
        with training_mode(training) as training:
            if self._call_takes_training:
                kwargs["training"] = training
            return self.call(inputs, **kwargs)

    def call(self, inputs, training: bool | None = None):
        raise NotImplementedError(f"Model '{self.name}' ({type(self).__name__}) has no `call` method. A subclass of "
                                  "Model defines `call(self, inputs, training=None)`; or make a functional model "
                                  "with `Model(inputs, outputs)`.")

    def build(self, input_shape) -> None:
        """Create the weights of a subclassed model for inputs of ``input_shape`` (batch first, None allowed): run
        ``call`` on a zero batch of that shape, in inference mode, as Keras builds it."""
        probe = map_shapes(lambda shape: Tensor(np.zeros(tuple(2 if d is None else d for d in shape),
                                                         dtype=backend.floatx())), input_shape)
        self.built = True  # before the call: the probe must not build again
        try:
            with no_grad(), training_mode(False):
                outputs = self.call(probe)
        except Exception:
            self.built = False
            raise
        self._mark_built(input_shape)
        self._output_shape = map_structure(lambda t: (None, *t.shape[1:]), outputs)

    def _takes_structures(self) -> bool:
        return True

    def _takes_strings(self) -> bool:
        inputs = self.inputs if self.built and hasattr(type(self), "inputs") else []
        return len(inputs) == 1 and inputs[0].dtype == "string"

    @property
    def output_names(self) -> list | None:
        """A subclassed model's outputs have no names (None each; a dict's keys for a dict of outputs), so its
        logs name each output's loss and metrics after the loss and metric themselves, as Keras does; None
        before the model is built."""
        if self._output_shape is None:
            return None
        if isinstance(self._output_shape, dict):
            return sorted(self._output_shape)
        return [None] * (1 if is_shape(self._output_shape) else len(self._output_shape))

    def expected_input_shape(self) -> tuple | None:
        """The input shape (batch first, None for the batch) the model is built for; None if unknown."""
        return self._build_input_shape

    @property
    def input_shape(self) -> tuple:
        self._require_built("input_shape")
        return self._build_input_shape

    @property
    def output_shape(self) -> tuple:
        self._require_built("output_shape")
        return self._output_shape

    def output_shape_of(self, layer: Layer):
        """The output shape of one of the model's layers (for the summary); None when it is not known."""
        if not layer.built:
            return None
        build_shape = layer.get_build_config()["input_shape"]
        return None if build_shape is None else layer.compute_output_shape(build_shape)

    def _require_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"{type(self).__name__} model '{self.name}' has not been built yet, so it has no {what}. Call it on "
                "data, call `model.build(input_shape)`, or start it with `Input(shape)`."
            )

    # ----- weights -----------------------------------------------------------------------------------------------
    @property
    def variables(self):
        return self.weights

    def count_params(self) -> int:
        """The number of scalars in all weights."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on model '{self.name}', but the model isn't built. You can build "
                "it manually via: `model.build(input_shape)`, or start it with `Input(shape)`."
            )
        return int(sum(w.size for w in self.weights))

    def set_weights(self, weights) -> None:
        """Set all weights from a list like the one ``get_weights`` returns (checked before anything changes)."""
        self._require_built("weights to set")
        super().set_weights(weights)

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> Model:
        """A functional config (with ``input_layers``) makes a functional model; otherwise the class is called
        with the config's arguments, as Keras rebuilds a subclassed model."""
        if cls is Model and isinstance(config, dict) and "input_layers" in config:
            return Model.functional_class.from_config(config, custom_objects=custom_objects)
        return cls(**config)

    # ----- description -------------------------------------------------------------------------------------------
    def connections_of(self, layer: Layer) -> str | None:
        """The summary's "Connected to" cell for ``layer`` (None: the model shows no such column)."""
        return None

    def _repr_html_(self) -> str:
        """In Jupyter, a model displays as its summary table in HTML."""
        return display.summary_html(self)

    def summary(self, line_length: int | None = None, positions=None, print_fn=None, expand_nested: bool = False,
                show_trainable: bool = False, layer_range=None, show_flops: bool = False) -> None:
        """Print Keras 3's summary table: each layer's name (type), output shape and parameter count (and, for a
        functional model that is not a chain, what it is connected to), then the parameter totals with their
        memory size. ``print_fn`` receives the whole text (one string), as in Keras 3. ``show_flops=True``
        (glassnet's) adds each layer's forward FLOPs for one sample, counted by glassnet.inspect's cost model."""
        text = "\n".join(summary_module.summary_lines(self, line_length=line_length, positions=positions,
                                                      show_flops=show_flops))
        (print_fn or print)(text)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"

    def to_json(self, **kwargs) -> str:
        """The architecture as Keras 3's JSON (a ``.keras`` file's config, without weights or compile settings);
        ``keras.models.model_from_json`` rebuilds it in Keras or in glassnet. ``kwargs`` go to ``json.dumps``."""
        self._require_built("an architecture to write")
        config = keras_objects.keras_config(self)
        config.pop("compile_config", None)
        return json.dumps(config, **kwargs)

    # ----- files -------------------------------------------------------------------------------------------------
    def save(self, filepath: str | os.PathLike, overwrite: bool = True, **kwargs) -> None:
        """Save architecture, weights, compile settings and optimizer state, atomically, in the format the extension
        names, as Keras 3: ``.keras`` (Keras 3's zip), ``.h5`` (Keras 2's HDF5) or ``.glassnet`` (glassnet's own).
        ``include_optimizer=False`` leaves the compile settings and optimizer state out."""
        keras_format.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath: str | os.PathLike, overwrite: bool = True) -> None:
        """Save the weights (and the optimizer's variables, when compiled) as Keras 3's ``.weights.h5``, atomically."""
        self._require_built("weights to save")
        keras_format.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath: str | os.PathLike) -> None:
        """Load weights from a ``.keras``, ``.weights.h5``, Keras 2 ``.h5`` or ``.glassnet`` file (the optimizer's
        variables too, when the model is compiled and the file has them); count and shapes are checked first."""
        self._require_built("weights to load into")
        keras_format.load_weights(self, filepath)

    def export(self, filepath: str | os.PathLike, format: str = "onnx", verbose=None,  # noqa: A002
               input_signature=None, **kwargs) -> None:
        """Export the model for inference elsewhere: ``format="onnx"`` writes the ONNX file ``filepath`` (opset 17;
        Dense, convolution, pooling and activation layers)."""
        keras_format.export(self, filepath, format=format, verbose=verbose, input_signature=input_signature,
                            **kwargs)


def _as_model_input(value):
    """Model inputs as Tensors (float data of another precision becomes floatx, int data stays int); texts stay a
    NumPy array, for a first TextVectorization or StringLookup to read."""
    if isinstance(value, np.ndarray) and value.dtype.kind in "OUS":
        return value
    x = as_tensor(value)
    if x.op is None and not x.requires_grad and x.dtype.kind == "f" and x.dtype != backend.floatx():
        x = Tensor(x.data, dtype=backend.floatx())
    return x
