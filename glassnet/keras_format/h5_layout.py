"""Keras 3's HDF5 weights layout (``model.weights.h5`` in a ``.keras`` zip, and ``.weights.h5`` files), read safely.

Layer ``i``'s weights are the datasets ``layers/<name>/vars/0, 1, ...`` where ``<name>`` is the snake_case class name
made unique in layer order (``dense``, ``dense_1``, ...); the optimizer's are ``optimizer/vars/0, 1, ...``:
iterations, the learning rate (unless it is a schedule), then each trainable variable's slots in order (Adam:
momentum, velocity), and what the optimizer keeps last (Nadam's Πₜ). Each ``vars`` group names its object in the
attribute ``name``.

Reading accepts only numeric datasets stored in the file itself, reached by hard links (no external or soft links,
no external or virtual storage, no object dtypes), and checks each dataset's shape against the model before its
data is read.
"""

from __future__ import annotations

import io
import warnings

import numpy as np

from glassnet.layers.base import Layer, to_snake_case
from glassnet.saving import NUMERIC_KINDS, ModelFileError, array_bytes

OBJECT_LIMIT = 100_000  # groups and datasets a weights file may hold
OBJECT_OVERHEAD = 16 << 10  # bytes of HDF5 layout per group or dataset, at most
SLOTS_LIMIT = 3  # state arrays an optimizer keeps per variable (AMSGrad Adam: momentum, velocity, velocity_hat)
SEPARATE_SLOTS = {  # the slots Keras creates in calls of their own (after the slots it creates together)
    "RMSprop": ("velocity", "momentum", "average_gradient"), "Adam": ("velocity_hat",), "AdamW": ("velocity_hat",)}


def h5py_module():
    try:
        import h5py
    except ImportError as e:
        raise ImportError("Reading and writing Keras files needs h5py: pip install 'glassnet[keras-files]'") from e
    return h5py


def open_h5(source: str | bytes, what: str):
    """An HDF5 file (a path or bytes) opened read-only, after checking that every link in it is a hard link."""
    h5py = h5py_module()
    try:
        f = h5py.File(io.BytesIO(source) if isinstance(source, bytes) else source, "r")
    except OSError as e:
        raise ModelFileError(f"{what} is not a readable HDF5 file: {e}") from None
    try:
        check_links(f, what, h5py)
    except BaseException:
        f.close()
        raise
    return f


def check_links(root, what: str, h5py) -> None:
    """Refuse external and soft links anywhere in the file (they could reach other files or loop)."""
    pending, seen = [root], 0
    while pending:
        group = pending.pop()
        for key in group.keys():
            seen += 1
            if seen > OBJECT_LIMIT:
                raise ModelFileError(f"{what} holds more than {OBJECT_LIMIT} objects; expected a weights file")
            link = group.get(key, getlink=True)
            if not isinstance(link, h5py.HardLink):
                raise ModelFileError(f"{what}: {group.name.rstrip('/')}/{key} is a {type(link).__name__}; expected "
                                     "data stored in the file itself (external and soft links are refused)")
            item = group[key]
            if isinstance(item, h5py.Group):
                pending.append(item)


def read_dataset(group, key: str, where: str, shape: tuple | None) -> np.ndarray:
    """The numeric dataset ``group[key]``, its dtype, storage and shape checked before its data is read."""
    h5py = h5py_module()
    dataset = group.get(key)
    if not isinstance(dataset, h5py.Dataset):
        raise ModelFileError(f"{where}/{key}: expected a numeric dataset, found {type(dataset).__name__}")
    if dataset.dtype.kind not in NUMERIC_KINDS or dataset.dtype.hasobject:
        raise ModelFileError(f"{where}/{key}: dtype {dataset.dtype}; expected numeric weights (object, string and "
                             "compound dtypes are refused)")
    if dataset.external or dataset.is_virtual:
        raise ModelFileError(f"{where}/{key}: stored outside the file (external={bool(dataset.external)}, "
                             f"virtual={dataset.is_virtual}); expected data stored in the file itself")
    if shape is not None and tuple(dataset.shape) != tuple(shape):
        raise ModelFileError(f"{where}/{key}: shape {tuple(dataset.shape)} in the file; the model's config expects "
                             f"{tuple(shape)}")
    return np.asarray(dataset[()])


