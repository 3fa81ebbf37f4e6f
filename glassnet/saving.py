"""Model files: a zip holding ``config.json`` (architecture, compile settings, glassnet version) and
``weights.npz`` (the weights, read with ``allow_pickle=False``). Weights-only files are a plain ``.npz``.

Loading never runs code from the file: layers are built only from glassnet's registry of known classes, and an
array that would need pickle is refused. Every write goes to a temporary file in the same folder, is flushed to
disk, then renamed over the target, so a crash mid-save never destroys the previous file.

This module sits below glassnet.models: ``model.save`` calls it, and it imports no model. :func:`load_model` builds
the model class it is handed; :func:`glassnet.models.load_model` (what users call) hands it the known ones.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from glassnet.version import __version__

FORMAT = "glassnet.model"
FORMAT_VERSION = 1
CONFIG_MEMBER = "config.json"
WEIGHTS_MEMBER = "weights.npz"
OPTIMIZER_MEMBER = "optimizer.npz"


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded: not a glassnet file, truncated, tampered with, or
    holding data that does not fit the model (wrong count or shapes of weights, pickled objects)."""


# ----- writing -------------------------------------------------------------------------------------------------
def atomic_write(filepath: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Call ``write(f)`` on a temporary file next to ``filepath``, fsync it, then rename it over ``filepath``.

    If ``write`` raises (or the process dies), the previous ``filepath`` is left exactly as it was.
    """
    path = os.path.abspath(os.fspath(filepath))
    folder = os.path.dirname(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    try:  # make the rename itself durable (not possible on every platform)
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dir_fd)
    except OSError:
        pass
    finally:
        os.close(dir_fd)


def _npz_bytes(arrays: Sequence[np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, *[np.asarray(a) for a in arrays])
    return buffer.getvalue()


def _check_overwrite(filepath, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} already exists and overwrite=False was passed")


def save_model(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile settings and optimizer state) to one zip file."""
    _check_overwrite(filepath, overwrite)
    config = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "glassnet_version": __version__,
        "class_name": type(model).__name__,
        "config": model.get_config(),
        "compile_config": model.get_compile_config(),
        "weight_names": [w.name for w in model.weights],
    }
    config_bytes = json.dumps(config, indent=2).encode("utf-8")
    weights_bytes = _npz_bytes(model.get_weights())
    optimizer_state = model.get_optimizer_state()
    optimizer_bytes = _npz_bytes(optimizer_state) if optimizer_state else None

    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            zf.writestr(CONFIG_MEMBER, config_bytes)
            zf.writestr(WEIGHTS_MEMBER, weights_bytes)
            if optimizer_bytes is not None:
                zf.writestr(OPTIMIZER_MEMBER, optimizer_bytes)

    atomic_write(filepath, write)


