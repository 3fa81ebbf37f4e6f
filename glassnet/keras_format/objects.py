"""Keras's serialized objects ↔ glassnet configs: what ``config.json`` (and a legacy file's ``model_config``) says.

Keras writes each object as ``{"module", "class_name", "config", "registered_name"}``. Reading is data only: every
object must come from a ``keras`` module (or none, as Keras 2 wrote them) and name a class glassnet knows (its
layer, initializer, regularizer, optimizer, loss and metric registries) or one the user passed in
``custom_objects``; a ``Lambda`` (Python bytecode) or an unknown class is refused with Keras's message, and every
malformed value raises :class:`ModelFileError` naming where it is, the key and what was expected.
"""

from __future__ import annotations

from collections.abc import Mapping

from glassnet import activations, backend, constraints, initializers, layers, losses, metrics, optimizers, regularizers
from glassnet.saving import ModelFileError, check_sizes, expect, get_custom_objects, get_registered_name

KERAS_VERSION = "3.0.0"  # the first Keras whose files these follow
FLOAT_POLICIES = ("float16", "float32", "float64")
INPUT_DTYPES = (*FLOAT_POLICIES, "int8", "int16", "int32", "int64", "uint8", "bool")  # what an InputLayer may take

# Keras-only arguments that glassnet can drop when they hold these "feature off" values; any other value is refused.
KERAS_ONLY_DEFAULTS = {
    "sparse": (False, None), "ragged": (False, None), "optional": (False,), "input_tensor": (None,),
    "quantization_config": (None,),
    "lora_rank": (None,), "lora_alpha": (None,), "input_axes": (None,), "output_axes": (None,),
    "use_ema": (False,), "ema_overwrite_frequency": (None,), "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None,), "autocast": (True, False),
    # what tf.keras 2.x also wrote
    "decay": (0.0, 0), "jit_compile": (True, False, None), "is_legacy_optimizer": (False,),
}
WRAPPED_LAYER_KEYS = ("layer", "backward_layer")  # where Bidirectional and TimeDistributed keep the layers they wrap
LAMBDA_MESSAGE = (
    "Requested the deserialization of a `Lambda` layer whose `function` is a Python lambda. This carries a potential "
    "risk of arbitrary code execution and thus it is disallowed by default. If you trust the source of the artifact, "
    "you can override this error by passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()."
)


