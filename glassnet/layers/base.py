"""The Layer base class: Keras's build/call lifecycle, weights, automatic names, configs and penalties.

A layer declares its weights in ``build(input_shape)`` with ``add_weight`` and composes ops in ``call``; it is built
lazily by its first ``__call__`` (or explicitly by ``build``). ``__call__`` checks the input against the layer's
``input_spec``, runs ``call`` inside ``name_scope(layer.name)`` so every op is labelled with the layer, and
gathers the activity-regularization losses of that call.

Weights are glassnet Variables named ``"<layer name>/<weight name>"`` (``"dense_1/kernel"``), which is what Keras 3
calls ``variable.path``; the short name (``"kernel"``) is the part after the last ``/``.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import re
import threading
from collections import defaultdict
from collections.abc import Iterator

import numpy as np

from glassnet import backend, constraints, initializers, ops, regularizers
from glassnet.autodiff.tensor import Tensor, Variable, WeightChanges, as_tensor, name_scope, no_grad
from glassnet.layers.symbolic import KerasTensor, Node, flatten, is_symbolic, map_shapes, map_structure, pack_like

_name_counts: defaultdict[str, int] = defaultdict(int)
_call_context = threading.local()


@contextlib.contextmanager
def training_mode(training: bool | None) -> Iterator[bool]:
    """The training mode of the calls inside: ``training``, or the enclosing call's when None (False at the top),
    so a layer called in a custom ``call`` without ``training=`` follows the model's mode, as in Keras."""
    previous = getattr(_call_context, "training", None)
    resolved = bool(previous) if training is None else bool(training)
    _call_context.training = resolved
    try:
        yield resolved
    finally:
        _call_context.training = previous


def _zeros_like_spec(tensor, size: int) -> Tensor:
    """A zero Tensor standing in for a symbolic one, with ``size`` for every unknown dimension."""
    if not isinstance(tensor, KerasTensor):
        return tensor
    return Tensor(np.zeros(tuple(size if d is None else d for d in tensor.shape), dtype=tensor.dtype))


def _shape_seen(first: tuple, second: tuple, batch) -> tuple:
    """An output shape from two probes with different stand-ins for the unknown sizes: a dimension that changed
    with them is unknown (None); the batch dimension is the input's."""
    dims = tuple(a if a == b else None for a, b in zip(first, second))
    return (batch, *dims[1:]) if dims else dims


