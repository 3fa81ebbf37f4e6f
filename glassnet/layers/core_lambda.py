"""Lambda: a layer that applies any Python function of the inputs, as Keras's ``Lambda`` does.

Its gradient is the one of the ops the function runs. Saved, it names its function only (glassnet's files never
hold or run code): a Python lambda cannot be rebuilt from a file (Keras's refusal), and a named function is taken
back from ``custom_objects`` by its name.
"""

from __future__ import annotations

import inspect
import types
from collections.abc import Callable, Mapping

import numpy as np

from glassnet.autodiff import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.symbolic import KerasTensor

#: Keras's refusal to rebuild a Python lambda from a saved config (glassnet refuses it in every mode).
LAMBDA_MESSAGE = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries a potential "
    "risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of the artifact, "
    "you can override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)


def function_config(fn: Callable) -> dict:
    """A function by name, as Keras serializes a named one; a Python lambda as ``__lambda__`` without its code."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        return {"class_name": "__lambda__", "config": {"module": fn.__module__, "name": fn.__name__}}
    name = getattr(fn, "__name__", type(fn).__name__)
    return {"module": getattr(fn, "__module__", None), "class_name": "function", "config": name,
            "registered_name": name}


def function_from_config(value, custom_objects: Mapping | None, safe_mode: bool, what: str) -> Callable:
    """The function a config names, taken from ``custom_objects``; a Python lambda (or code) is refused with Keras's
    message, and with ``safe_mode=False`` too, since glassnet never runs code from a config."""
    if callable(value):
        return value
    if value is None:
        raise ValueError(f"A Lambda layer's config must name its `{what}` (a function passed in custom_objects); "
                         "received a config without one")
    kind = value.get("class_name") if isinstance(value, dict) else None
    if kind == "__lambda__":
        raise ValueError(LAMBDA_MESSAGE if safe_mode else
                         f"The Lambda layer's `{what}` is a Python lambda, saved as code, which glassnet never runs "
                         "(with safe_mode=False too): rebuild the layer in code, or make it a named function and pass "
                         "it in custom_objects={'name': function}.")
    name = (value.get("registered_name") or value.get("config")) if kind == "function" else value
    if isinstance(name, str) and custom_objects and callable(custom_objects.get(name)):
        return custom_objects[name]
    raise ValueError(f"Could not locate function {name!r} for the Lambda layer's `{what}`. glassnet takes functions "
                     "by name from custom_objects and never imports code named in a config: pass "
                     f"custom_objects={{{name!r}: {name if isinstance(name, str) else 'function'}}}. Received "
                     f"{value!r:.200}")


class Lambda(Layer):
    """``Lambda(function, output_shape=None, mask=None, arguments=None)``: a = function(X, **arguments).

    ``function`` also receives ``mask=`` and ``training=`` when it takes them. ``output_shape`` (without the batch
    axis, or a function of the input shape) defaults to the shape found by running the function on small zero
    inputs. ``mask`` is the output's mask: a function ``mask(inputs, previous_mask)`` or a fixed value.
    """

    def __init__(self, function: Callable, output_shape=None, mask=None, arguments: dict | None = None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise ValueError(f"Lambda expects a callable `function`, received {function!r:.100} of type "
                             f"{type(function).__name__}")
        if arguments is not None and not isinstance(arguments, Mapping):
            raise ValueError(f"Lambda's `arguments` must be a dict of keyword arguments for the function, received "
                             f"{arguments!r:.100}")
        self.function, self.arguments = function, dict(arguments or {})
        self.output_shape_arg, self.mask = output_shape, mask
        self.supports_masking = mask is not None
        try:
            parameters = inspect.signature(function).parameters
        except (TypeError, ValueError):  # a builtin without a signature takes neither
            parameters = {}
        self._fn_takes_mask, self._fn_takes_training = "mask" in parameters, "training" in parameters

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._fn_takes_mask:
            kwargs["mask"] = mask
        if self._fn_takes_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, previous_mask=None):
        if callable(self.mask):
            return self.mask(inputs, previous_mask)
        return self.mask

    def compute_output_spec(self, inputs, *args, **kwargs):
        """From ``output_shape`` when given, else by running the function on small zero inputs (Layer's probe)."""
        if self.output_shape_arg is None:
            return super().compute_output_spec(inputs, *args, **kwargs)
        single = isinstance(inputs, KerasTensor)
        shapes = tuple(inputs.shape) if single else [tuple(t.shape) for t in inputs]
        if callable(self.output_shape_arg):
            shape = self.output_shape_arg(shapes)
        else:
            batch = inputs.shape[0] if single else inputs[0].shape[0]
            shape = (batch, *self.output_shape_arg)
        return KerasTensor(tuple(shape), self.dtype)

    def get_config(self) -> dict:
        config = {**super().get_config(), "function": function_config(self.function)}
        if self.output_shape_arg is not None:
            config["output_shape"] = function_config(self.output_shape_arg) if callable(self.output_shape_arg) \
                else list(self.output_shape_arg)
        if self.mask is not None:
            config["mask"] = function_config(self.mask) if callable(self.mask) else \
                np.asarray(self.mask.numpy() if isinstance(self.mask, Tensor) else self.mask).tolist()
        config["arguments"] = dict(self.arguments)
        return config

    @classmethod
    def from_config(cls, config: dict, custom_objects: Mapping | None = None, safe_mode: bool = True) -> Lambda:
        """A Lambda whose function (and output_shape or mask function) is named in ``custom_objects``; a Python
        lambda is refused with Keras's message."""
        config = dict(config)
        config["function"] = function_from_config(config.get("function"), custom_objects, safe_mode, "function")
        shape = config.get("output_shape")
        if isinstance(shape, (dict, str)):
            config["output_shape"] = function_from_config(shape, custom_objects, safe_mode, "output_shape")
        elif shape is not None:
            config["output_shape"] = tuple(shape)
        mask = config.get("mask")
        if isinstance(mask, (dict, str)):
            config["mask"] = function_from_config(mask, custom_objects, safe_mode, "mask")
        elif mask is not None:
            config["mask"] = Tensor(np.asarray(mask))
        return cls(**config)
