"""Keras 3 ``.keras`` files both ways: ``load_keras`` reads what Keras writes, ``save_keras`` writes what it loads.

A ``.keras`` file is a zip of ``config.json`` (each object as ``{"module", "class_name", "config",
"registered_name"}``, plus ``build_config`` and ``compile_config``), ``metadata.json`` and ``model.weights.h5``:
layer ``i``'s weights are the datasets ``layers/<name>/vars/0, 1, ...`` where ``<name>`` is the snake_case class
name made unique in layer order (``dense``, ``dense_1``, ...), not the layer's own name.

Reading is data only: JSON and numeric HDF5 datasets. Every object must come from a ``keras`` module and name a
class glassnet knows (its layer, initializer, regularizer, optimizer, loss and metric registries); anything else (a
``Lambda`` with its bytecode, a custom class, a module outside Keras) is refused with :class:`ModelFileError`.

This module sits below glassnet.models (``model.save(format="keras")`` calls :func:`save_keras`) and imports no
model: :func:`load_keras` builds the model class it is handed, as :func:`glassnet.models.load_model` does.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from collections.abc import Mapping
from datetime import datetime

import numpy as np

from glassnet import activations, backend, initializers, layers, losses, metrics, optimizers, regularizers
from glassnet.layers.base import to_snake_case
from glassnet.saving import ModelFileError, atomic_write
from glassnet.version import __version__

CONFIG_MEMBER = "config.json"
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBER = "model.weights.h5"
KERAS_FORMAT_VERSION = "3.0.0"  # the first Keras whose .keras layout these files follow
FLOAT_POLICIES = ("float16", "float32", "float64")

# Keras-only arguments that glassnet can drop when they hold these "feature off" values; any other value is refused.
KERAS_ONLY_DEFAULTS = {
    "sparse": (False, None), "ragged": (False, None), "optional": (False,), "input_tensor": (None,),
    "kernel_constraint": (None,), "bias_constraint": (None,), "quantization_config": (None,),
    "lora_rank": (None,), "lora_alpha": (None,), "input_axes": (None,), "output_axes": (None,),
    "use_ema": (False,), "ema_overwrite_frequency": (None,), "loss_scale_factor": (None,),
    "gradient_accumulation_steps": (None,),
}


def _h5py():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("Reading and writing Keras .keras files needs h5py: pip install 'glassnet[keras-files]'") \
            from e
    return h5py


def is_keras_file(path: str | os.PathLike) -> bool:
    """True for a zip holding ``model.weights.h5`` and ``config.json`` (what Keras 3 writes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return {CONFIG_MEMBER, WEIGHTS_MEMBER} <= names


# ----- reading: Keras objects → glassnet configs ---------------------------------------------------------------
def _known_object(obj, registry, what: str, where: str) -> dict:
    """``{'class_name', 'config'}`` of a serialized Keras object whose module is Keras's and whose class is in
    ``registry``; refuses everything else without looking further into it."""
    if not isinstance(obj, dict) or "class_name" not in obj:
        raise ModelFileError(f"{where}: expected a serialized Keras {what} (a dict with 'class_name'), received "
                             f"{obj!r:.200}")
    class_name, module = obj["class_name"], obj.get("module")
    if module is not None and module != "keras" and not str(module).startswith("keras."):
        raise ModelFileError(f"{where}: the {what} {class_name!r} comes from module {module!r}, outside Keras. "
                             "glassnet only builds its own known classes and never imports code named in a file.")
    registered = obj.get("registered_name")
    if registered not in (None, class_name):
        raise ModelFileError(f"{where}: the {what} {class_name!r} is a registered custom object {registered!r}; "
                             "custom objects are not loaded.")
    if class_name not in registry:
        raise ModelFileError(f"{where}: unknown {what} class {class_name!r}. glassnet reads Keras files made of "
                             f"{sorted(registry)}; a Lambda or custom class is refused (loading never runs code).")
    config = obj.get("config")
    return {"class_name": class_name, "config": dict(config) if isinstance(config, dict) else config}


def _drop_keras_only(config: dict, where: str) -> dict:
    """``config`` without Keras-only arguments that are switched off; a switched-on one raises."""
    config = {key: value for key, value in config.items() if key != "shared_object_id"}
    if config.get("use_ema") is False:
        config.pop("ema_momentum", None)
    for key, off_values in KERAS_ONLY_DEFAULTS.items():
        if key in config:
            value = config.pop(key)
            if value not in off_values:
                raise ModelFileError(f"{where}: {key}={value!r} is a Keras feature glassnet does not support")
    return config


def _plain(value, where: str):
    """JSON values with Keras's ``{'class_name': '__tuple__', 'config': {'value': [...]}}`` turned into tuples."""
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        return tuple(_plain(v, where) for v in (value.get("config") or {}).get("value", []))
    if isinstance(value, dict):
        return {k: _plain(v, where) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v, where) for v in value]
    return value