class Reader:
    """Translates one file's Keras objects; ``where`` (the file and member) prefixes every message."""

    def __init__(self, where: str, custom_objects: Mapping | None = None, safe_mode: bool = True):
        self.where = where
        self.custom_objects = {**get_custom_objects(), **(custom_objects or {})}
        self.safe_mode = safe_mode

    def fail(self, key: str, message: str) -> ModelFileError:
        return ModelFileError(f"{self.where} key '{key}': {message}")

    def known_object(self, obj, registry: Mapping, what: str, key: str) -> dict:
        """``{'class_name', 'config'}`` of a serialized Keras object from Keras's modules whose class is in
        ``registry`` or ``custom_objects``; refuses everything else without looking further into it."""
        if not isinstance(obj, dict) or not isinstance(obj.get("class_name"), str):
            raise self.fail(key, f"holds {obj!r:.200}; expected a serialized Keras {what} (a dict with a "
                                 "'class_name' string)")
        class_name, module = obj["class_name"], obj.get("module")
        registered = expect(obj.get("registered_name"), (str, type(None)), self.where, "", f"{key}.registered_name")
        custom = self.custom_objects.get(registered) or self.custom_objects.get(class_name)
        if class_name == "Lambda":
            raise self.fail(key, LAMBDA_MESSAGE if self.safe_mode else
                            "a Lambda layer holds Python bytecode, which glassnet never runs; rebuild it in code")
        outside = module is not None and not (isinstance(module, str) and (module == "keras"
                                                                           or module.startswith("keras.")))
        if custom is None and (outside or registered not in (None, class_name) or class_name not in registry):
            raise self.fail(key, f"Could not locate class '{registered or class_name}'. Make sure custom classes are "
                                 "decorated with `@keras.saving.register_keras_serializable()` and passed in "
                                 "custom_objects"
                                 + (f" (its module {module!r} is outside Keras)" if outside else "")
                                 + f". glassnet builds the Keras {what} classes it knows ("
                                 + ", ".join(sorted(registry)[:8]) + ", ...) and those in custom_objects; it never "
                                 "imports code named in a file.")
        if custom is not None:
            class_name = registered if registered in self.custom_objects else class_name
        config = obj.get("config")
        if config is not None and not isinstance(config, str if class_name == "function" else dict):
            raise self.fail(f"{key}.config", f"holds {config!r:.100}; expected a "
                                             f"{'function name' if class_name == 'function' else 'dict'}")
        return {"class_name": class_name, "config": dict(config) if isinstance(config, dict) else config}

    def drop_keras_only(self, config: dict, key: str) -> dict:
        """``config`` without Keras-only arguments that are switched off; a switched-on one raises."""
        config = {k: v for k, v in config.items() if k != "shared_object_id"}
        if config.get("use_ema") is False:
            config.pop("ema_momentum", None)
        if config.get("groups") == 1:
            config.pop("groups")
        for name, off_values in KERAS_ONLY_DEFAULTS.items():
            if name in config:
                value = config.pop(name)
                if value not in off_values:
                    raise self.fail(f"{key}.{name}", f"{value!r} is a Keras feature glassnet does not support; "
                                                     f"expected one of {off_values}")
        return config

    def plain(self, value):
        """JSON values with Keras's ``{'class_name': '__tuple__', 'config': {'value': [...]}}`` turned into tuples."""
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            return tuple(self.plain(v) for v in (value.get("config") or {}).get("value", []))
        if isinstance(value, dict):
            return {k: self.plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.plain(v) for v in value]
        return value

    def dtype_name(self, value, key: str, allowed: tuple[str, ...] = FLOAT_POLICIES) -> str | None:
        """A Keras dtype (a name or a DTypePolicy) as a dtype name glassnet supports (float ones, except where an
        InputLayer takes integer data)."""
        if isinstance(value, dict):
            policy = self.known_object(value, {"DTypePolicy": None, "FloatDTypePolicy": None}, "dtype policy", key)
            value = (policy["config"] or {}).get("name")
        if value is not None and value not in allowed:
            raise self.fail(key, f"dtype policy {value!r} is not supported; expected one of {allowed}")
        return value

    def activation_name(self, value, key: str):
        if isinstance(value, dict):  # Keras writes built-in activations as names; a dict is a function it serialized
            value = self.known_object(value, {"function": None}, "activation", key)["config"]
        if isinstance(value, str) and value in self.custom_objects:
            return self.custom_objects[value]
        try:
            activations.deserialize(value)
        except (ValueError, TypeError):
            raise self.fail(key, f"unknown activation {value!r}; expected a built-in activation name or one "
                                 "passed in custom_objects") from None
        return value

    def layer_config(self, obj, key: str, weight_budget: int) -> dict:
        """A glassnet ``{'class_name', 'config'}`` for the Keras layer ``obj`` (at ``key``): known class, supported
        arguments, sizes that a weights member of ``weight_budget`` elements can hold, and the layers a wrapper
        holds (Bidirectional's, TimeDistributed's) translated the same way."""
        layer = self.known_object(obj, layers.LAYER_CLASSES, "layer", key)
        config = self.plain(expect(layer["config"], dict, self.where, "", f"{key}.config"))
        config = self.drop_keras_only(config, f"{key}.config")
        key = f"{key} ({layer['class_name']} {config.get('name')!r})"
        if layer["class_name"] == "InputLayer" and "batch_input_shape" in config:  # Keras 2's name for it
            config["batch_shape"] = config.pop("batch_input_shape")
        check_sizes(config, weight_budget, self.where, key)
        if "dtype" in config:
            allowed = INPUT_DTYPES if layer["class_name"] == "InputLayer" else FLOAT_POLICIES
            config["dtype"] = self.dtype_name(config["dtype"], f"{key}.dtype", allowed)
        if "activation" in config:
            config["activation"] = self.activation_name(config["activation"], f"{key}.activation")
        for name in WRAPPED_LAYER_KEYS:
            if isinstance(config.get(name), dict):
                config[name] = self.layer_config(config[name], f"{key}.{name}", weight_budget)
        for name, value in list(config.items()):
            if isinstance(value, dict) and name.endswith("_initializer"):
                config[name] = self.object_config(value, initializers.INITIALIZER_CLASSES, "initializer",
                                                  f"{key}.{name}")
        for name, value in list(config.items()):
            if isinstance(value, dict) and name.endswith("_regularizer"):
                config[name] = self.object_config(value, regularizers.REGULARIZER_CLASSES, "regularizer",
                                                  f"{key}.{name}")
            elif isinstance(value, dict) and name.endswith("_constraint"):
                config[name] = self.object_config(value, constraints.CONSTRAINT_CLASSES, "constraint",
                                                  f"{key}.{name}")
        return {"class_name": layer["class_name"], "config": config}

    def object_config(self, obj: dict, registry, what: str, key: str) -> dict:
        known = self.known_object(obj, registry, what, key)
        return {"class_name": known["class_name"], "config": self.drop_keras_only(known["config"] or {}, key)}

    def model_config(self, config: dict, model_classes: Mapping[str, type], weight_budget: int) -> tuple[type, dict]:
        """The glassnet model class and config for a Keras model entry (``{"class_name": "Sequential", ...}``): each
        layer translated, a functional model's ``name``/``inbound_nodes`` and input and output layers kept."""
        model = self.known_object(config, model_classes, "model", "class_name")
        inner = expect(model["config"], dict, self.where, "", "config")
        layer_list = expect(inner.get("layers", []), list, self.where, "", "config.layers")
        layer_configs = [self.layer_config(obj, f"layers[{i}]", weight_budget) for i, obj in enumerate(layer_list)]
        for obj, layer in zip(layer_list, layer_configs):
            layer.update({key: self.plain(obj[key]) for key in ("name", "inbound_nodes") if key in obj})
        glassnet_config = {key: self.plain(value) for key, value in inner.items() if key not in ("dtype", "layers")}
        build_shape = inner.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
        if build_shape is not None:
            glassnet_config["build_input_shape"] = self.plain(build_shape)
        return model_classes[model["class_name"]], {**glassnet_config, "layers": layer_configs}

    def build_model(self, config: dict, model_classes: Mapping[str, type], weight_budget: int):
        """The glassnet model a Keras model entry describes, built (its weights allocated)."""
        cls, glassnet_config = self.model_config(config, model_classes, weight_budget)
        for i, layer_config in enumerate(glassnet_config["layers"]):  # find the layer a bad value belongs to
            try:
                layers.deserialize(layer_config, custom_objects=self.custom_objects)
            except (TypeError, ValueError, NotImplementedError, AttributeError, KeyError, OverflowError) as e:
                raise self.fail(f"layers[{i}] ({layer_config['class_name']})", f"cannot build this layer: {e}") \
                    from None
        try:
            return cls.from_config(glassnet_config, custom_objects=self.custom_objects)
        except (TypeError, ValueError, NotImplementedError, AttributeError, KeyError, OverflowError, MemoryError) as e:
            raise self.fail("config", f"cannot build the model it describes: {e}") from None

    def compile_arguments(self, compile_config: dict, key: str = "compile_config") -> dict:
        """glassnet compile arguments for Keras's ``compile_config``: known (or custom_objects') optimizer, loss and
        metric classes."""
        registry = {cls.__name__: cls for cls in optimizers.OPTIMIZERS.values()}
        optimizer = self.known_object(compile_config.get("optimizer"), registry, "optimizer", f"{key}.optimizer")
        optimizer_config = self.drop_keras_only(self.plain(optimizer["config"] or {}), f"{key}.optimizer.config")
        loss = compile_config.get("loss")
        if isinstance(loss, dict):
            loss = losses.deserialize(self.object_config(loss, {**losses.LOSS_CLASSES, "function": None}, "loss",
                                                         f"{key}.loss"), custom_objects=self.custom_objects)
        elif isinstance(loss, str) and loss in self.custom_objects:
            loss = self.custom_objects[loss]
        metric_list = []
        for i, metric in enumerate(expect(compile_config.get("metrics") or [], list, self.where, "",
                                          f"{key}.metrics")):
            if isinstance(metric, dict):
                metric = metrics.deserialize(self.known_object(metric, {**metrics.METRIC_CLASSES, "function": None},
                                                               "metric", f"{key}.metrics[{i}]"),
                                             custom_objects=self.custom_objects)
            elif isinstance(metric, str):
                metric = self.custom_objects.get(metric, metric)
            metric_list.append(metric)
        if compile_config.get("weighted_metrics"):
            raise self.fail(f"{key}.weighted_metrics", "not supported by glassnet; load with compile=False")
        try:
            optimizer_object = optimizers.deserialize({"class_name": optimizer["class_name"],
                                                       "config": optimizer_config},
                                                      custom_objects=self.custom_objects)
        except (TypeError, ValueError) as e:
            raise self.fail(f"{key}.optimizer", f"cannot build it: {e}") from None
        return {"optimizer": optimizer_object, "loss": loss, "loss_weights": compile_config.get("loss_weights"),
                "metrics": metric_list}


    def compile_model(self, model, compile_config, key: str = "compile_config") -> None:
        """``model.compile`` with the arguments :meth:`compile_arguments` reads."""
        arguments = self.compile_arguments(expect(compile_config, dict, self.where, "", key), key)
        try:
            model.compile(**arguments)
        except (TypeError, ValueError, NotImplementedError) as e:
            raise self.fail(key, f"cannot use these compile settings ({e}); pass the classes and functions it names "
                                 "in custom_objects, or load with compile=False") from None


