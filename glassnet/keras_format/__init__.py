"""Model files as Keras names them: the file's extension chooses the format, as in Keras 3.

==========================  ======================================================  ==============================
extension                   format                                                  module
==========================  ======================================================  ==============================
``.keras``                  Keras 3's zip (config, metadata, ``model.weights.h5``)   keras_v3 (default)
``.weights.h5``             Keras 3's weights (and optimizer variables)              keras_v3, h5_layout
``.h5``, ``.hdf5``          Keras 2's HDF5 (``model_config`` + ``model_weights``)    legacy_h5
``.glassnet``               glassnet's own zip (config + ``.npy`` arrays)            glassnet.saving
==========================  ======================================================  ==============================

Any other extension is refused with Keras's message. This package sits below glassnet.models (the model's save,
save_weights and load_weights call it) and imports no model: ``load_model`` builds the classes it is handed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from glassnet import saving
from glassnet.keras_format import keras_v3, legacy_h5, onnx_export
from glassnet.keras_format.keras_v3 import is_keras_file
from glassnet.keras_format.objects import keras_config

__all__ = ["export", "is_keras_file", "keras_config", "load_model", "load_weights", "save_model", "save_weights"]

LEGACY_EXTENSIONS = (".h5", ".hdf5")


def save_model(model, filepath: str | os.PathLike, overwrite: bool = True, **kwargs) -> None:
    """``model.save``: ``.keras`` (Keras 3), ``.h5`` (Keras 2's legacy HDF5) or ``.glassnet`` by the extension.
    ``include_optimizer=False`` leaves the compile settings and optimizer state out of a Keras file."""
    path = os.fspath(filepath)
    include_optimizer = kwargs.pop("include_optimizer", True)
    requested = kwargs.pop("format", None) or kwargs.pop("save_format", None)
    kwargs.pop("zipped", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs.keys())}")
    writers = {".keras": ("keras", keras_v3.save_keras), ".h5": ("h5", legacy_h5.save_legacy),
               ".hdf5": ("h5", legacy_h5.save_legacy), saving.EXTENSION: ("glassnet", None)}
    extension = next((ext for ext in writers if path.endswith(ext)), None)
    if extension is None:
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension for the native Keras "
            "format (recommended) or a `.h5` extension (glassnet's own format: `.glassnet`). Use "
            f"`model.export(filepath)` if you want to export a model for use elsewhere. Received: filepath={path}.")
    name, writer = writers[extension]
    if requested not in (None, name):
        raise ValueError(f"save: `format`={requested!r} does not match the file's extension {extension!r} (format "
                         f"{name!r}); the extension chooses the format, as in Keras 3")
    if writer is None:
        saving.save_glassnet(model, path, overwrite=overwrite)
    else:
        writer(model, path, overwrite=overwrite, include_optimizer=include_optimizer)


def save_weights(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """``model.save_weights``: Keras 3's ``.weights.h5`` (with the optimizer's variables when compiled)."""
    path = os.fspath(filepath)
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    keras_v3.save_weights_h5(model, path, overwrite=overwrite)


def load_weights(model, filepath: str | os.PathLike) -> None:
    """``model.load_weights``: from a ``.keras`` or ``.weights.h5`` file (with the optimizer's variables when the
    model is compiled), a Keras 2 ``.h5`` file, or a ``.glassnet`` file; count and shapes checked first."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no file at {path!r}")
    if path.endswith(".keras") and saving.is_glassnet_file(path):  # an earlier glassnet's default
        saving.load_glassnet_weights(model, path)
    elif path.endswith((".keras", ".weights.h5")):
        keras_v3.load_weights_keras(model, path)
    elif path.endswith(LEGACY_EXTENSIONS):
        legacy_h5.load_legacy_weights(model, path)
    elif path.endswith((saving.EXTENSION, ".npz")):
        saving.load_glassnet_weights(model, path)
    else:
        raise ValueError(f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` files, "
                         "`.weights.h5` files, or legacy H5 format files (`.h5` extension); glassnet also reads "
                         "its own `.glassnet` files.")


def load_model(filepath: str | os.PathLike, custom_objects: Mapping | None = None, compile: bool = True,  # noqa: A002
               safe_mode: bool = True, *, model_classes: Mapping[str, type]):
    """``load_model``: a ``.keras``, Keras 2 ``.h5`` or ``.glassnet`` file, by its extension (``model_classes``: the
    model classes a file may name)."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_model: no file at {path!r}")
    if path.endswith(".keras") and saving.is_glassnet_file(path):  # an earlier glassnet's default
        return saving.load_glassnet(path, custom_objects, compile=compile, model_classes=model_classes)
    if path.endswith(".keras"):
        return keras_v3.load_keras(path, custom_objects, compile=compile, safe_mode=safe_mode,
                                   model_classes=model_classes)
    if path.endswith(LEGACY_EXTENSIONS):
        return legacy_h5.load_legacy(path, custom_objects, compile=compile, safe_mode=safe_mode,
                                     model_classes=model_classes)
    if path.endswith(saving.EXTENSION):
        return saving.load_glassnet(path, custom_objects, compile=compile, model_classes=model_classes)
    raise ValueError(f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` files, legacy "
                     "H5 format files (`.h5` extension); glassnet also reads its own `.glassnet` files.")


def export(model, filepath: str | os.PathLike, format: str = "onnx", verbose=None, input_signature=None,  # noqa: A002
           **kwargs) -> None:
    """``model.export``: the model for inference elsewhere, as the ONNX file ``filepath`` (opset 17). Keras's
    other formats ('tf_saved_model', 'openvino') need TensorFlow or OpenVINO and are refused."""
    if format != "onnx":
        raise ValueError(f"Unrecognized format={format!r}. glassnet exports format='onnx' (Keras's "
                         "'tf_saved_model' and 'openvino' need TensorFlow or OpenVINO)")
    if input_signature is not None or kwargs:
        raise ValueError("export: input_signature and the format's extra arguments are not supported; the input "
                         "is the model's own shape with a free batch size. Received: "
                         f"{sorted(kwargs) or 'input_signature'}")
    onnx_export.export_onnx(model, filepath)