def _dtype_name(value, where: str) -> str | None:
    """A Keras dtype (a name or a DTypePolicy) as a float dtype name glassnet supports."""
    if isinstance(value, dict):
        policy = _known_object(value, {"DTypePolicy": None, "FloatDTypePolicy": None}, "dtype policy", where)
        value = (policy["config"] or {}).get("name")
    if value is not None and value not in FLOAT_POLICIES:
        raise ModelFileError(f"{where}: dtype policy {value!r} is not supported; expected one of {FLOAT_POLICIES}")
    return value


def _activation_name(value, where: str) -> str:
    if isinstance(value, dict):  # Keras writes built-in activations as names; a dict is a function it serialized
        value = _known_object(value, {"function": None}, "activation", where)["config"]
    try:
        activations.deserialize(value)
    except (ValueError, TypeError):
        raise ModelFileError(f"{where}: unknown activation {value!r}; custom activations are not loaded") from None
    return value


def _glassnet_layer_config(obj: dict, index: int) -> dict:
    """A glassnet ``{'class_name', 'config'}`` for the Keras layer ``obj`` (known classes, supported arguments)."""
    where = f"layer {index}"
    layer = _known_object(obj, layers.LAYER_CLASSES, "layer", where)
    config = _drop_keras_only(_plain(layer["config"] or {}, where), f"{where} ({layer['class_name']})")
    where = f"{layer['class_name']} '{config.get('name')}'"
    if "dtype" in config:
        config["dtype"] = _dtype_name(config["dtype"], where)
    if "activation" in config:
        config["activation"] = _activation_name(config["activation"], where)
    for key in ("kernel_initializer", "bias_initializer"):
        if isinstance(config.get(key), dict):
            config[key] = _drop_object_keys(config[key], initializers.INITIALIZER_CLASSES, "initializer",
                                            f"{where} {key}")
    for key in ("kernel_regularizer", "bias_regularizer", "activity_regularizer"):
        if isinstance(config.get(key), dict):
            config[key] = _drop_object_keys(config[key], regularizers.REGULARIZER_CLASSES, "regularizer",
                                            f"{where} {key}")
    return {"class_name": layer["class_name"], "config": config}


def _drop_object_keys(obj: dict, registry, what: str, where: str) -> dict:
    known = _known_object(obj, registry, what, where)
    return {"class_name": known["class_name"], "config": _drop_keras_only(known["config"] or {}, where)}


def _build_model(config: dict, model_classes: Mapping[str, type], path: str):
    model_obj = _known_object(config, model_classes, "model", repr(path))
    model_config = model_obj["config"] or {}
    layer_configs = [_glassnet_layer_config(obj, i) for i, obj in enumerate(model_config.get("layers", []))]
    build_shape = model_config.get("build_input_shape") or (config.get("build_config") or {}).get("input_shape")
    glassnet_config = {"name": model_config.get("name"), "trainable": model_config.get("trainable", True),
                       "layers": layer_configs, "build_input_shape": _plain(build_shape, "build_input_shape")}
    try:
        return model_classes[model_obj["class_name"]].from_config(glassnet_config)
    except (TypeError, ValueError, NotImplementedError) as e:
        raise ModelFileError(f"{path!r}: cannot build the model described in {CONFIG_MEMBER}: {e}") from None


def _compile_arguments(compile_config: dict, path: str) -> dict:
    """glassnet compile arguments for Keras's ``compile_config`` (known optimizer, loss and metric classes)."""
    where = f"{path!r} compile_config"
    optimizer = _known_object(compile_config.get("optimizer"), {cls.__name__: cls for cls in
                                                                 optimizers.OPTIMIZERS.values()},
                              "optimizer", where)
    optimizer_config = _drop_keras_only(_plain(optimizer["config"] or {}, where), f"{where} optimizer")
    loss = compile_config.get("loss")
    if isinstance(loss, dict):
        loss = losses.deserialize(_drop_object_keys(loss, losses.LOSS_CLASSES, "loss", f"{where} loss"))
    metric_list = []
    for metric in compile_config.get("metrics") or []:
        if isinstance(metric, dict):
            metric = metrics.deserialize(_known_object(metric, metrics.METRIC_CLASSES, "metric", f"{where} metric"))
        metric_list.append(metric)
    if compile_config.get("weighted_metrics"):
        raise ModelFileError(f"{where}: weighted_metrics are not supported by glassnet; load with compile=False")
    return {"optimizer": optimizers.deserialize({"class_name": optimizer["class_name"], "config": optimizer_config}),
            "loss": loss, "loss_weights": compile_config.get("loss_weights"), "metrics": metric_list}


