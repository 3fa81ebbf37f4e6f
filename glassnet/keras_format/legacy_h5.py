"""Keras 2's HDF5 files (``.h5``), as tf.keras 2.x wrote them and Keras 3 still writes for ``model.save("x.h5")``.

The file's attribute ``model_config`` holds the architecture as JSON and ``training_config`` the compile settings
(the optimizer under ``optimizer_config``); the group ``model_weights`` (or the file's root, for a weights-only
file) lists ``layer_names``, and each layer's group lists its datasets in ``weight_names``, matched to the model's
layers that have weights in order. ``optimizer_weights`` holds the optimizer's variables in Keras 3's order
(iterations, learning rate, the slots); tf.keras 2's order is not Keras 3's, so, as Keras 3 does, such a state is
skipped with a warning and the optimizer starts fresh.
"""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Mapping

import numpy as np

from glassnet.keras_format import h5_layout, objects
from glassnet.saving import CONFIG_LIMIT, ModelFileError, atomic_write, check_overwrite, expect

MODEL_CONFIG = "model_config"
TRAINING_CONFIG = "training_config"
WEIGHTS_GROUP = "model_weights"
OPTIMIZER_GROUP = "optimizer_weights"


def text_attribute(group, name: str, what: str) -> str | None:
    """A string attribute, its stored size checked before it is read (None when absent)."""
    if name not in group.attrs:
        return None
    size = group.attrs.get_id(name).get_storage_size()
    if size > CONFIG_LIMIT:
        raise ModelFileError(f"{what}: attribute {name!r} takes {size} bytes; expected at most {CONFIG_LIMIT}")
    value = group.attrs[name]
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return expect(value, str, what, "", f"attribute {name}")


def name_list(group, name: str, what: str) -> list[str]:
    """A list-of-names attribute (``layer_names``, ``weight_names``), also when Keras split it into ``name0``,
    ``name1``, ... for being larger than an HDF5 object header."""
    chunks = [name] if name in group.attrs else []
    while name not in group.attrs and f"{name}{len(chunks)}" in group.attrs:
        chunks.append(f"{name}{len(chunks)}")
    values = []
    for chunk in chunks:
        value = group.attrs[chunk]
        if not isinstance(value, np.ndarray) or value.ndim != 1:
            raise ModelFileError(f"{what}: attribute {chunk!r} holds {value!r:.100}; expected a list of names")
        values.extend(value)
    names = [v.decode("utf-8", errors="replace") if isinstance(v, bytes) else v for v in values]
    for value in names:
        expect(value, str, what, "", f"attribute {name}")
    return names


def weighted_layers(model) -> list:
    return [layer for layer in model.layers if layer.weights]


def read_layer_weights(group, model, what: str) -> list[np.ndarray]:
    """The arrays for ``model.weights`` from a ``model_weights`` group, each shape checked before it is read."""
    stored = [name for name in name_list(group, "layer_names", what)
              if name in group and name_list(group[name], "weight_names", f"{what} {name}")]
    targets = weighted_layers(model)
    if len(stored) != len(targets):
        raise ModelFileError(f"{what}: Layer count mismatch when loading weights from file. Model expected "
                             f"{len(targets)} layers, found {len(stored)} saved layers.")
    arrays: list[np.ndarray] = []
    for name, layer in zip(stored, targets):
        layer_group = group[name]
        weight_names = name_list(layer_group, "weight_names", f"{what} {name}")
        if len(weight_names) != len(layer.weights):
            raise ModelFileError(f"{what}: weight count mismatch for layer '{layer.name}' ({name} in the file): "
                                 f"the layer expects {len(layer.weights)} weights, the file holds {len(weight_names)}")
        for weight_name, weight in zip(weight_names, layer.weights):
            arrays.append(h5_layout.read_dataset(layer_group, weight_name, f"{what} {name} (layer '{layer.name}', "
                                                 f"weight '{weight.name}')", weight.shape))
    return arrays


def load_legacy(filepath: str | os.PathLike, custom_objects: Mapping | None = None, compile: bool = True,  # noqa: A002
                safe_mode: bool = True, *, model_classes: Mapping[str, type]):
    """A glassnet model from a Keras 2 ``.h5`` model file: architecture, weights and (``compile=True``) the compile
    settings, with the optimizer's variables when they are in Keras 3's order."""
    path = os.fspath(filepath)
    what = repr(path)
    with h5_layout.open_h5(path, what) as f:
        text = text_attribute(f, MODEL_CONFIG, what)
        if text is None:
            raise ModelFileError(f"{what}: No model config found in the file at {path}. (an .h5 written by "
                                 "save_weights holds no architecture: build the model and call load_weights)")
        reader = objects.Reader(f"{what} attribute {MODEL_CONFIG}", custom_objects, safe_mode)
        model = reader.build_model(_json(text, what, MODEL_CONFIG), model_classes,
                                   weight_budget=os.path.getsize(path))
        group = f.get(WEIGHTS_GROUP)
        if group is None:
            raise ModelFileError(f"{what} has no {WEIGHTS_GROUP!r} group; expected a Keras 2 model file")
        model.set_weights(read_layer_weights(group, model, f"{what} {WEIGHTS_GROUP}"))
        training = text_attribute(f, TRAINING_CONFIG, what)
        if compile and training:
            training_config = _json(training, what, TRAINING_CONFIG)
            compile_reader = objects.Reader(f"{what} attribute {TRAINING_CONFIG}", custom_objects, safe_mode)
            compile_reader.compile_model(model, keras3_compile_config(training_config), key="training_config")
            if OPTIMIZER_GROUP in f:
                load_legacy_optimizer(f[OPTIMIZER_GROUP], model, f"{what} {OPTIMIZER_GROUP}")
    return model