def save_weights(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write only the weights, in ``model.weights`` order, as an ``.npz`` (convention: ``name.weights.npz``)."""
    _check_overwrite(filepath, overwrite)
    data = _npz_bytes(model.get_weights())
    atomic_write(filepath, lambda f: f.write(data))


# ----- reading -------------------------------------------------------------------------------------------------
def read_npz(data: bytes | str | os.PathLike, what: str) -> list[np.ndarray]:
    """The arrays of an ``.npz`` in order ``arr_0, arr_1, ...``; refuses pickled objects and non-numeric data."""
    source = io.BytesIO(data) if isinstance(data, bytes) else os.fspath(data)
    try:
        with np.load(source, allow_pickle=False) as npz:
            keys = list(npz.files)
            expected = [f"arr_{i}" for i in range(len(keys))]
            if sorted(keys) != sorted(expected):
                raise ModelFileError(f"{what} holds arrays named {keys}; expected {expected[:3]}... in order")
            arrays = [npz[key] for key in expected]
    except ModelFileError:
        raise
    except ValueError as e:
        if "pickle" in str(e):
            raise ModelFileError(
                f"{what} contains a pickled Python object array, which glassnet refuses to load (loading it "
                "could run arbitrary code). Only numeric arrays are allowed in a glassnet weights file."
            ) from None
        raise ModelFileError(f"{what} is not a valid .npz weights archive: {e}") from None
    except (OSError, zipfile.BadZipFile, EOFError) as e:
        raise ModelFileError(f"{what} is not a valid .npz weights archive (truncated or corrupted?): {e}") from None
    for i, arr in enumerate(arrays):
        if arr.dtype.kind not in "biuf":
            raise ModelFileError(f"{what}: array {i} has dtype {arr.dtype}; expected numeric weights")
    return arrays


def _read_model_zip(path: str) -> tuple[dict, bytes, bytes | None]:
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ModelFileError(f"{path!r} is corrupted: the member {bad!r} fails its CRC check")
            names = set(zf.namelist())
            for member in (CONFIG_MEMBER, WEIGHTS_MEMBER):
                if member not in names:
                    raise ModelFileError(
                        f"{path!r} is not a complete glassnet model file: it has no {member!r} "
                        f"(members found: {sorted(names)}); expected {CONFIG_MEMBER!r} and {WEIGHTS_MEMBER!r}"
                    )
            config_bytes = zf.read(CONFIG_MEMBER)
            weights_bytes = zf.read(WEIGHTS_MEMBER)
            optimizer_bytes = zf.read(OPTIMIZER_MEMBER) if OPTIMIZER_MEMBER in names else None
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:
        raise ModelFileError(
            f"{path!r} is not a valid glassnet model file (truncated or corrupted zip): {e}"
        ) from None
    try:
        config = json.loads(config_bytes.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{path!r}: {CONFIG_MEMBER} is not valid JSON: {e}") from None
    if not isinstance(config, dict) or config.get("format") != FORMAT:
        raise ModelFileError(f"{path!r}: {CONFIG_MEMBER} does not describe a glassnet model (format != {FORMAT!r})")
    if config.get("format_version", 0) > FORMAT_VERSION:
        raise ModelFileError(
            f"{path!r} was written by glassnet {config.get('glassnet_version')} in format version "
            f"{config['format_version']}; this glassnet reads format version {FORMAT_VERSION}. Upgrade glassnet."
        )
    return config, weights_bytes, optimizer_bytes


def _model_class(class_name: str, model_classes: Mapping[str, type], path: str) -> type:
    if class_name not in model_classes:
        raise ModelFileError(f"{path!r} describes a model of class {class_name!r}; expected one of "
                             f"{sorted(model_classes)}")
    return model_classes[class_name]


def load_model(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,  # noqa: A002
               *, model_classes: Mapping[str, type]):
    """Rebuild a model saved by ``model.save``: architecture, weights, and (``compile=True``) its compile settings
    and optimizer state. Raises ModelFileError for a file that is not a complete, untampered glassnet model.
    ``model_classes`` maps the class names a file may give to the classes to build (any other name is refused);
    :func:`glassnet.models.load_model` passes glassnet's, and also reads Keras 3 ``.keras`` files."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_model: no file at {path!r}")
    config, weights_bytes, optimizer_bytes = _read_model_zip(path)
    cls = _model_class(config.get("class_name"), model_classes, path)
    try:
        model = cls.from_config(config["config"], custom_objects=custom_objects)
    except (KeyError, TypeError, ValueError) as e:
        raise ModelFileError(f"{path!r}: cannot rebuild the model from its config: {e}") from None
    weights = read_npz(weights_bytes, f"{path!r} ({WEIGHTS_MEMBER})")
    try:
        model.set_weights(weights)
    except ValueError as e:
        raise ModelFileError(f"{path!r}: the stored weights do not fit the stored architecture: {e}") from None
    compile_config = config.get("compile_config")
    if compile and compile_config:
        model.compile_from_config(compile_config)
        if optimizer_bytes is not None:
            model.set_optimizer_state(read_npz(optimizer_bytes, f"{path!r} ({OPTIMIZER_MEMBER})"))
    return model


def load_weights(model, filepath: str | os.PathLike) -> None:
    """Load a weights file written by ``save_weights`` (or the weights inside a model file) into ``model``."""
    path = os.fspath(filepath)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"load_weights: no file at {path!r}")
    if zipfile.is_zipfile(path) and _is_model_file(path):
        _, weights_bytes, _ = _read_model_zip(path)
        weights = read_npz(weights_bytes, f"{path!r} ({WEIGHTS_MEMBER})")
    else:
        weights = read_npz(path, repr(path))
    try:
        model.set_weights(weights)
    except ValueError as e:
        raise ModelFileError(f"{path!r}: the stored weights do not fit this model: {e}") from None


def _is_model_file(path: str) -> bool:
    try:
        with zipfile.ZipFile(path) as zf:
            return CONFIG_MEMBER in zf.namelist()
    except zipfile.BadZipFile:
        return False