def _read_weights(model, weights_bytes: bytes, path: str) -> list[np.ndarray]:
    """The arrays for ``model.weights`` from Keras's HDF5 layout, checked (numeric, hard links, shapes, counts)."""
    h5py = _h5py()
    arrays: list[np.ndarray] = []
    with h5py.File(io.BytesIO(weights_bytes), "r") as f:
        stored = set(f["layers"].keys()) if "layers" in f else set()
        for group_name, layer in zip(_weight_group_names(model), model.layers):
            where = f"{path!r} ({WEIGHTS_MEMBER}) layers/{group_name}"
            values = _read_vars(f, f"layers/{group_name}", where, h5py) if group_name in stored else []
            if len(values) != len(layer.weights):
                raise ModelFileError(f"{where}: holds {len(values)} weight arrays; layer '{layer.name}' "
                                     f"({type(layer).__name__}) expects {len(layer.weights)}")
            for value, variable in zip(values, layer.weights):
                if value.shape != variable.shape:
                    raise ModelFileError(f"{where}: weight '{variable.name}' has shape {value.shape} in the file; "
                                         f"the architecture in {CONFIG_MEMBER} expects {variable.shape}")
            arrays.extend(values)
            stored.discard(group_name)
        if stored:
            raise ModelFileError(f"{path!r} ({WEIGHTS_MEMBER}) holds weights for layers the config does not have: "
                                 f"{sorted(stored)}")
    return arrays


def _read_vars(f, group_path: str, where: str, h5py) -> list[np.ndarray]:
    group = f[group_path]
    if "vars" not in group:
        return []
    variables = group["vars"]
    keys = sorted(variables.keys(), key=lambda k: int(k) if k.isdigit() else -1)
    if keys != [str(i) for i in range(len(keys))]:
        raise ModelFileError(f"{where}: weights must be named 0, 1, 2, ...; found {keys}")
    values = []
    for key in keys:
        link = variables.get(key, getlink=True)
        dataset = variables[key]
        if not isinstance(link, h5py.HardLink) or not isinstance(dataset, h5py.Dataset):
            raise ModelFileError(f"{where}/vars/{key}: expected a numeric dataset stored in the file itself")
        if dataset.dtype.kind not in "biuf" or dataset.external or dataset.is_virtual:
            raise ModelFileError(f"{where}/vars/{key}: dtype {dataset.dtype} (external={bool(dataset.external)}, "
                                 f"virtual={dataset.is_virtual}); expected numeric data stored in the file itself")
        values.append(np.asarray(dataset[()]))
    return values


def _weight_group_names(model) -> list[str]:
    """Keras's names for the layers' weight groups: snake_case class names, ``_1``, ``_2``... on repeats."""
    counts: dict[str, int] = {}
    names = []
    for layer in model.layers:
        base = to_snake_case(type(layer).__name__)
        names.append(base if base not in counts else f"{base}_{counts[base] + 1}")
        counts[base] = counts[base] + 1 if base in counts else 0
    return names


def load_keras(filepath: str | os.PathLike, compile: bool = True,  # noqa: A002 - Keras's name
               *, model_classes: Mapping[str, type]):
    """A glassnet model from a Keras 3 ``.keras`` file: architecture, weights and (``compile=True``) the optimizer,
    loss and metrics (optimizer state is not read). ``model_classes`` maps the Keras model classes that may be read
    (``"Sequential"``) to the glassnet classes to build. Raises ModelFileError for anything unknown."""
    path = os.fspath(filepath)
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if not {CONFIG_MEMBER, WEIGHTS_MEMBER} <= names:
                raise ModelFileError(f"{path!r} is not a Keras model file: expected {CONFIG_MEMBER!r} and "
                                     f"{WEIGHTS_MEMBER!r}, found {sorted(names)}")
            config_bytes, weights_bytes = zf.read(CONFIG_MEMBER), zf.read(WEIGHTS_MEMBER)
    except (zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"{path!r} is not a valid .keras file (truncated or corrupted zip): {e}") from None
    try:
        config = json.loads(config_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path!r}: {CONFIG_MEMBER} is not valid JSON: {e}") from None
    model = _build_model(config, model_classes, path)
    try:
        weights = _read_weights(model, weights_bytes, path)
    except OSError as e:
        raise ModelFileError(f"{path!r}: {WEIGHTS_MEMBER} is not a readable HDF5 file: {e}") from None
    model.set_weights(weights)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        try:
            model.compile(**_compile_arguments(compile_config, path))
        except (TypeError, ValueError, NotImplementedError) as e:
            raise ModelFileError(f"{path!r}: cannot use its compile settings ({e}); load it with compile=False") \
                from None
    return model


# ----- writing: glassnet → Keras objects -----------------------------------------------------------------------
def _keras_object(module: str, serialized: dict) -> dict:
    return {"module": module, "class_name": serialized["class_name"], "config": serialized["config"],
            "registered_name": None}


