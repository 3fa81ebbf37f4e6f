"""load_model, like ``keras.models.load_model``: a glassnet model file or a Keras 3 ``.keras`` file.

The two file formats (glassnet.saving, glassnet.keras_format) sit below glassnet.models, since ``model.save`` calls
them; they build whichever model class a file names from the classes this module hands them, so neither imports a
model.
"""

from __future__ import annotations

import os

from glassnet import keras_format, saving
from glassnet.models.sequential import Sequential

#: The model classes a file may name; a file that names any other class is refused.
MODEL_CLASSES: dict[str, type] = {"Sequential": Sequential}


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True):  # noqa: A002
    """Rebuild a model written by ``model.save``: architecture, weights, and (``compile=True``) its compile
    settings and optimizer state; a Keras 3 ``.keras`` file is read too (without optimizer state). Raises
    ModelFileError for a file that is not a complete, untampered model file."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_model: no file at {path!r}")
    if keras_format.is_keras_file(path):  # a Keras 3 .keras zip (model.weights.h5), not a glassnet file
        return keras_format.load_keras(path, compile=compile, model_classes=MODEL_CLASSES)
    return saving.load_model(path, custom_objects, compile=compile, model_classes=MODEL_CLASSES)