def to_snake_case(name: str) -> str:
    """Keras's class-name to layer-name rule: ``Dense`` → ``dense``, ``InputLayer`` → ``input_layer``."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def unique_name(prefix: str) -> str:
    """``prefix`` the first time, then ``prefix_1``, ``prefix_2``, ... (one counter per prefix, like Keras)."""
    count = _name_counts[prefix]
    _name_counts[prefix] += 1
    return prefix if count == 0 else f"{prefix}_{count}"


def reset_uids() -> None:
    """Restart automatic names (the next Dense is ``dense`` again), as ``keras.backend.clear_session`` does."""
    _name_counts.clear()


clear_session = reset_uids
backend.on_clear_session(reset_uids)  # keras.backend.clear_session() restarts the names too


class InputSpec:
    """What a layer accepts: a rank (``ndim``/``min_ndim``), fixed sizes on some ``axes`` ({-1: 784}), or a full
    ``shape`` whose None entries match anything. ``Layer.__call__`` checks inputs against it."""

    def __init__(self, ndim: int | None = None, min_ndim: int | None = None, axes: dict[int, int] | None = None,
                 shape: tuple | None = None):
        self.ndim, self.min_ndim, self.axes = ndim, min_ndim, dict(axes or {})
        self.shape = tuple(shape) if shape is not None else None

    def check(self, layer: Layer, shape: tuple[int, ...]) -> None:
        """Raise ValueError naming the layer, what it expects and the shape it received."""
        who = f"{type(layer).__name__} '{layer.name}'"
        if self.ndim is not None and len(shape) != self.ndim:
            raise ValueError(f"{who} expects inputs with {self.ndim} dimensions, received shape {shape}")
        if self.min_ndim is not None and len(shape) < self.min_ndim:
            raise ValueError(
                f"{who} expects inputs with at least {self.min_ndim} dimensions (batch first), received shape {shape}"
            )
        for axis, size in self.axes.items():
            if size is not None and (len(shape) < abs(axis) + (axis >= 0) or shape[axis] != size):
                where = "last dimension" if axis == -1 else f"dimension {axis} equal to"
                raise ValueError(f"{who} expects inputs with {where} {size}, received shape {shape}")
        if self.shape is not None and (
            len(shape) != len(self.shape) or any(e is not None and e != s for e, s in zip(self.shape, shape))
        ):
            raise ValueError(f"{who} expects inputs of shape {self.shape}, received shape {shape}")

    def __repr__(self) -> str:
        parts = {"ndim": self.ndim, "min_ndim": self.min_ndim, "axes": self.axes or None, "shape": self.shape}
        return "InputSpec(" + ", ".join(f"{k}={v}" for k, v in parts.items() if v is not None) + ")"


class Layer:
    """Base class of every layer (``keras.layers.Layer``).

    Keyword arguments every layer takes: ``name`` (default: a unique snake_case name), ``trainable``, ``dtype``
    (of the weights; default ``backend.floatx()``), ``activity_regularizer``, and the input declaration
    ``input_shape=(784,)`` / ``input_dim=784`` / ``batch_size`` / ``batch_input_shape`` that Sequential reads
    from its first layer (kept in ``_input_shape_arg`` without the batch dimension).
    """

    input_spec: InputSpec | None = None
    supports_masking = False  # True: the output keeps the input's mask (layers that act per timestep)
    _noun = "layer"  # what messages call it ("model" for a Model)
    _call_takes_training = False
    _call_takes_mask = False

    def __init__(self, *, name: str | None = None, trainable: bool = True, dtype=None,
                 activity_regularizer=None, **kwargs):
        input_shape = kwargs.pop("input_shape", None)
        input_dim = kwargs.pop("input_dim", None)
        batch_size = kwargs.pop("batch_size", None)
        batch_input_shape = kwargs.pop("batch_input_shape", None)
        if kwargs:
            raise TypeError(f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}")
        if name is not None and (not isinstance(name, str) or "/" in name or not name):
            raise ValueError(f"Argument `name` must be a non-empty string without '/'. Received: name={name!r}")
        if input_dim is not None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            batch_size, input_shape = batch_input_shape[0], tuple(batch_input_shape[1:])
        self._input_shape_arg = tuple(input_shape) if input_shape is not None else None
        self._batch_size_arg = batch_size
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self._dtype = None if dtype is None else "string" if dtype in ("string", str) else np.dtype(dtype).name
        self._trainable = bool(trainable)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._build_input_shape: tuple | None = None
        self._trainable_variables: list[Variable] = []
        self._non_trainable_variables: list[Variable] = []
        self._weight_regularizers: list[tuple[Variable, object]] = []
        self._call_losses: list[Tensor] = []
        self._inbound_nodes: list[Node] = []

    def __setattr__(self, name: str, value) -> None:
        """Track layers held in attributes (directly or in a list/tuple), so their weights are this layer's too."""
        if isinstance(value, Layer) or (isinstance(value, (list, tuple))
                                        and any(isinstance(item, Layer) for item in value)):
            self.__dict__.setdefault("_sublayer_attributes", {})[name] = value
            WeightChanges.note()
        elif name in self.__dict__.get("_sublayer_attributes", ()):
            del self.__dict__["_sublayer_attributes"][name]
            WeightChanges.note()
        super().__setattr__(name, value)

    def _tracked_layers(self) -> list[Layer]:
        """The layers this one holds in its attributes, in assignment order, each once."""
        attributes = self.__dict__.get("_sublayer_attributes")
        if not attributes:
            return []
        found: list[Layer] = []
        for value in attributes.values():
            for item in (value if isinstance(value, (list, tuple)) else [value]):
                if isinstance(item, Layer) and item is not self and all(item is not f for f in found):
                    found.append(item)
        return found

    def __init_subclass__(cls, **kwargs):
        """Make a subclass's own ``build`` mark the layer as built, so ``layer.build(shape)`` works on its own;
        note which of ``training`` and ``mask`` its ``call`` takes."""
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            original = cls.__dict__["build"]

            @functools.wraps(original)
            def build(self, input_shape):
                original(self, input_shape)
                self._mark_built(input_shape)

            cls.build = build
        parameters = inspect.signature(cls.call).parameters
        cls._call_takes_training = "training" in parameters
        cls._call_takes_mask = "mask" in parameters

    # ----- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The dtype of the weights and of the inputs this layer casts data to."""
        return self._dtype or backend.floatx()

    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch first; the batch size may be None; a list of
        shapes for a layer called on several tensors)."""
        self._mark_built(input_shape)

    def _mark_built(self, input_shape) -> None:
        self.built = True
        self._build_input_shape = (None if input_shape is None else
                                   map_shapes(lambda shape: (None, *shape[1:]), input_shape))

    def call(self, inputs):
        """The forward computation on a Tensor (or a list of Tensors); subclasses override it, optionally with
        ``training=`` and ``mask=`` arguments."""
        return inputs

    def __call__(self, inputs, *args, training: bool | None = None, mask=None, **kwargs):
        """Run the layer: on data, convert and check the inputs, build on first use, and run ``call`` under the
        layer's name scope; on symbolic tensors (``keras.Input``), record the call as a Node instead.

        ``training=None`` inherits the mode of the enclosing call (False outside any). The input's mask (its
        ``_keras_mask``, or ``mask=``) goes to ``call`` when ``call`` takes one; the output gets ``compute_mask``."""
        if is_symbolic(inputs):
            return self._symbolic_call(inputs, args, kwargs)
        x = map_structure(self._as_input_tensor, inputs)
        single = isinstance(x, Tensor)
        if single and self.input_spec is not None:
            self.input_spec.check(self, x.shape)
        if not self.built:
            self.build(x.shape if single else map_structure(lambda t: t.shape, x))
            if single and self.input_spec is not None:
                self.input_spec.check(self, x.shape)
        if mask is None:
            mask = getattr(x, "_keras_mask", None) if single else None
        if self._call_takes_mask:
            kwargs["mask"] = mask
        self._call_losses = []
        with training_mode(training) as training, name_scope(self.name):
            if self._call_takes_training:
                kwargs["training"] = training
            outputs = self.call(x, *args, **kwargs)
            if self.activity_regularizer is not None:
                batch = outputs.shape[0] if outputs.ndim else 1
                self._call_losses.append(self.activity_regularizer(outputs) / max(batch, 1))
            output_mask = self.compute_mask(x, mask)
        if output_mask is not None and isinstance(outputs, Tensor):
            outputs._keras_mask = output_mask
        return outputs

    def compute_mask(self, inputs, previous_mask=None):
        """The mask of the output (a boolean Tensor, or None): the input's mask when the layer supports masking
        (keeps the timesteps), else None. Layers that make or change masks override it."""
        return previous_mask if self.supports_masking else None

    def _as_input_tensor(self, inputs) -> Tensor:
        """A Tensor of the inputs; raw float data of another precision is cast to the layer's dtype (Keras's
        autocast), while a Tensor that carries a graph is passed through untouched."""
        x = as_tensor(inputs)
        if x.op is None and not x.requires_grad and x.dtype.kind == "f" and x.dtype != self.dtype:
            x = ops.cast(x, self.dtype)  # an op, so a replayed step casts each new batch too
        return x

    # ----- symbolic calls (the functional API) -------------------------------------------------------------------
    def _symbolic_call(self, inputs, args: tuple, kwargs: dict):
        """Build the layer for the symbolic inputs' shapes, work out its outputs' shapes and dtypes, and record the
        call as a Node; returns the output KerasTensor(s)."""
        shapes = map_structure(lambda t: tuple(t.shape), inputs)
        single = isinstance(inputs, KerasTensor)
        if single and self.input_spec is not None:
            self.input_spec.check(self, inputs.shape)
        if not self.built:
            self.build(shapes)
            if single and self.input_spec is not None:
                self.input_spec.check(self, inputs.shape)
        outputs = self.compute_output_spec(inputs, *args, **kwargs)
        Node(self, inputs, kwargs, outputs, args)
        return outputs

    def compute_output_spec(self, inputs, *args, **kwargs):
        """The KerasTensor(s) this layer returns for symbolic ``inputs``: from ``compute_output_shape`` when the
        layer defines it for one input, else by running ``call`` on small zero inputs (no gradient, inference
        mode), as Keras traces a symbolic call."""
        if isinstance(inputs, KerasTensor) and not args and not kwargs and (
                type(self).compute_output_shape is not Layer.compute_output_shape):
            return KerasTensor(tuple(self.compute_output_shape(inputs.shape)), self.dtype)
        def probe(size: int) -> tuple:
            def stand_in(value):
                return map_structure(lambda t: _zeros_like_spec(t, size), value)
            return stand_in(inputs), [stand_in(a) for a in args], {k: stand_in(v) for k, v in kwargs.items()}

        with no_grad(), training_mode(False):
            results = [self.call(x, *a, **k) for x, a, k in (probe(2), probe(3))]
        batch = [t.shape[0] for t in flatten(inputs)][0] if flatten(inputs) else None
        return pack_like(results[0], [
            KerasTensor(_shape_seen(a.shape, b.shape, batch), str(a.dtype))
            for a, b in zip(flatten(results[0]), flatten(results[1]))
        ])

    @property
    def inbound_nodes(self) -> list[Node]:
        """The symbolic calls of this layer, in order (one Node each)."""
        return self._inbound_nodes

    def _first_node(self, what: str) -> Node:
        if not self._inbound_nodes:
            raise AttributeError(f"Layer '{self.name}' has never been called on a symbolic tensor (keras.Input), "
                                 f"so it has no `{what}`.")
        return self._inbound_nodes[0]

    @property
    def input(self):
        """The symbolic input(s) of the layer's first call on symbolic tensors (Keras's ``layer.input``)."""
        node = self._first_node("input")
        return node.input_tensors[0] if len(node.input_tensors) == 1 else node.input_tensors

    @property
    def output(self):
        """The symbolic output(s) of the layer's first call on symbolic tensors (Keras's ``layer.output``)."""
        node = self._first_node("output")
        return node.output_tensors[0] if len(node.output_tensors) == 1 else node.output_tensors

    # ----- weights -----------------------------------------------------------------------------------------------
    def add_weight(self, shape=None, initializer=None, dtype=None, trainable: bool = True, regularizer=None,
                   name: str | None = None, constraint=None) -> Variable:
        """Create, track and return a Variable named ``"<layer>/<name>"`` (``initializer`` default: glorot_uniform
        for floats, like Keras; a ``regularizer`` adds its penalty to ``layer.losses``; a ``constraint`` is applied by
        the optimizer after each update)."""
        shape = tuple(shape or ())
        dtype = np.dtype(dtype or self.dtype)
        init = initializers.get(initializer if initializer is not None else
                                ("glorot_uniform" if dtype.kind == "f" else "zeros"))
        weight_name = name or f"variable_{len(self.weights)}"
        value = np.asarray(init(shape, dtype=dtype), dtype=dtype)
        if value.shape != shape:
            raise ValueError(f"Initializer {init!r} returned shape {value.shape} for weight '{weight_name}' of "
                             f"layer '{self.name}', expected {shape}")
        variable = Variable(value, name=f"{self.name}/{weight_name}", trainable=trainable and self._trainable,
                            dtype=dtype)
        variable.constraint = constraints.get(constraint)
        (self._trainable_variables if trainable else self._non_trainable_variables).append(variable)
        regularizer = regularizers.get(regularizer)
        if regularizer is not None:
            self._weight_regularizers.append((variable, regularizer))
        return variable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        """Freeze (False) or unfreeze the layer's trainable weights: frozen ones get no gradient and no update."""
        self._trainable = bool(value)
        for variable in self._trainable_variables:  # each Variable's flag notes the change (WeightChanges)
            variable.trainable = variable.requires_grad = self._trainable
        for layer in self._tracked_layers():
            layer.trainable = value

    @property
    def weights(self) -> list[Variable]:
        """Trainable then non-trainable weights, in creation order (the order of get_weights), then those of the
        layers this one holds."""
        own = self._trainable_variables + self._non_trainable_variables
        inner = self._tracked_layers()
        if not inner:
            return own
        seen, result = set(), []
        for variable in own + [w for layer in inner for w in layer.weights]:
            if id(variable) not in seen:
                seen.add(id(variable))
                result.append(variable)
        return result

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        if not self._tracked_layers():
            return list(self._trainable_variables)
        return [w for w in self.weights if w.trainable]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.weights
        if not self._tracked_layers():
            return list(self._non_trainable_variables)
        return [w for w in self.weights if not w.trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def count_params(self) -> int:
        """The number of scalars in all weights (fan_in·units + units for a Dense layer)."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't built. "
                "You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(v.size for v in self.weights))

    def get_weights(self) -> list[np.ndarray]:
        """Copies of the weight values, as NumPy arrays."""
        return [np.array(v.numpy()) for v in self.weights]

    def set_weights(self, weights) -> None:
        """Set every weight from a list of arrays like the one ``get_weights`` returns; the length, every shape and
        dtype are checked before anything changes."""
        variables, arrays = self.weights, [np.asarray(w) for w in weights]
        kind = self._noun
        if len(arrays) != len(variables):
            raise ValueError(
                f"You called `set_weights(weights)` on {kind} '{self.name}' with a weight list of length "
                f"{len(arrays)}, but the {kind} was expecting {len(variables)} weights"
                + (f" ({', '.join(v.name for v in variables)})." if variables else ".")
            )
        for i, (variable, array) in enumerate(zip(variables, arrays)):
            if array.shape != variable.shape:  # Keras's words, with which weight it is
                raise ValueError(f"{kind.capitalize()} '{self.name}' weight shape {variable.shape} (weight {i}, "
                                 f"'{variable.name}') is not compatible with provided weight shape {array.shape}.")
            if array.dtype.kind not in "biuf":
                raise TypeError(f"set_weights: weight {i} ('{variable.name}') of {kind} '{self.name}' must be "
                                f"numeric, received an array of dtype {array.dtype}")
        for variable, array in zip(variables, arrays):
            variable.assign(array)

    # ----- losses ------------------------------------------------------------------------------------------------
    def add_loss(self, loss) -> None:
        """Add a scalar penalty to this call's losses (cleared at the start of each call)."""
        self._call_losses.append(as_tensor(loss))

    @property
    def losses(self) -> list[Tensor]:
        """Scalar penalties to add to the training loss: the last call's activity penalties and ``add_loss``
        terms, plus each trainable regularized weight's penalty, computed now from its current value (as in Keras 3,
        so the gradient reaches the weight)."""
        penalties = [regularizer(variable) for variable, regularizer in self._weight_regularizers
                     if variable.trainable]
        inner = [loss for layer in self._tracked_layers() for loss in layer.losses]
        return list(self._call_losses) + penalties + inner

    # ----- shapes ------------------------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape):
        """The output shape for ``input_shape`` (batch first; None where unknown; a list of shapes for several
        inputs). By default found from a symbolic call (``compute_output_spec``), as Keras traces one; layers
        override it where it is known."""
        specs = map_shapes(lambda shape: KerasTensor(shape, self.dtype), input_shape)
        if not self.built:
            self.build(input_shape)
        return map_structure(lambda t: t.shape, self.compute_output_spec(specs))

    def get_build_config(self) -> dict:
        """``{'input_shape': ...}``: the shape the layer was built for (batch None), as Keras 3 stores it."""
        return {"input_shape": self._build_input_shape}

    # ----- configuration -----------------------------------------------------------------------------------------
    def get_config(self) -> dict:
        """The constructor arguments that recreate this layer (without its weights): ``cls.from_config(config)``."""
        config = {"name": self.name, "trainable": self.trainable, "dtype": self._dtype}
        if self._input_shape_arg is not None:
            config["batch_input_shape"] = (self._batch_size_arg, *self._input_shape_arg)
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> Layer:
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"