def _keras_dtype(name: str | None) -> dict:
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name or backend.floatx()},
            "registered_name": None}


def _keras_layer(layer, input_shape) -> dict:
    """Keras's entry for one layer: known class, Keras module names on nested objects, build_config."""
    config = layer.get_config()
    config.pop("batch_input_shape", None)  # the InputLayer carries the shape
    if isinstance(layer, layers.InputLayer):
        dtype = config["dtype"] or backend.floatx()
        config = {"batch_shape": list(config["batch_shape"]), "dtype": dtype, "sparse": False, "name": config["name"]}
    else:
        config["dtype"] = _keras_dtype(config.get("dtype"))
    if "activation" in config and config["activation"] not in activations.ACTIVATIONS:
        raise ValueError(f"save_keras: layer '{layer.name}' uses the custom activation {config['activation']!r}, "
                         "which Keras could not load; only built-in activations can be saved in a .keras file")
    for key, value in config.items():
        if isinstance(value, dict) and "class_name" in value and key != "dtype":  # the policy is Keras's already
            module = "keras.initializers" if key.endswith("initializer") else "keras.regularizers"
            config[key] = _keras_object(module, value)
    entry = _keras_object("keras.layers", {"class_name": type(layer).__name__, "config": config})
    if not isinstance(layer, layers.InputLayer):
        entry["build_config"] = {"input_shape": list(input_shape)}
    return entry


def _keras_compile_config(model) -> dict | None:
    compile_config = model.get_compile_config()
    if compile_config is None:
        return None
    optimizer = dict(compile_config["optimizer"])
    learning_rate = optimizer["config"].get("learning_rate")
    if isinstance(learning_rate, dict):
        optimizer["config"] = {**optimizer["config"],
                               "learning_rate": _keras_object("keras.optimizers.schedules", learning_rate)}
    loss = compile_config["loss"]
    if isinstance(loss, dict):
        loss = loss["config"] if loss["class_name"] == "function" else _keras_object("keras.losses", loss)
    metric_list = [m if isinstance(m, str) else _keras_object("keras.metrics", m) for m in compile_config["metrics"]]
    return {"optimizer": _keras_object("keras.optimizers", optimizer), "loss": loss,
            "loss_weights": compile_config["loss_weights"], "metrics": metric_list, "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def keras_config(model) -> dict:
    """The ``config.json`` Keras 3 writes for this Sequential (model built)."""
    input_shape = model.input_shape
    entries = [_keras_layer(model._layers[0], input_shape)]
    for layer in model.layers:
        entries.append(_keras_layer(layer, input_shape))
        input_shape = model.output_shape_of(layer)
    build_shape = list(model.input_shape)
    return {"module": "keras", "class_name": "Sequential",
            "config": {"name": model.name, "trainable": model.trainable, "dtype": _keras_dtype(None),
                       "layers": entries, "build_input_shape": build_shape},
            "registered_name": None, "build_config": {"input_shape": build_shape},
            "compile_config": _keras_compile_config(model)}


def _weights_h5(model) -> bytes:
    """Keras's HDF5 layout: ``vars`` (the model's own, none) and ``layers/<name>/vars/<i>``, each ``vars`` group
    carrying its object's name as the attribute ``name``."""
    h5py = _h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        f.create_group("vars").attrs["name"] = model.name
        for group_name, layer in zip(_weight_group_names(model), model.layers):
            variables = f.create_group(f"layers/{group_name}/vars")
            variables.attrs["name"] = layer.name
            for i, weight in enumerate(layer.weights):
                variables[str(i)] = np.asarray(weight.numpy())
    return buffer.getvalue()


def save_keras(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file (architecture, weights, compile settings; not the optimizer
    state), atomically. Raises ValueError for what Keras could not rebuild (a custom activation or layer)."""
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} already exists and overwrite=False was passed")
    if not model.built:
        raise ValueError(f"save_keras: model '{model.name}' is not built; build it or call it on data first")
    unknown = [type(layer).__name__ for layer in model.layers if type(layer).__name__ not in layers.LAYER_CLASSES]
    if unknown:
        raise ValueError(f"save_keras: layers {unknown} are not Keras built-ins; Keras could not load them")
    config_bytes = json.dumps(keras_config(model), indent=2).encode("utf-8")
    metadata = {"keras_version": KERAS_FORMAT_VERSION, "date_saved": datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"glassnet {__version__}"}
    weights_bytes = _weights_h5(model)

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(METADATA_MEMBER, json.dumps(metadata).encode("utf-8"))
            zf.writestr(CONFIG_MEMBER, config_bytes)
            zf.writestr(WEIGHTS_MEMBER, weights_bytes)

    atomic_write(filepath, write)
