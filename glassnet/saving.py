"""Files, safely: atomic writes, bounded reading of zip archives, and glassnet's own ``.glassnet`` model files.

Every write goes to a temporary ``.<name>.<random>.tmp`` in the same folder, created with the umask's mode, flushed
to disk and renamed over the target, so a crash mid-save never destroys the previous file; the temporaries a killed
save left behind are removed by the next save to that path. Reading an archive checks every member's name (no
absolute paths, no ``..``) and reads a member only if its declared size fits a limit, streaming it with that cap,
so a zip bomb is refused before it is expanded.

A ``.glassnet`` file is a zip of ``config.json`` (architecture, compile settings, glassnet version), ``weights.npz``
and ``optimizer.npz`` (numeric ``.npy`` arrays, read without pickle). Loading builds layers only from glassnet's
registries. This module sits below glassnet.models and imports no model: :func:`load_model` builds the model class
it is handed. Keras's own formats are in glassnet.keras_format, above this module.
"""

from __future__ import annotations

import glob
import io
import json
import os
import tempfile
import zipfile
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from glassnet import losses, metrics, optimizers
from glassnet.keras_names import missing_attribute
from glassnet.version import __version__

FORMAT = "glassnet.model"
FORMAT_VERSION = 1
EXTENSION = ".glassnet"
CONFIG_MEMBER = "config.json"
WEIGHTS_MEMBER = "weights.npz"
OPTIMIZER_MEMBER = "optimizer.npz"
CONFIG_LIMIT = 16 << 20  # bytes of JSON a model description may take (a large model's is well under 1 MiB)
MEMBER_COUNT_LIMIT = 1024
SLACK = 1 << 20  # bytes an archive may hold beyond its arrays' data (headers, names, the HDF5 layout)
READ_CHUNK = 1 << 20
NUMERIC_KINDS = "biuf"
SIZE_KEYS = ("units", "filters", "output_dim", "input_dim")  # a layer with one of these has at least that many weights


class ModelFileError(ValueError):
    """A model or weights file that cannot be loaded: not a model file, truncated, tampered with, or holding data
    that does not fit the model (wrong count or shapes of weights, pickled objects, malformed values)."""


# ----- registered classes (keras.saving.register_keras_serializable) -------------------------------------------
REGISTERED_OBJECTS: dict[str, object] = {}  # "package>name" → the class or function
REGISTERED_NAMES: dict[object, str] = {}


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Keras's decorator: files name the class (or function) ``"package>name"``, and loading finds it without
    ``custom_objects``. Only classes and functions registered in the running program are built: a file cannot name
    code that was not."""
    def decorator(arg):
        if isinstance(arg, type) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        registered = f"{package}>{name if name is not None else arg.__name__}"
        REGISTERED_OBJECTS[registered] = arg
        REGISTERED_NAMES[arg] = registered
        return arg

    return decorator


def get_registered_name(obj) -> str:
    """The name files give ``obj``: its registered ``"package>name"``, or its own name."""
    return REGISTERED_NAMES.get(obj, obj.__name__)


def get_custom_objects() -> dict[str, object]:
    """The registered classes and functions by their registered names (Keras's global dict; changing it
    registers or forgets objects)."""
    return REGISTERED_OBJECTS


# ----- writing -------------------------------------------------------------------------------------------------
def umask_mode() -> int:
    """The mode ``open()`` gives a new file: 0o666 without the process's umask bits (read from /proc where Linux
    shows it; elsewhere set and restored, which another thread creating a file at that instant could notice)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            mask = next(int(line.split()[1], 8) for line in status if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError, IndexError):
        mask = os.umask(0)
        os.umask(mask)
    return 0o666 & ~mask


def remove_stale_temporaries(path: str) -> list[str]:
    """Delete the ``.<name>.*.tmp`` files that saves to ``path`` killed mid-write left behind; returns them."""
    pattern = os.path.join(glob.escape(os.path.dirname(path)), f".{glob.escape(os.path.basename(path))}.*.tmp")
    removed = []
    for stale in glob.glob(pattern):
        try:
            os.unlink(stale)
            removed.append(stale)
        except FileNotFoundError:
            pass
    return removed