def layer_paths(model) -> list[tuple[str, object]]:
    """Where Keras keeps each layer of ``model``, as Keras walks a model to save it: a Sequential's or functional
    model's ``layers`` list first; a subclassed model's attributes in name order, ``layers`` among them. A layer in
    the list is named by its snake_case class name made unique (``dense``, ``dense_1``, ...), counting the layers
    already saved under an attribute's name too; each layer is saved once, where it is met first."""
    if type(model).__name__ in ("Sequential", "Functional"):
        names = ["layers"]
    else:
        names = sorted({*(name for name, value in vars(model).items()
                          if isinstance(value, Layer) and not name.startswith("_")), "layers"})
    paths, seen, used = [], set(), {}
    for name in names:
        for layer in (model.layers if name == "layers" else [vars(model)[name]]):
            path = name
            if name == "layers":
                base = to_snake_case(type(layer).__name__)
                path = f"layers/{base}" if base not in used else f"layers/{base}_{used[base] + 1}"
                used[base] = used[base] + 1 if base in used else 0
            if id(layer) not in seen:
                seen.add(id(layer))
                paths.append((path, layer))
    return paths


def weights_limit(model) -> int:
    """The most bytes a Keras weights file for ``model`` can take: its weights and an optimizer's slots as float64,
    plus the layout of each group and dataset."""
    shapes = [tuple(w.shape) for w in model.weights]
    objects = 4 + 2 * len(model.layers) + (1 + SLOTS_LIMIT) * len(shapes)
    return (1 + SLOTS_LIMIT) * array_bytes(shapes) + objects * OBJECT_OVERHEAD


# ----- the optimizer's variables -------------------------------------------------------------------------------
def has_learning_rate_variable(optimizer) -> bool:
    """Keras keeps a float learning rate as a variable (saved after iterations); a schedule is not one."""
    return not isinstance(optimizer.get_config()["learning_rate"], dict)


