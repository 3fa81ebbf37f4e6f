"""Symbolic tensors and nodes: how ``keras.Input`` and layer calls on it describe a model before any data exists.

``Input(shape)`` returns a :class:`KerasTensor` (a shape and a dtype, no value). Calling a layer on KerasTensors
runs no math: it builds the layer, works out the output shape, and records a :class:`Node` — "this layer was
called on these tensors and made those" — in ``layer.inbound_nodes``. Each output KerasTensor remembers the node
that made it (``keras_history``), so ``Model(inputs, outputs)`` can walk back from the outputs to the inputs.

Inputs and outputs may be nested lists, tuples and dicts of tensors; ``flatten`` / ``pack_like`` /
``map_structure`` treat them as Keras's ``tree`` does (dict values in sorted key order).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, NamedTuple

_tensor_counter = itertools.count()


def flatten(structure) -> list:
    """The leaves of a nest of lists, tuples and dicts, in order (dict values by sorted key)."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_like(structure, leaves: list):
    """``structure`` with its leaves replaced, in order, by ``leaves`` (the inverse of ``flatten``)."""
    return _pack(structure, iter(leaves))


def _pack(node, remaining):
    """A module function, not a closure: a recursive closure is a reference cycle that would keep ``leaves`` (a
    step's tensors, and through them its whole graph) alive until the garbage collector runs."""
    if isinstance(node, dict):
        return {key: _pack(node[key], remaining) for key in sorted(node)}
    if isinstance(node, (list, tuple)):
        return type(node)(_pack(item, remaining) for item in node)
    return next(remaining)


def map_structure(fn: Callable, structure):
    """``structure`` with ``fn`` applied to each leaf."""
    return pack_like(structure, [fn(leaf) for leaf in flatten(structure)])


def is_shape(value) -> bool:
    """Whether ``value`` is one shape (a tuple or list of ints and Nones) rather than a nest of shapes."""
    return isinstance(value, (tuple, list)) and all(d is None or isinstance(d, int) for d in value)


def map_shapes(fn: Callable, shapes):
    """``fn`` applied to each shape of a nest of shapes (a single shape is a leaf, not a list of numbers)."""
    if is_shape(shapes):
        return fn(tuple(shapes))
    if isinstance(shapes, dict):
        return {key: map_shapes(fn, shapes[key]) for key in sorted(shapes)}
    return type(shapes)(map_shapes(fn, item) for item in shapes)


class KerasHistory(NamedTuple):
    """Where a KerasTensor comes from: the layer, which of its calls (node index), which of that call's outputs."""

    operation: Any
    node_index: int
    tensor_index: int


class KerasTensor:
    """A symbolic tensor: a shape (batch first, None where unknown) and a dtype, but no value (``keras.KerasTensor``).

    ``keras_history`` names the layer call that made it (None for a tensor no layer made)."""

    def __init__(self, shape: tuple, dtype: str = "float32", name: str | None = None,
                 keras_history: KerasHistory | None = None):
        self.shape, self.dtype = tuple(shape), dtype
        self.name = name if name is not None else f"keras_tensor_{next(_tensor_counter)}"
        self.keras_history = keras_history

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def operation(self):
        """The layer that made this tensor (an InputLayer for an Input)."""
        return self.keras_history.operation if self.keras_history else None

    def __repr__(self) -> str:
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor has no value, so it cannot be used as a Python bool (in `if` or "
                        "`and`). Use layers (or ops on real data) instead of Python control flow on it.")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(f"A symbolic KerasTensor ({self.name}, shape {self.shape}) has no value, so it cannot be "
                        "converted to a NumPy array. It describes a model's input: build a `Model(inputs, "
                        "outputs)` and call it (or `predict`) on data.")


def is_symbolic(structure) -> bool:
    """Whether any leaf of ``structure`` is a KerasTensor."""
    return any(isinstance(leaf, KerasTensor) for leaf in flatten(structure))


class Node:
    """One call of a layer on symbolic tensors: its inputs (in the structure passed), its outputs, its other
    arguments (``extra_args``, ``call_kwargs``: values, or tensors such as an RNN's ``initial_state``), and the
    nodes that made every tensor it read (``parent_nodes``)."""

    def __init__(self, operation, call_args, call_kwargs: dict, outputs, extra_args: tuple = ()):
        self.operation = operation
        self.call_args = call_args
        self.extra_args = tuple(extra_args)
        self.call_kwargs = dict(call_kwargs)
        self.outputs = outputs
        read = flatten([call_args, list(self.extra_args), [self.call_kwargs[k] for k in sorted(self.call_kwargs)]])
        self.input_tensors = [t for t in read if isinstance(t, KerasTensor)]
        self.output_tensors = flatten(outputs)
        node_index = len(operation.inbound_nodes)
        operation.inbound_nodes.append(self)
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor.keras_history = KerasHistory(operation, node_index, tensor_index)

    @property
    def parent_nodes(self) -> list[Node]:
        """The nodes that made this node's inputs (none for an InputLayer's node)."""
        parents = []
        for tensor in self.input_tensors:
            history = tensor.keras_history
            if history is not None:
                node = history.operation.inbound_nodes[history.node_index]
                if node not in parents:
                    parents.append(node)
        return parents

    def __repr__(self) -> str:
        return f"<Node of {self.operation.name}: {len(self.input_tensors)} input(s) -> {len(self.output_tensors)}>"