def atomic_write(filepath: str | os.PathLike, write: Callable[[io.BufferedWriter], None]) -> None:
    """Call ``write(f)`` on a temporary file next to ``filepath``, fsync it, then rename it over ``filepath``.

    If ``write`` raises (or the process dies), the previous ``filepath`` is left exactly as it was; the temporary is
    removed now, or by the next save to the same path if the process was killed.
    """
    path = os.path.abspath(os.fspath(filepath))
    folder = os.path.dirname(path)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=folder)
    try:
        os.fchmod(fd, umask_mode())
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


def check_overwrite(filepath: str | os.PathLike, overwrite: bool) -> None:
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{os.fspath(filepath)!r} already exists and overwrite=False was passed")


def write_zip(filepath: str | os.PathLike, members: Mapping[str, bytes]) -> None:
    """Write ``members`` (name → bytes, stored uncompressed as Keras does) as one zip, atomically."""
    def write(f):
        with zipfile.ZipFile(f, "w", compression=zipfile.ZIP_STORED) as zf:
            for name, data in members.items():
                zf.writestr(name, data)

    atomic_write(filepath, write)


def npz_bytes(arrays: Sequence[np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, *[np.asarray(a) for a in arrays])
    return buffer.getvalue()


def save_glassnet(model, filepath: str | os.PathLike, overwrite: bool = True) -> None:
    """Write ``model`` (architecture, weights, compile settings and optimizer state) as a ``.glassnet`` zip; any
    other extension is refused, so glassnet's format never hides under a Keras file name."""
    if not os.fspath(filepath).endswith(EXTENSION):
        raise ValueError(f"glassnet's own model files end in {EXTENSION!r}; received filepath={os.fspath(filepath)}. "
                         "model.save('m.keras') writes Keras 3's format")
    check_overwrite(filepath, overwrite)
    config = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "glassnet_version": __version__,
        "class_name": type(model).__name__, "config": model.get_config(),
        "compile_config": model.get_compile_config(), "weight_names": [w.name for w in model.weights],
    }
    members = {CONFIG_MEMBER: json.dumps(config, indent=2).encode("utf-8"), WEIGHTS_MEMBER: npz_bytes(
        model.get_weights())}
    optimizer_state = model.get_optimizer_state()
    if optimizer_state:
        members[OPTIMIZER_MEMBER] = npz_bytes(optimizer_state)
    write_zip(filepath, members)


