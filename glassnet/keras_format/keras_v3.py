"""Keras 3's files: the ``.keras`` zip (``config.json``, ``metadata.json``, ``model.weights.h5``) and the
``.weights.h5`` file, both ways, with the compile settings and the optimizer's variables, so training resumes.

Reading is bounded: the architecture is built first (its sizes checked against the weights member's declared size),
then ``model.weights.h5`` is read only if it fits what that architecture can need, streamed with that cap.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Mapping
from datetime import datetime

from glassnet.keras_format import h5_layout, objects
from glassnet.saving import (
    ModelFileError,
    atomic_write,
    check_overwrite,
    open_archive,
    read_json,
    read_member,
    write_zip,
)
from glassnet.version import __version__

CONFIG_MEMBER = "config.json"
METADATA_MEMBER = "metadata.json"
WEIGHTS_MEMBER = "model.weights.h5"


def is_keras_file(path: str | os.PathLike) -> bool:
    """True for a zip holding ``model.weights.h5`` and ``config.json`` (what Keras 3 writes)."""
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return {CONFIG_MEMBER, WEIGHTS_MEMBER} <= names


def save_keras(model, filepath: str | os.PathLike, overwrite: bool = True, include_optimizer: bool = True) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file: architecture, weights, compile settings and (when compiled and
    ``include_optimizer``) the optimizer's variables, atomically. Raises ValueError for what Keras could not
    rebuild (a custom activation or layer) before writing anything."""
    check_overwrite(filepath, overwrite)
    objects.check_savable(model)
    config = objects.keras_config(model)
    if not include_optimizer:
        config["compile_config"] = None
    metadata = {"keras_version": objects.KERAS_VERSION, "date_saved": datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"glassnet {__version__}"}
    write_zip(filepath, {METADATA_MEMBER: json.dumps(metadata).encode("utf-8"),
                         CONFIG_MEMBER: json.dumps(config, indent=2).encode("utf-8"),
                         WEIGHTS_MEMBER: h5_layout.weights_h5_bytes(model, include_optimizer)})


def save_weights_h5(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model``'s weights (and its optimizer's variables when compiled) as Keras 3's ``.weights.h5``."""
    check_overwrite(filepath, overwrite)
    data = h5_layout.weights_h5_bytes(model)
    atomic_write(filepath, lambda f: f.write(data))


def load_keras(filepath: str | os.PathLike, custom_objects: Mapping | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True, *, model_classes: Mapping[str, type]):
    """A glassnet model from a Keras 3 ``.keras`` file: architecture, weights and (``compile=True``) the optimizer
    with its variables, the loss and the metrics. ``model_classes`` maps the Keras model classes that may be read
    (``"Sequential"``) to the glassnet classes to build. Raises ModelFileError for anything unknown or malformed."""
    path = os.fspath(filepath)
    what = repr(path)
    with open_archive(path, f"{what} (not a valid .keras file)") as zf:
        if not {CONFIG_MEMBER, WEIGHTS_MEMBER} <= set(zf.namelist()):
            raise ModelFileError(f"{what} is not a Keras model file: expected the members {CONFIG_MEMBER!r} and "
                                 f"{WEIGHTS_MEMBER!r}, found {sorted(zf.namelist())}")
        config = read_json(zf, CONFIG_MEMBER, what)
        declared = zf.getinfo(WEIGHTS_MEMBER).file_size
        reader = objects.Reader(f"{what} {CONFIG_MEMBER}", custom_objects, safe_mode)
        model = reader.build_model(config, model_classes, weight_budget=declared)
        data = read_member(zf, WEIGHTS_MEMBER, h5_layout.weights_limit(model), what)
    compile_config = config.get("compile_config")
    if compile and compile_config:
        reader.compile_model(model, compile_config)
    with h5_layout.open_h5(data, f"{what} ({WEIGHTS_MEMBER})") as f:
        h5_layout.load_h5_state(f, model, f"{what} ({WEIGHTS_MEMBER})")
    return model


def load_weights_keras(model, filepath: str | os.PathLike) -> None:
    """Load a ``.keras`` file's or a ``.weights.h5`` file's weights (and optimizer variables, when the model is
    compiled) into ``model``; every dataset is checked against the model before it is read."""
    path = os.fspath(filepath)
    what = repr(path)
    if path.endswith(".keras"):
        with open_archive(path, f"{what} (not a valid .keras file)") as zf:
            source = read_member(zf, WEIGHTS_MEMBER, h5_layout.weights_limit(model), what)
        what = f"{what} ({WEIGHTS_MEMBER})"
    else:
        source = path
    with h5_layout.open_h5(source, what) as f:
        h5_layout.load_h5_state(f, model, what)
