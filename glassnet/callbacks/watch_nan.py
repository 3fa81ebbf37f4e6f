"""NaN origin: replay a step's recorded ops one by one, eagerly, and name the first that turned finite inputs into
a non-finite output (inf or NaN), with its layer, its equation and the input values at the first bad element.

The ops are the ones the step recorded, in forward order; each is run on a copy of the op (so the step's own saved
values stay as they were). Where its inputs come from is the caller's: the values before the failing update.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence

import numpy as np

from glassnet.autodiff.equations import rule_of
from glassnet.autodiff.function import Function
from glassnet.autodiff.tensor import Tensor
from glassnet.callbacks.watch_findings import Finding
from glassnet.callbacks.watch_stats import layer_of_op


def nan_origin(ops: Sequence[Function], leaf_value: Callable[[Tensor], np.ndarray], step: int | None = None,
               recorded: dict[int, np.ndarray] | None = None) -> Finding | None:
    """Run ``ops`` (a step's recorded ops in forward order) from the leaf values ``leaf_value(tensor)`` gives
    (weights, inputs, constants); the Finding for the first op whose output is not finite while its inputs are,
    None when every output stays finite. ``recorded``: outputs the failing step itself kept (by ``id(op)``),
    used in place of the replayed ones."""
    recorded = recorded or {}
    values: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):
        for op in ops:
            inputs = [leaf_value(x) if x.op is None else recorded.get(id(x.op), values.get(id(x.op)))
                      for x in op.inputs]
            out = copy.copy(op).forward(*inputs)
            values[id(op)] = out
            if _finite(out) or not all(_finite(a) for a in inputs):
                continue
            return _finding(op, inputs, np.asarray(out), step)
    return None


def _finite(value) -> bool:
    value = np.asarray(value)
    return not np.issubdtype(value.dtype, np.inexact) or bool(np.isfinite(value).all())


def _finding(op: Function, inputs: list, out: np.ndarray, step: int | None) -> Finding:
    """The message: which op, where, its equation, and what it received at the first non-finite element."""
    name, layer = type(op).__name__, layer_of_op(op) or "(no layer)"
    rule = rule_of(type(op))
    equation = f"{rule.output} = {rule.forward}" if rule and rule.forward else name
    index = tuple(int(i) for i in np.argwhere(~np.isfinite(out))[0]) if out.ndim else ()
    received = [_value_at(a, out.shape, index) for a in inputs]
    symbols = [grad[1:] for grad, _ in rule.grads] if rule and len(rule.grads) == len(inputs) else []
    shown = ", ".join(f"{s} = {v}" for s, v in zip(symbols, received)) if symbols else "inputs " + ", ".join(received)
    output = rule.output if rule else "it"
    return Finding("nan", f"The first non-finite value comes from {name} in layer '{layer}' ({equation}): with "
                   f"{shown} it gives {output} = {_number(out[index])}" + (f" at index {index}" if index else "")
                   + ".",
                   {"op": name, "layer": layer, "equation": equation, "index": index, "inputs": received,
                    "output": float(out[index])}, step)


def _value_at(a, shape: tuple, index: tuple) -> str:
    """An input's value at the output's element ``index`` when it lines up with the output (elementwise ops),
    else its range."""
    a = np.asarray(a)
    if a.size == 1:
        return _number(a.reshape(-1)[0])
    try:
        return _number(np.broadcast_to(a, shape)[index])
    except ValueError:
        finite = a[np.isfinite(a)] if np.issubdtype(a.dtype, np.inexact) else a
        return f"an array {a.shape} from {_number(finite.min())} to {_number(finite.max())}" if finite.size else (
            f"an array {a.shape}")


def _number(value) -> str:
    """A scalar as people write it: 0, -inf, 3.142e+38."""
    return f"{float(value):.4g}"