# ----- reading archives, bounded -------------------------------------------------------------------------------
def open_archive(source: str | os.PathLike | bytes, what: str) -> zipfile.ZipFile:
    """The zip at ``source`` (a path or bytes) with every member name checked: relative, no ``..``, not too many."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(source) if isinstance(source, bytes) else source)
    except (zipfile.BadZipFile, EOFError, zipfile.LargeZipFile) as e:
        raise ModelFileError(f"{what} is not a valid zip archive (truncated or corrupted?): {e}") from None
    names = zf.namelist()
    if len(names) > MEMBER_COUNT_LIMIT:
        zf.close()
        raise ModelFileError(f"{what} holds {len(names)} members; expected at most {MEMBER_COUNT_LIMIT}")
    for name in names:
        parts = name.replace("\\", "/").split("/")
        if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":") or ".." in parts:
            zf.close()
            raise ModelFileError(f"{what}: member {name!r} has an absolute path or '..'; expected a relative name "
                                 "inside the archive")
    return zf


def read_member(zf: zipfile.ZipFile, name: str, limit: int, what: str) -> bytes:
    """Member ``name``, refused if its declared size exceeds ``limit`` bytes, read in chunks that stop at the limit
    (the zip's CRC is checked at the end of the read)."""
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise ModelFileError(f"{what} has no member {name!r} (members found: {sorted(zf.namelist())})") from None
    if info.file_size > limit:
        raise ModelFileError(f"{what}: member {name!r} expands to {info.file_size} bytes; the model it describes "
                             f"needs at most {limit} (a zip bomb or a file for another model)")
    chunks, size = [], 0
    try:
        with zf.open(info) as member:
            while chunk := member.read(READ_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise ModelFileError(f"{what}: member {name!r} holds more than {limit} bytes; expected at most "
                                         f"{limit}")
                chunks.append(chunk)
    except (zipfile.BadZipFile, EOFError, OSError, NotImplementedError) as e:
        raise ModelFileError(f"{what}: member {name!r} is truncated or corrupted (fails its CRC check?): {e}") \
            from None
    return b"".join(chunks)


def read_json(zf: zipfile.ZipFile, name: str, what: str) -> dict:
    """Member ``name`` parsed as a JSON object (at most CONFIG_LIMIT bytes)."""
    data = read_member(zf, name, CONFIG_LIMIT, what)
    try:
        value = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ModelFileError(f"{what}: {name} is not valid JSON: {e}") from None
    return expect(value, dict, what, name, "the top level")


def expect(value, kind: type | tuple[type, ...], what: str, member: str, key: str):
    """``value`` if it is an instance of ``kind``; otherwise ModelFileError naming the member, key and type."""
    if isinstance(value, kind) and not (kind is int and isinstance(value, bool)):
        return value
    names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
    where = " ".join(part for part in (what, member) if part)
    raise ModelFileError(f"{where} key '{key}': holds {value!r:.100}; expected a {names}")


def check_sizes(layer_config: Mapping, budget: int, what: str, key: str) -> None:
    """Before a layer is built: its sizes (``units``, ``filters``, ...) are positive integers no larger than the
    ``budget`` of weights the file can hold, and its input shape holds positive integers or null."""
    for size_key in SIZE_KEYS:
        if size_key in layer_config:
            size = expect(layer_config[size_key], int, what, "", f"{key}.{size_key}")
            if not 0 < size <= budget:
                raise ModelFileError(f"{what} key '{key}.{size_key}': {size} is more than the weights stored in the "
                                     f"file can hold; expected a positive integer ≤ {budget}")
    for shape_key in ("batch_shape", "batch_input_shape"):
        dims = expect(layer_config.get(shape_key) or [], (list, tuple), what, "", f"{key}.{shape_key}")
        if not all(dim is None or (isinstance(dim, int) and 0 < dim < 2**31) for dim in dims):
            raise ModelFileError(f"{what} key '{key}.{shape_key}': holds {dims!r}; expected positive integers or null")


def array_bytes(shapes: Sequence[tuple], itemsize: int = 8) -> int:
    """The most bytes arrays of these shapes can take (float64 or int64 elements), plus slack for the layout."""
    return sum(int(np.prod(shape, dtype=np.int64)) for shape in shapes) * itemsize + SLACK


def read_npz(source: str | os.PathLike | bytes, what: str, shapes: Sequence[tuple] | None) -> list[np.ndarray]:
    """The arrays ``arr_0, arr_1, ...`` of an ``.npz``, each header checked before its data is read: a numeric dtype
    (an object array would need pickle and is refused) and, when ``shapes`` is given, that count and those shapes."""
    with open_archive(source, what) as npz:
        names = sorted(npz.namelist(), key=lambda n: (len(n), n))
        expected = [f"arr_{i}.npy" for i in range(len(names))]
        if names != expected:
            raise ModelFileError(f"{what} holds arrays named {names[:5]}; expected arr_0.npy, arr_1.npy, ... in order")
        if shapes is not None and len(names) != len(shapes):
            raise ModelFileError(f"{what} holds {len(names)} arrays; the model expects {len(shapes)} "
                                 "(the stored weights do not fit this model)")
        arrays = []
        for i, name in enumerate(names):
            limit = array_bytes([shapes[i]]) if shapes is not None else CONFIG_LIMIT * 64
            arrays.append(_npy_array(read_member(npz, name, limit, what), f"{what} member {name!r}",
                                     None if shapes is None else tuple(shapes[i])))
    return arrays


def _npy_array(data: bytes, where: str, shape: tuple | None) -> np.ndarray:
    stream = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(stream)
        header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        stored_shape, _, dtype = header(stream)
    except (ValueError, EOFError, SyntaxError) as e:
        raise ModelFileError(f"{where} is not a .npy array (raw bytes?): {e}") from None
    if dtype.hasobject:
        raise ModelFileError(f"{where} contains a pickled Python object array (dtype {dtype}), which glassnet refuses "
                             "to load (loading it could run arbitrary code). Only numeric arrays are allowed.")
    if dtype.kind not in NUMERIC_KINDS:
        raise ModelFileError(f"{where} has dtype {dtype}; expected numeric weights")
    if shape is not None and tuple(stored_shape) != shape:
        raise ModelFileError(f"{where} has shape {tuple(stored_shape)}; the model expects {shape} (the stored weights "
                             "do not fit this model)")
    stream.seek(0)
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except ValueError as e:
        raise ModelFileError(f"{where} is truncated: {e}") from None


# ----- reading .glassnet files ---------------------------------------------------------------------------------
def read_glassnet_config(zf: zipfile.ZipFile, what: str) -> dict:
    """``config.json`` of a ``.glassnet`` zip, checked to describe a model this glassnet reads."""
    config = read_json(zf, CONFIG_MEMBER, what)
    if config.get("format") != FORMAT:
        raise ModelFileError(f"{what}: {CONFIG_MEMBER} key 'format' is {config.get('format')!r}; expected {FORMAT!r}")
    version = expect(config.get("format_version", 0), int, what, CONFIG_MEMBER, "format_version")
    if version > FORMAT_VERSION:
        raise ModelFileError(f"{what} was written by glassnet {config.get('glassnet_version')} in format version "
                             f"{version}; this glassnet reads format version {FORMAT_VERSION}. Upgrade glassnet.")
    expect(config.get("config"), dict, what, CONFIG_MEMBER, "config")
    expect(config.get("config", {}).get("layers", []), list, what, CONFIG_MEMBER, "config.layers")
    return config


def is_glassnet_file(path: str | os.PathLike) -> bool:
    """True for a zip holding ``config.json`` and ``weights.npz`` (glassnet's own model file)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return {CONFIG_MEMBER, WEIGHTS_MEMBER} <= set(zf.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def compile_arguments(compile_config: Mapping, custom_objects: Mapping | None, what: str) -> dict:
    """``model.compile`` arguments from a saved compile config; names in ``custom_objects`` resolve to the user's
    optimizer, loss and metric classes or functions."""
    custom = dict(custom_objects or {})
    expect(compile_config.get("optimizer"), dict, what, CONFIG_MEMBER, "compile_config.optimizer")
    try:
        optimizer = optimizers.deserialize(compile_config["optimizer"], custom_objects=custom)
        loss = compile_config.get("loss")
        loss = custom[loss] if isinstance(loss, str) and loss in custom else (
            losses.get(loss, custom_objects=custom) if isinstance(loss, dict) else loss)
        metric_list = [custom.get(m, m) if isinstance(m, str) else metrics.deserialize(m, custom_objects=custom)
                       for m in expect(compile_config.get("metrics") or [], list, what, CONFIG_MEMBER,
                                       "compile_config.metrics")]
    except (KeyError, TypeError, ValueError, AttributeError) as e:
        raise ModelFileError(f"{what}: {CONFIG_MEMBER} key 'compile_config' cannot be used ({e}); pass the classes "
                             "it names in custom_objects, or load with compile=False") from None
    return {"optimizer": optimizer, "loss": loss, "loss_weights": compile_config.get("loss_weights"),
            "metrics": metric_list}


def load_glassnet(filepath: str | os.PathLike, custom_objects: dict | None = None, compile: bool = True,  # noqa: A002
                  *, model_classes: Mapping[str, type]):
    """Rebuild a model saved as ``.glassnet``: architecture, weights, and (``compile=True``) its compile settings
    and optimizer state. Raises ModelFileError for a file that is not a complete, untampered glassnet model.
    ``model_classes`` maps the class names a file may give to the classes to build (any other name is refused)."""
    path = os.fspath(filepath)
    what = repr(path)
    with open_archive(path, f"{what} (not a valid glassnet model file)") as zf:
        config = read_glassnet_config(zf, what)
        class_name = expect(config.get("class_name"), str, what, CONFIG_MEMBER, "class_name")
        if class_name not in model_classes:
            raise ModelFileError(f"{what}: {CONFIG_MEMBER} key 'class_name' is {class_name!r}; expected one of "
                                 f"{sorted(model_classes)}")
        if WEIGHTS_MEMBER not in zf.namelist():
            raise ModelFileError(f"{what} is not a complete glassnet model file: it has no member {WEIGHTS_MEMBER!r} "
                                 f"(members found: {sorted(zf.namelist())})")
        budget = zf.getinfo(WEIGHTS_MEMBER).file_size
        for i, layer in enumerate(config["config"].get("layers", [])):
            layer = expect(layer, dict, what, CONFIG_MEMBER, f"config.layers[{i}]")
            check_sizes(expect(layer.get("config") or {}, dict, what, CONFIG_MEMBER, f"config.layers[{i}].config"),
                        budget, f"{what} {CONFIG_MEMBER}", f"config.layers[{i}] ({layer.get('class_name')})")
        try:
            registered = {getattr(obj, "__name__", key): obj for key, obj in REGISTERED_OBJECTS.items()}
            model = model_classes[class_name].from_config(config["config"],
                                                          custom_objects={**registered, **(custom_objects or {})})
        except (KeyError, TypeError, ValueError, AttributeError, NotImplementedError, OverflowError, MemoryError) as e:
            raise ModelFileError(f"{what}: {CONFIG_MEMBER} key 'config': cannot rebuild the model: {e}") from None
        shapes = [tuple(w.shape) for w in model.weights]
        weights = read_npz(read_member(zf, WEIGHTS_MEMBER, array_bytes(shapes) * 2, what),
                           f"{what} ({WEIGHTS_MEMBER})", shapes)
        model.set_weights(weights)
        compile_config = config.get("compile_config")
        if compile and compile_config:
            arguments = compile_arguments(expect(compile_config, dict, what, CONFIG_MEMBER, "compile_config"),
                                          custom_objects, what)
            try:
                model.compile(**arguments)
            except (TypeError, ValueError, NotImplementedError) as e:
                raise ModelFileError(f"{what}: {CONFIG_MEMBER} key 'compile_config' cannot be used ({e}); pass the "
                                     "classes it names in custom_objects, or load with compile=False") from None
            if OPTIMIZER_MEMBER in zf.namelist():
                model.optimizer.build(model.trainable_weights)
                state_shapes = [tuple(np.shape(a)) for a in model.optimizer.get_state()]
                state = read_npz(read_member(zf, OPTIMIZER_MEMBER, array_bytes(state_shapes) * 2, what),
                                 f"{what} ({OPTIMIZER_MEMBER})", state_shapes)
                model.set_optimizer_state(state)
    return model


def load_glassnet_weights(model, filepath: str | os.PathLike) -> None:
    """Load the weights of a ``.glassnet`` model file, or of an ``.npz`` written by earlier glassnets, into
    ``model``; count and shapes are checked before anything is read."""
    path = os.fspath(filepath)
    what = repr(path)
    shapes = [tuple(w.shape) for w in model.weights]
    if is_glassnet_file(path):
        with open_archive(path, what) as zf:
            weights = read_npz(read_member(zf, WEIGHTS_MEMBER, array_bytes(shapes) * 2, what),
                               f"{what} ({WEIGHTS_MEMBER})", shapes)
    else:
        weights = read_npz(path, what, shapes)
    model.set_weights(weights)


#: keras.saving's model-level functions, which live in glassnet.models (above this module: they build models)
MODEL_LEVEL = ("load_model", "save_model")


def __getattr__(name: str):
    """``keras.saving.load_model``/``save_model``: looked up by name in glassnet.models on first use (as
    ``glassnet.inspect`` is), since this module sits below the models; any other name this module lacks: for one
    of Keras's, an error saying glassnet does not implement it yet."""
    if name in MODEL_LEVEL:
        import importlib

        return getattr(importlib.import_module("glassnet.models"), name)
    raise missing_attribute(__name__, name)
