"""Function: one differentiable operation, a vectorized forward and its backward rule (a vector-Jacobian product).

Write a new op (or a custom layer with its own backward) by subclassing Function::

    class Square(Function):
        '''y = x².  Backward: dx = dy · 2x.'''

        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved
            return dy * 2 * x

    y = Square.apply(t)

``forward`` receives NumPy arrays and returns one; ``backward`` receives d(loss)/d(output) and returns one
gradient per input (a tuple, or a single array for a one-input op; None where an input needs no gradient).
Broadcasting is undone once, by the backward walk (``graph.unbroadcast``), for every op: each gradient is summed
back to its input's shape.
"""

from __future__ import annotations

import itertools

import numpy as np

from glassnet.autodiff import tensor as _tensor
from glassnet.autodiff.tensor import Tensor


def _lift(value, like_dtype) -> Tensor:
    """Wrap a non-Tensor operand; Python numbers and arrays take the float dtype of the Tensor they meet."""
    if isinstance(value, Tensor):
        return value
    if like_dtype is not None and like_dtype.kind == "f":
        return Tensor._from_op(np.asarray(value, dtype=like_dtype), None)
    return Tensor(value)


_sequence = itertools.count()  # numbers the recorded ops in the order they ran


class Function:
    """Base class of every op. ``apply`` runs ``forward`` on arrays and records the op when a gradient is needed.

    Attributes set by ``apply`` on a recorded op: ``inputs`` (the input Tensors), ``needs_input_grad`` (one bool
    per input, so a backward can skip work), ``saved`` (what ``save_for_backward`` kept), ``scope`` (the name
    scope it ran in, such as the layer's name), ``sequence`` (when it ran: ops are walked in this order).
    ``saving`` is False for an op run under ``no_grad`` (predict's and evaluate's recorded passes among them): no
    backward will run, so its forward keeps nothing and holds only the values it is working on.
    """

    __slots__ = ("inputs", "saved", "saving", "needs_input_grad", "freed", "scope", "sequence", "__weakref__")

    #: Whether the output links to this op even when no gradient is recorded (under no_grad), so that a later op
    #: can read what it was computed from: the fused cross-entropies read the logits behind a sigmoid or softmax.
    keeps_inputs = False
    #: Whether a later op may read this op's inputs through the graph (autodiff/fusions.py: the cross-entropies the
    #: logits behind a sigmoid or softmax, max pooling the z behind a ReLU), so a trace must keep their values.
    inputs_read_later = False
    #: Whether backward returns a new array of its own for each input (not dz, not a saved value, not shared with
    #: another input), so the walk may add later paths' gradients into it in place (``backward_into``).
    fresh_gradients = False

    def save_for_backward(self, *values) -> None:
        """Keep what backward will need (arrays or any values), unless no backward will run."""
        if self.saving:
            self.saved = values

    def forward(self, *arrays: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward(*arrays)")

    def backward(self, grad: np.ndarray):
        raise NotImplementedError(f"{type(self).__name__} must define backward(grad)")

    @classmethod
    def apply(cls, *inputs, **params) -> Tensor:
        """Run the op on Tensors (or array-likes) and return the output Tensor, recording it for backward."""
        like = next((x._data.dtype for x in inputs if isinstance(x, Tensor) and x._data.dtype.kind == "f"), None)
        tensors = [_lift(x, like) for x in inputs]
        fn = cls(**params)
        state = _tensor._state
        fn.saved, fn.saving = (), state.grad_enabled
        fn.freed = False
        out = fn.forward(*[t._data for t in tensors])
        recorded = (state.grad_enabled and any(t.requires_grad for t in tensors)) or state.record_all
        if recorded or cls.keeps_inputs:
            fn.inputs = tensors
            fn.needs_input_grad = tuple(t.requires_grad for t in tensors) if recorded else (False,) * len(tensors)
            fn.scope = state.scope
            fn.sequence = next(_sequence)
            out = Tensor._from_op(out, fn)
            out.requires_grad = any(fn.needs_input_grad)
            if recorded and state.release is not None:
                state.release.recorded(fn, out)
            return out
        return Tensor._from_op(out, None)

    def free(self) -> None:
        """Drop the saved values and the links to the inputs (after backward, unless the graph is retained)."""
        self.saved = ()
        self.inputs = ()
        self.freed = True

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