# ----- writing: glassnet → Keras objects -----------------------------------------------------------------------
def keras_object(module: str, serialized: dict) -> dict:
    return {"module": module, "class_name": serialized["class_name"], "config": serialized["config"],
            "registered_name": None}


def keras_dtype(name: str | None) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name or backend.floatx()},
            "registered_name": None}


def keras_layer(layer, input_shape) -> dict:
    """Keras's entry for one layer: known class, Keras module names on nested objects, build_config."""
    config = layer.get_config()
    config.pop("batch_input_shape", None)  # the InputLayer carries the shape
    if isinstance(layer, layers.InputLayer):
        dtype = config["dtype"] or backend.floatx()
        config = {"batch_shape": list(config["batch_shape"]), "dtype": dtype, "sparse": False, "name": config["name"]}
    else:
        config["dtype"] = keras_dtype(config.get("dtype"))
    if "activation" in config and config["activation"] not in activations.ACTIVATIONS:
        raise ValueError(f"save: layer '{layer.name}' uses the custom activation {config['activation']!r}, "
                         "which Keras could not load; only built-in activations can be saved in a Keras file")
    for key, value in config.items():
        if isinstance(value, dict) and "class_name" in value and key != "dtype":  # the policy is Keras's already
            config[key] = keras_object(f"keras.{key.rsplit('_', 1)[-1]}s", value)
    entry = keras_object("keras.layers", {"class_name": type(layer).__name__, "config": config})
    if type(layer) in get_custom_objects().values():  # a registered custom layer: Keras finds it by that name
        entry.update(module=type(layer).__module__, registered_name=get_registered_name(type(layer)))
    if not isinstance(layer, layers.InputLayer):
        entry["build_config"] = {"input_shape": list(input_shape)}
    return entry