def keras_slot_order(optimizer, count: int) -> list[int]:
    """Where Keras keeps glassnet's ``count`` slot arrays (kept variable by variable, each variable's slots in
    ``slot_names`` order): Keras creates slots in calls of ``add_optimizer_variables``, each laying out its slots
    variable by variable, one call after another; RMSprop makes one call per slot, Adam a last one for AMSGrad's
    velocity_hat, the others one call for all."""
    names = optimizer.slot_names()
    separate = [name for name in SEPARATE_SLOTS.get(type(optimizer).__name__, ()) if name in names]
    groups = [tuple(name for name in names if name not in separate), *[(name,) for name in separate]]
    return [v * len(names) + names.index(name) for group in groups for v in range(count // len(names) if names else 0)
            for name in group]


def optimizer_variables(optimizer) -> list[np.ndarray]:
    """The optimizer's state in Keras's order: iterations, the learning rate, then the slots where Keras keeps them
    and what the optimizer keeps last (Nadam's Πₜ)."""
    state = optimizer.get_state()
    head = [np.asarray(state[0], dtype=np.int64)]
    if has_learning_rate_variable(optimizer):
        head.append(np.asarray(optimizer.learning_rate, dtype=np.float32))
    slots, count = state[1:], slot_array_count(optimizer, len(state) - 1)
    return head + [slots[i] for i in keras_slot_order(optimizer, count)] + slots[count:]


def slot_array_count(optimizer, arrays: int) -> int:
    """How many of an optimizer's ``arrays`` state arrays (after iterations) are per-variable slots."""
    width = len(optimizer.slot_names())
    return arrays - arrays % width if width else 0


def load_optimizer_variables(entries: list[tuple], model, where: str) -> None:
    """Set ``model.optimizer``'s iterations, learning rate and slots from the datasets ``entries`` ((group, key)
    pairs in Keras's order), after building it on the model's trainable weights. A different count is skipped
    with Keras's warning; a different shape raises ModelFileError."""
    optimizer = model.optimizer
    optimizer.build(model.trainable_weights)
    expected = optimizer_variables(optimizer)
    if len(entries) != len(expected):
        warnings.warn(f"Skipping variable loading for optimizer '{optimizer.name}', because it has "
                      f"{len(expected)} variables whereas the saved optimizer has {len(entries)} variables.",
                      stacklevel=3)
        return
    arrays = [read_dataset(group, key, where, np.shape(a)) for (group, key), a in zip(entries, expected)]
    head = 2 if has_learning_rate_variable(optimizer) else 1
    stored = arrays[head:]
    count = slot_array_count(optimizer, len(stored))
    slots: list = [None] * count
    for position, index in enumerate(keras_slot_order(optimizer, count)):
        slots[index] = stored[position]
    optimizer.set_state([arrays[0], *slots, *stored[count:]])
    if head == 2 and np.float32(optimizer.learning_rate) != arrays[1]:
        optimizer.learning_rate = float(arrays[1])


def check_var_names(group, where: str) -> None:
    keys = sorted(group.keys(), key=lambda k: (len(k), k))
    if keys != [str(i) for i in range(len(keys))]:
        raise ModelFileError(f"{where}: weights must be named 0, 1, 2, ...; found {keys[:10]}")


# ----- whole files ---------------------------------------------------------------------------------------------
def variable_groups(layer, path: str) -> list[tuple[str, object, list]]:
    """Where Keras keeps a layer's weights: ``(group path, owner, variables)`` for the layer's own (``<path>vars``)
    then, recursively, for each layer it holds in an attribute (an LSTM's ``cell/vars``, a Bidirectional's
    ``forward_layer/cell/vars``, ...), in the order of ``layer.weights``."""
    inner = [(name, value) for name, value in vars(layer).items()
             if isinstance(value, Layer) and value is not layer and not name.startswith("_")]
    held = {id(w) for _, sublayer in inner for w in sublayer.weights}
    groups = [(f"{path}vars", layer, [w for w in layer.weights if id(w) not in held])]
    for name, sublayer in inner:
        groups += variable_groups(sublayer, f"{path}{name}/")
    return groups


def weights_h5_bytes(model, include_optimizer: bool = True) -> bytes:
    """Keras's HDF5 layout of ``model``'s weights (and, when compiled, its optimizer's variables)."""
    h5py = h5py_module()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        for layer_path, layer in layer_paths(model):
            for path, owner, weights in variable_groups(layer, f"{layer_path}/"):
                variables = f.create_group(path)
                variables.attrs["name"] = owner.name
                for i, weight in enumerate(weights):
                    variables[str(i)] = np.asarray(weight.numpy())
        if include_optimizer and model.optimizer is not None:
            model.optimizer.build(model.trainable_weights)  # an untrained model's slots too, as Keras loads them
            variables = f.create_group("optimizer/vars")
            variables.attrs["name"] = model.optimizer.name
            for i, value in enumerate(optimizer_variables(model.optimizer)):
                variables[str(i)] = value
        f.create_group("vars").attrs["name"] = model.name
    return buffer.getvalue()


def group_at(f, path: str):
    """The group at ``path``, or None where a part of the path is missing or is not a group."""
    h5py = h5py_module()
    node = f
    for part in path.split("/"):
        node = node.get(part) if isinstance(node, h5py.Group) else None
    return node if isinstance(node, h5py.Group) else None


def read_weights(f, model, what: str) -> list[np.ndarray]:
    """The arrays for ``model.weights`` from Keras's layout, each checked before it is read."""
    h5py = h5py_module()
    layers_group = f.get("layers")
    if layers_group is not None and not isinstance(layers_group, h5py.Group):
        raise ModelFileError(f"{what}: 'layers' is a {type(layers_group).__name__}; expected a group")
    stored = {f"layers/{name}" for name in layers_group.keys()} if layers_group is not None else set()
    values: dict[int, np.ndarray] = {}
    for layer_path, layer in layer_paths(model):
        for path, owner, weights in variable_groups(layer, f"{layer_path}/"):
            where = f"{what} {path}"
            variables = group_at(f, path) if layer_path in stored or not layer_path.startswith("layers/") else None
            count = len(variables.keys()) if variables is not None else 0
            if count != len(weights):
                raise ModelFileError(f"{where}: holds {count} weight arrays; layer '{owner.name}' "
                                     f"({type(owner).__name__}) expects {len(weights)}")
            if count:
                check_var_names(variables, where)
                for i, weight in enumerate(weights):
                    values[id(weight)] = read_dataset(variables, str(i), f"{where} (layer '{owner.name}', weight "
                                                                         f"'{weight.name}')", weight.shape)
        stored.discard(layer_path)
    if stored:
        raise ModelFileError(f"{what} holds weights for layers the model does not have: {sorted(stored)}")
    return [values[id(weight)] for weight in model.weights]


def load_h5_state(f, model, what: str, optimizer: bool = True) -> None:
    """Set ``model``'s weights (and its optimizer's variables, when compiled and stored) from an open Keras file."""
    model.set_weights(read_weights(f, model, what))
    group = f.get("optimizer/vars")
    if optimizer and group is not None and model.optimizer is not None:
        if not isinstance(group, h5py_module().Group):
            raise ModelFileError(f"{what} optimizer/vars: a {type(group).__name__}; expected a group of datasets")
        check_var_names(group, f"{what} optimizer/vars")
        entries = [(group, str(i)) for i in range(len(group.keys()))]
        load_optimizer_variables(entries, model, f"{what} optimizer/vars")
