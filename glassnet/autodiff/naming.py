"""Course names for the values of a recorded step: X and Y, W[l] and b[l], Z[l] and A[l], the loss J.

The ops of a layer run under the layer's name scope, so a recorded step knows which layer made each value.
Layers that hold weights are numbered 1, 2, … in the order they run; a layer without weights (an Activation)
continues the one before it, or joins the first layer with weights when it runs before any (a cast of the inputs).
In layer l, the last value computed from a weight is Z[l] and the layer's output is A[l]; what comes between is
H[l] (H1[l], H2[l], … when several). Weights are W[l] (the kernel of a product), U[l] (a recurrent kernel) and
b[l] (what is added to it); a value its layer labelled keeps that label (a recurrent step's i⟨3⟩, h⟨3⟩), and a
recurrent layer's values are not Z[l] … A[l] (its last step is a step like the others); values
under the ``loss`` scope are J (the loss) and L1, L2, …; anything else is named after its op (``relu_1``). Each
name has a display form (``Z[1]``) and an identifier form (``Z1``).
"""

from __future__ import annotations

import builtins
import re
from collections.abc import Sequence

from glassnet.autodiff.tensor import Tensor, Variable

KERNEL_OPS = ("MatMul", "Affine", "Conv1d", "Conv1dBias", "Conv2d", "Conv2dBias")  # ops whose 2nd input is a kernel W
KERNEL_OPS += ("DepthwiseConv1d", "DepthwiseConv2d", "ConvTranspose1d", "ConvTranspose2d", "DepthwiseConv1dBias",
               "DepthwiseConv2dBias", "ConvTranspose1dBias", "ConvTranspose2dBias")
KERNEL_POSITIONS = {**dict.fromkeys(KERNEL_OPS, 1), "AddMatMul": 2}  # where the kernel W enters each product
BIAS_POSITIONS = {"Affine": 2, "Conv1dBias": 2, "Conv2dBias": 2, "Add": 1}  # where a bias b enters
BIAS_POSITIONS.update(dict.fromkeys(("DepthwiseConv1dBias", "DepthwiseConv2dBias", "ConvTranspose1dBias",
                                     "ConvTranspose2dBias"), 2))


def snake(name: str) -> str:
    """``SigmoidCrossEntropy`` → ``sigmoid_cross_entropy``; any character not allowed in a name becomes ``_``."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    return re.sub(r"\W", "_", name)


def identifier(display: str) -> str:
    """The Python name of a display name: ``Z[1]`` → ``Z1``, ``H2[1]`` → ``H2_1``, ``J`` → ``J``."""
    match = re.fullmatch(r"(\w+?)\[(\d+)\]", display)
    if match:
        base, layer = match.groups()
        return f"{base}_{layer}" if base[-1].isdigit() else f"{base}{layer}"
    return re.sub(r"\W", "_", display.replace("\u0303", "_tilde").replace("⟨", "_").replace("⟩", ""))


def layer_of(t: Tensor) -> str:
    """The name of the innermost scope (the layer) that made ``t``; "" outside any scope."""
    return t.op.scope.rsplit("/", 1)[-1] if t.op is not None else ""


def course_names(order: Sequence[Tensor], given: dict[int, str], loss: Tensor | None) -> dict[int, str]:
    """Display names for every value of a recorded step, keyed by ``id``: ``given`` ones first (the inputs, as
    X and Y), then weights and layer outputs by the rules above, then the loss values, then op names."""
    names = dict(given)
    taken = set(names.values()) | set(dir(builtins))  # a value is never called `sum` or `abs`

    def name(t: Tensor, wanted: str) -> None:
        if id(t) in names:
            return
        unique, k = wanted, 1
        while unique in taken:
            k += 1
            unique = f"{wanted}_{k}"
        names[id(t)] = unique
        taken.add(unique)

    if loss is not None and layer_of(loss) == "loss":
        name(loss, "J")
    for t in order:  # values their layer labelled, such as a recurrent step's gates and states: i⟨3⟩, h⟨3⟩
        if t.name is not None:
            name(t, t.name)
    for number, values in _numbered_layers(order):
        _name_layer(number, values, name)
    loss_values = iter(range(1, len(order) + 1))
    for t in order:
        if layer_of(t) == "loss":
            name(t, f"L{next(loss_values)}")
        else:
            name(t, snake(type(t.op).__name__))
        for x in t.op.inputs:
            if x.op is None:
                name(x, snake(x.name.rsplit("/", 1)[-1]) if isinstance(x, Variable) else x.name or "const")
    return names


def number_layers(has_weights: Sequence[bool]) -> list[int]:
    """The course's number l of each layer, given in running order whether it holds weights: those that do count
    1, 2, …; one that does not shares the number of the layer before it, or 1 when it runs before any."""
    numbers, number = [], 0
    for weighted in has_weights:
        number += weighted
        numbers.append(max(number, 1))
    return numbers


def _numbered_layers(order: Sequence[Tensor]) -> list[tuple[int, list[Tensor]]]:
    """The values of each numbered layer, in order (``number_layers``)."""
    groups: dict[str, list[Tensor]] = {}
    for t in order:
        if layer_of(t) not in ("", "loss"):
            groups.setdefault(layer_of(t), []).append(t)
    weighted = [any(isinstance(x, Variable) for t in values for x in t.op.inputs) for values in groups.values()]
    numbered: dict[int, list[Tensor]] = {}
    for number, values in zip(number_layers(weighted), groups.values()):
        numbered.setdefault(number, []).extend(values)
    return list(numbered.items())


def _name_layer(number: int, values: list[Tensor], name) -> None:
    """W[l], b[l], Z[l], H[l] and A[l] in one numbered layer."""
    from_weights = [t for t in values if any(isinstance(x, Variable) for x in t.op.inputs)]
    if not from_weights:
        return
    recurrent_layer = False
    for t in from_weights:
        op = type(t.op).__name__
        for position, x in enumerate(t.op.inputs):
            if isinstance(x, Variable):
                kernel = KERNEL_POSITIONS.get(op) == position
                bias = BIAS_POSITIONS.get(op) == position
                recurrent = x.name.rsplit("/", 1)[-1] == "recurrent_kernel"  # U of a recurrent layer: h·U
                recurrent_layer |= recurrent
                name(x, f"U[{number}]" if recurrent else f"W[{number}]" if kernel else f"b[{number}]" if bias else
                     f"{snake(x.name.rsplit('/', 1)[-1])}[{number}]")
    if recurrent_layer:  # its steps' values carry their own labels (z⟨t⟩, h⟨t⟩): its last step is not Z[l] … A[l]
        return
    z = from_weights[-1]
    name(z, f"Z[{number}]")
    chain = values[values.index(z) + 1:]
    for k, t in enumerate(chain[:-1]):
        name(t, f"H{k + 1}[{number}]" if len(chain) > 2 else f"H[{number}]")
    if chain:
        name(chain[-1], f"A[{number}]")