def keras_compile_config(model) -> dict | None:
    """Keras's ``compile_config`` for a compiled model (None if it is not compiled)."""
    compile_config = model.get_compile_config()
    if compile_config is None:
        return None
    optimizer = dict(compile_config["optimizer"])
    learning_rate = optimizer["config"].get("learning_rate")
    if isinstance(learning_rate, dict):
        optimizer["config"] = {**optimizer["config"],
                               "learning_rate": keras_object("keras.optimizers.schedules", learning_rate)}
    loss = compile_config["loss"]
    if isinstance(loss, dict):
        loss = loss["config"] if loss["class_name"] == "function" else keras_object("keras.losses", loss)
    metric_list = [m if isinstance(m, str) else keras_object("keras.metrics", m) for m in compile_config["metrics"]]
    return {"optimizer": keras_object("keras.optimizers", optimizer), "loss": loss,
            "loss_weights": compile_config["loss_weights"], "metrics": metric_list or None, "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def check_savable(model) -> None:
    """Refuse, before writing, a model Keras could not rebuild: unbuilt, not a Sequential or functional model, or
    with a layer Keras does not have."""
    if type(model).__name__ not in ("Sequential", "Functional"):
        raise ValueError(f"save: glassnet writes Keras's formats for Sequential and functional models; "
                         f"'{model.name}' is a {type(model).__name__} (a subclassed model's code cannot go in a "
                         "file): save it as '.glassnet', or its weights as '.weights.h5'")
    if not model.built:
        raise ValueError(f"save: model '{model.name}' is not built; build it or call it on data first")
    lambdas = [layer.name for layer in model.layers if type(layer).__name__ == "Lambda"]
    if lambdas:
        raise ValueError(f"save: layers {lambdas} are Lambda layers, whose Python code glassnet never writes into a "
                         "file (Keras would store its bytecode, which safe_mode refuses to load); write the function "
                         "as a custom layer registered with @keras.saving.register_keras_serializable()")
    registered = get_custom_objects().values()
    unknown = [type(layer).__name__ for layer in model.layers
               if type(layer).__name__ not in layers.LAYER_CLASSES and type(layer) not in registered]
    if unknown:
        raise ValueError(f"save: layers {unknown} are neither Keras built-ins nor registered with "
                         "@keras.saving.register_keras_serializable(); Keras could not load them")


def keras_config(model) -> dict:
    """The ``config.json`` Keras 3 writes for this Sequential or functional model (built)."""
    if type(model).__name__ == "Functional":
        return functional_config(model)
    input_shape = model.input_shape
    entries = [keras_layer(model._layers[0], input_shape)]
    for layer in model.layers:
        entries.append(keras_layer(layer, input_shape))
        input_shape = model.output_shape_of(layer)
    build_shape = list(model.input_shape)
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": model.name, "trainable": model.trainable, "dtype": keras_dtype(None),
                       "layers": entries, "build_input_shape": build_shape},
            "registered_name": None, "build_config": {"input_shape": build_shape},
            "compile_config": keras_compile_config(model)}


def functional_config(model) -> dict:
    """A functional model's config as Keras writes it: glassnet's (already Keras's graph of ``inbound_nodes``) with
    each layer as a Keras object and its ``build_config`` read from the tensors of its first call."""
    config = model.get_config()
    entries = []
    for entry in config["layers"]:
        nodes = entry["inbound_nodes"]
        shapes = [t["config"]["shape"] for t in keras_tensors(nodes[0]["args"])] if nodes else []
        keras_entry = keras_layer(model.get_layer(entry["name"]), shapes[0] if len(shapes) == 1 else shapes)
        entries.append({**keras_entry, "name": entry["name"], "inbound_nodes": nodes})
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": config["name"], "trainable": config["trainable"], "layers": entries,
                       "input_layers": config["input_layers"], "output_layers": config["output_layers"]},
            "registered_name": "Functional", "build_config": {"input_shape": None},
            "compile_config": keras_compile_config(model)}


def keras_tensors(value) -> list[dict]:
    """The ``__keras_tensor__`` entries in a node's arguments, in order."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for item in value for t in keras_tensors(item)]
    if isinstance(value, dict):
        return [t for item in value.values() for t in keras_tensors(item)]
    return []
