"""Reverse-mode differentiation: order the recorded ops topologically, then walk them once in reverse.

Each op's backward turns d(loss)/d(output) into d(loss)/d(input) for each input; gradients of a tensor used in
several places add up (the chain rule's sum over paths). This walk is the only one: ``Tensor.backward()`` runs
it, and a replayed training step (``autodiff.plan``) is written out from the Visits it records on one batch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # the walk reads Tensors' fields only: importing tensor.py here would close a circle
    from glassnet.autodiff.tensor import Tensor


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` over the axes that broadcasting added or stretched, so that it has ``shape`` again."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = np.add.reduce(grad, axis=tuple(range(extra)))
        if grad.shape == shape:  # the common case: a bias added over a batch
            return grad
    stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
    if stretched:
        grad = np.add.reduce(grad, axis=stretched, keepdims=True)
    return grad.reshape(shape)


class FreedGraphError(RuntimeError):
    """Raised by backward through a graph whose saved values were already freed."""


def topological_order(*roots: Tensor) -> list[Tensor]:
    """Every recorded tensor that the roots depend on (roots included), in the order their ops ran (so each comes
    after all of its inputs): the forward as it was written, and reversed, the backward."""
    order: list[Tensor] = []
    visited: set[int] = set()
    stack: list[tuple[Tensor, bool]] = [(root, False) for root in reversed(roots)]
    while stack:
        t, inputs_done = stack.pop()
        if inputs_done:
            order.append(t)
            continue
        if id(t) in visited or t.op is None:
            continue
        visited.add(id(t))
        if t.op.freed:
            raise FreedGraphError(
                "backward() reached a graph whose saved values were freed by an earlier backward(). "
                "Pass backward(retain_graph=True) the first time to backpropagate through it twice, "
                "or run the forward pass again."
            )
        stack.append((t, True))
        stack.extend((x, False) for x in t.op.inputs if x.op is not None and id(x) not in visited)
    order.sort(key=lambda t: t.op.sequence)
    return order


@dataclass(frozen=True)
class Received:
    """What one input received from an op's backward: its gradient was converted to the input's dtype (``cast``),
    summed back to the input's shape (``unbroadcast``), and/or added to an earlier gradient (``added``); ``into``:
    the op's ``backward_into`` added it in place into the sum of the other paths (a slice's gradient, an LSTM cell
    state's share of its gates')."""

    tensor: Tensor
    cast: bool
    unbroadcast: bool
    added: bool
    into: bool = False


@dataclass(frozen=True)
class Visit:
    """One op visited by the backward walk: its output, whether its backward returned a tuple, and for each input
    what it received (None where the input needs no gradient or the rule gave none). ``returned_tuple``: of
    ``backward_into`` when the first input's gradient was added in place (``received[0].into``)."""

    output: Tensor
    returned_tuple: bool
    received: tuple[Received | None, ...]


def _accumulate(t: Tensor, grad: np.ndarray) -> None:
    t.grad = grad if t.grad is None else t.grad + grad


def _adds_into(fn, made_here: set[int]) -> bool:
    """True when fn's first input's gradient can be added in place: fn has ``backward_into`` (a slice, an LSTM's
    cell state), and that input's gradient so far is an array this walk owns (a sum it made, or an array an op with
    ``fresh_gradients`` returned), so no other tensor's gradient or saved value shares it."""
    return (hasattr(fn, "backward_into") and fn.needs_input_grad[0] and fn.inputs[0].op is not None
            and id(fn.inputs[0]) in made_here)


def backward(root: Tensor, grad=None, retain_graph: bool = False, visits: list[Visit] | None = None,
             intermediate_grads: bool = True) -> None:
    """Accumulate d(root)/d(t) into ``t.grad`` for every tensor t that requires a gradient and root depends on.

    ``visits``, when given, receives one Visit per op, in the order the walk runs them. With
    ``intermediate_grads=False`` only the leaves keep their ``.grad`` (a plan's trace: the walk then holds only the
    gradients ahead of it, as the replay does, instead of one per tensor of the step)."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward() called on a tensor that does not require a gradient: it depends on no trainable "
            "Variable (or was computed under no_grad())"
        )
    if grad is None:
        if root.size != 1:
            raise ValueError(
                f"backward() without a grad argument needs a scalar, received a tensor of shape {root.shape}; "
                "pass grad= with that shape"
            )
        grad = np.ones(root.shape, dtype=root.dtype)
    else:
        grad = np.asarray(grad, dtype=root.dtype)  # a Tensor gives its value through __array__
        if grad.shape != root.shape:
            raise ValueError(f"backward(grad=...) expects shape {root.shape}, received {grad.shape}")
    order = topological_order(root)
    if not order:  # root is a leaf
        _accumulate(root, grad)
        return
    pending: dict[int, np.ndarray] = {id(root): grad}
    made_here: set[int] = set()  # pending gradients this walk allocated (a sum, a slice's zeros): safe to add into
    for t in reversed(order):
        g = pending.pop(id(t), None)
        made_here.discard(id(t))
        fn = t.op
        if g is None:  # no path from root reached t with a gradient
            if not retain_graph:
                fn.free()
            continue
        if intermediate_grads:
            _accumulate(t, g)
        into = _adds_into(fn, made_here)
        if into:  # input 0's share is added into its gradient so far; the others' come back as backward's would
            in_grads = fn.backward_into(pending[id(fn.inputs[0])], g)
            returned_tuple = isinstance(in_grads, tuple)
            in_grads = (None, *(in_grads if returned_tuple else () if in_grads is None else (in_grads,)))
        else:
            in_grads = fn.backward(g)
            returned_tuple = isinstance(in_grads, tuple)
            if not returned_tuple:
                in_grads = (in_grads,)
        received = [Received(fn.inputs[0], False, False, True, into=True)] if into else []
        for x, gx, needed in list(zip(fn.inputs, in_grads, fn.needs_input_grad))[len(received):]:
            if not needed or gx is None:
                received.append(None)
                continue
            data = x._data
            cast = type(gx) is not np.ndarray or gx.dtype != data.dtype
            if cast:
                gx = np.asarray(gx, dtype=data.dtype)
            stretched = gx.shape != data.shape
            if stretched:
                gx = unbroadcast(gx, data.shape)
            if x.op is None:
                added = x.grad is not None
                _accumulate(x, gx)
            else:
                key = id(x)
                added = key in pending
                pending[key] = pending[key] + gx if added else gx
                if added or (fn.fresh_gradients and not cast and not stretched):
                    made_here.add(key)
            received.append(Received(x, cast, stretched, added))
        if visits is not None:
            visits.append(Visit(t, returned_tuple, tuple(received)))
        if not retain_graph:
            fn.free()