def keras3_compile_config(training_config: dict) -> dict:
    """A ``training_config`` as a Keras 3 ``compile_config``: the optimizer under ``optimizer``, tf.keras 2.11+'s
    ``Custom>Adam`` as ``Adam``, metrics listed per output flattened, and a ``MeanMetricWrapper`` (how tf.keras 2
    kept ``metrics=["accuracy"]``) as the name it was given."""
    optimizer = training_config.get("optimizer_config")
    if isinstance(optimizer, dict) and str(optimizer.get("class_name", "")).startswith("Custom>"):
        optimizer = {**optimizer, "class_name": optimizer["class_name"].removeprefix("Custom>")}
    metric_list = []
    for metric in training_config.get("metrics") or []:
        for item in metric if isinstance(metric, list) else [metric]:
            wrapped = isinstance(item, dict) and item.get("class_name") == "MeanMetricWrapper"
            metric_list.append((item.get("config") or {}).get("name") if wrapped else item)
    return {**training_config, "optimizer": optimizer, "metrics": metric_list}


def load_legacy_optimizer(group, model, what: str) -> None:
    """The optimizer's variables, when the file lists them in Keras 3's order; otherwise Keras's warning."""
    names = name_list(group, "weight_names", what)
    head = ["iteration", "learning_rate"] if h5_layout.has_learning_rate_variable(model.optimizer) else ["iteration"]
    if [name.split("/")[-1] for name in names[:len(head)]] != head:
        warnings.warn("Error in loading the saved optimizer state. As a result, your model is starting with a "
                      "freshly initialized optimizer.", stacklevel=3)
        return
    h5_layout.load_optimizer_variables([(group, name) for name in names], model, what)


def load_legacy_weights(model, filepath: str | os.PathLike) -> None:
    """Load the weights of a Keras 2 ``.h5`` file (a whole model, or what ``save_weights`` wrote) into ``model``."""
    path = os.fspath(filepath)
    what = repr(path)
    with h5_layout.open_h5(path, what) as f:
        group = f[WEIGHTS_GROUP] if WEIGHTS_GROUP in f else f
        model.set_weights(read_layer_weights(group, model, what))


def _json(text: str, what: str, name: str) -> dict:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise ModelFileError(f"{what}: attribute {name!r} is not valid JSON: {e}") from None
    return expect(value, dict, what, "", f"attribute {name}")


# ----- writing -------------------------------------------------------------------------------------------------
def _strip_modules(entry: dict) -> dict:
    """A layer entry as the legacy format writes it: without ``module``, ``registered_name`` and ``build_config``."""
    return {key: value for key, value in entry.items() if key not in ("module", "registered_name", "build_config")}


def save_legacy(model, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write ``model`` as a Keras 2 ``.h5`` file, as Keras 3's ``model.save("x.h5")`` does, atomically."""
    h5py = h5_layout.h5py_module()
    check_overwrite(filepath, overwrite)
    objects.check_savable(model)
    config = objects.keras_config(model)
    model_config = {"class_name": config["class_name"], "config": {**config["config"], "layers": [
        _strip_modules(entry) for entry in config["config"]["layers"]]}}
    compile_config = config["compile_config"] if include_optimizer else None

    def write(stream):
        with h5py.File(stream, "w") as f:
            f.attrs["keras_version"] = objects.KERAS_VERSION
            f.attrs["backend"] = "glassnet"
            f.attrs[MODEL_CONFIG] = json.dumps(model_config)
            group = f.create_group(WEIGHTS_GROUP)
            group.attrs["layer_names"] = [layer.name.encode("utf-8") for layer in model.layers]
            for layer in model.layers:
                names = [f"{layer.name}/{weight.name.split('/')[-1]}_{i}" for i, weight in enumerate(layer.weights)]
                layer_group = group.create_group(layer.name)
                layer_group.attrs["weight_names"] = [n.encode("utf-8") for n in names]
                for name, weight in zip(names, layer.weights):
                    layer_group[name] = np.asarray(weight.numpy())
            if compile_config is not None:
                optimizer = compile_config.pop("optimizer")
                f.attrs[TRAINING_CONFIG] = json.dumps({**compile_config, "optimizer_config": {
                    "class_name": optimizer["class_name"], "config": optimizer["config"]}})
                variables = h5_layout.optimizer_variables(model.optimizer)
                names = [f"{model.optimizer.name}/{n}" for n in _optimizer_names(model.optimizer, len(variables))]
                group = f.create_group(OPTIMIZER_GROUP)
                group.attrs["weight_names"] = [n.encode("utf-8") for n in names]
                for name, value in zip(names, variables):
                    group[name] = value

    atomic_write(filepath, write)


def _optimizer_names(optimizer, count: int) -> list[str]:
    head = ["iteration", "learning_rate"] if h5_layout.has_learning_rate_variable(optimizer) else ["iteration"]
    return head + [f"variable_{i}" for i in range(count - len(head))]
