"""The Layer base class: Keras's build/call lifecycle, weights, automatic names, configs and penalties.

A layer declares its weights in ``build(input_shape)`` with ``add_weight`` and composes ops in ``call``; it is built
lazily by its first ``__call__`` (or explicitly by ``build``). ``__call__`` checks the input against the layer's
``input_spec``, runs ``call`` inside ``name_scope(layer.name)`` so every op is labelled with the layer, and
gathers the activity-regularization losses of that call.

Weights are glassnet Variables named ``"<layer name>/<weight name>"`` (``"dense_1/kernel"``), which is what Keras 3
calls ``variable.path``; the short name (``"kernel"``) is the part after the last ``/``.
"""

from __future__ import annotations

import functools
import inspect
import re
from collections import defaultdict

import numpy as np

from glassnet import backend, constraints, initializers, regularizers
from glassnet.autodiff.tensor import Tensor, Variable, as_tensor, name_scope, no_grad

_name_counts: defaultdict[str, int] = defaultdict(int)


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
    _call_takes_training = False

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
        self._dtype = np.dtype(dtype).name if dtype is not None else None
        self._trainable = bool(trainable)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        self._build_input_shape: tuple | None = None
        self._trainable_variables: list[Variable] = []
        self._non_trainable_variables: list[Variable] = []
        self._weight_regularizers: list[tuple[Variable, object]] = []
        self._call_losses: list[Tensor] = []

    def __init_subclass__(cls, **kwargs):
        """Make a subclass's own ``build`` mark the layer as built, so ``layer.build(shape)`` works on its own."""
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            original = cls.__dict__["build"]

            @functools.wraps(original)
            def build(self, input_shape):
                original(self, input_shape)
                self._mark_built(input_shape)

            cls.build = build
        cls._call_takes_training = "training" in inspect.signature(cls.call).parameters

    # ----- lifecycle ---------------------------------------------------------------------------------------------
    @property
    def dtype(self) -> str:
        """The dtype of the weights and of the inputs this layer casts data to."""
        return self._dtype or backend.floatx()

    def build(self, input_shape) -> None:
        """Create the weights for inputs of ``input_shape`` (batch first; the batch size may be None)."""
        self._mark_built(input_shape)

    def _mark_built(self, input_shape) -> None:
        self.built = True
        self._build_input_shape = (None, *tuple(input_shape)[1:]) if input_shape is not None else None

    def call(self, inputs):
        """The forward computation on a Tensor; subclasses override it (optionally with ``training=``)."""
        return inputs

    def __call__(self, inputs, training: bool = False):
        """Convert, check, build on first use, then run ``call`` under the layer's name scope."""
        x = self._as_input_tensor(inputs)
        if self.input_spec is not None:
            self.input_spec.check(self, x.shape)
        if not self.built:
            self.build(x.shape)
            if self.input_spec is not None:
                self.input_spec.check(self, x.shape)
        self._call_losses = []
        with name_scope(self.name):
            outputs = self.call(x, training=training) if self._call_takes_training else self.call(x)
            if self.activity_regularizer is not None:
                batch = outputs.shape[0] if outputs.ndim else 1
                self._call_losses.append(self.activity_regularizer(outputs) / max(batch, 1))
        return outputs

    def _as_input_tensor(self, inputs) -> Tensor:
        """A Tensor of the inputs; raw float data of another precision is cast to the layer's dtype (Keras's
        autocast), while a Tensor that carries a graph is passed through untouched."""
        x = as_tensor(inputs)
        if x.op is None and not x.requires_grad and x.dtype.kind == "f" and x.dtype != self.dtype:
            x = Tensor(x.data, dtype=self.dtype)
        return x

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
        for variable in self._trainable_variables:
            variable.trainable = variable.requires_grad = self._trainable

    @property
    def weights(self) -> list[Variable]:
        """Trainable then non-trainable weights, in creation order (the order of get_weights)."""
        return self._trainable_variables + self._non_trainable_variables

    @property
    def trainable_weights(self) -> list[Variable]:
        return list(self._trainable_variables) if self._trainable else []

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if self._trainable:
            return list(self._non_trainable_variables)
        return self._trainable_variables + self._non_trainable_variables

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
        """Set every weight from a list of arrays of the same shapes, in the order of ``get_weights``."""
        weights = list(weights)
        if len(weights) != len(self.weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list of length "
                f"{len(weights)}, but the layer was expecting {len(self.weights)} weights."
            )
        arrays = [np.asarray(w) for w in weights]
        for variable, array in zip(self.weights, arrays):
            if array.shape != variable.shape:
                raise ValueError(
                    f"Layer '{self.name}' weight shape {variable.shape} (for '{variable.name}') is not compatible "
                    f"with provided weight shape {array.shape}."
                )
        for variable, array in zip(self.weights, arrays):
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
        return list(self._call_losses) + penalties

    # ----- shapes ------------------------------------------------------------------------------------------------
    def compute_output_shape(self, input_shape) -> tuple:
        """The output shape for ``input_shape`` (batch first, None allowed for the batch). By default found by running
        ``call`` on a batch of one zero input, as Keras traces a symbolic one; layers override it where it is known."""
        input_shape = tuple(input_shape)
        if any(d is None for d in input_shape[1:]):
            raise ValueError(f"{type(self).__name__} '{self.name}' cannot infer its output shape from input shape "
                             f"{input_shape}: only the batch dimension may be None")
        if not self.built:
            self.build(input_shape)
        with no_grad():
            probe = self.call(Tensor(np.zeros((1, *input_shape[1:]), dtype=self.dtype)))
        return (input_shape[0] if input_shape else None, *probe.shape[1:])

    @property
    def input_shape(self) -> tuple:
        """The shape the layer was built for, batch dimension None."""
        if self._build_input_shape is None:
            raise AttributeError(f"The layer {self.name} has never been called and thus has no defined input shape.")
        return self._build_input_shape

    @property
    def output_shape(self) -> tuple:
        return self.compute_output_shape(self.input_shape)

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
