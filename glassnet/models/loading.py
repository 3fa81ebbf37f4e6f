"""load_model, like ``keras.models.load_model``: a Keras 3 ``.keras``, a Keras 2 ``.h5`` or a ``.glassnet`` file.

The file formats (glassnet.keras_format, glassnet.saving) sit below glassnet.models, since ``model.save`` calls
them; they build whichever model class a file names from the classes this module hands them, so neither imports a
model.
"""

from __future__ import annotations

import json
import os

from glassnet import keras_format
from glassnet.keras_format import objects as keras_objects
from glassnet.models.functional import Functional
from glassnet.models.sequential import Sequential

#: The model classes a file may name; a file that names any other class is refused.
MODEL_CLASSES: dict[str, type] = {"Sequential": Sequential, "Functional": Functional}


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True):
    """Rebuild a saved model: architecture, weights, and (``compile=True``) its compile settings and optimizer
    state. The extension chooses the format, as in Keras 3. ``custom_objects`` maps names in the file to your own
    classes and functions; ``safe_mode=True`` refuses Lambda layers with Keras's message (glassnet never runs code
    from a file in any mode). Raises ModelFileError for a file that is not a complete, well-formed model file."""
    return keras_format.load_model(filepath, custom_objects, compile=compile, safe_mode=safe_mode,
                                   model_classes=MODEL_CLASSES)

#: The largest layer size (units, filters, ...) a JSON architecture may ask for: a bound, since a JSON string carries
#: no weights to check sizes against (2**28 float32 weights are a gigabyte).
JSON_SIZE_LIMIT = 2**28


def model_from_json(json_string: str, custom_objects: dict | None = None):
    """A new model (fresh weights) from ``model.to_json()``'s text, Keras's or glassnet's: only the classes glassnet
    knows or ``custom_objects`` names are built, as ``load_model`` does."""
    if not isinstance(json_string, (str, bytes)):
        raise TypeError(f"model_from_json expects the JSON text of a model, received {type(json_string).__name__}")
    try:
        config = json.loads(json_string)
    except json.JSONDecodeError as e:
        raise ValueError(f"model_from_json: the text is not valid JSON ({e})") from None
    reader = keras_objects.Reader("model_from_json's JSON", custom_objects)
    return reader.build_model(config, MODEL_CLASSES, weight_budget=JSON_SIZE_LIMIT)
