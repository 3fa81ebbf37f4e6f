"""Plan: record a computation once, then replay it on new inputs without building a new graph each time.

A training step builds the same graph on every batch. Tracing it once gives the list of Functions in topological
order; replaying calls the same Function objects' ``forward`` (in order) and ``backward`` (in reverse) on a flat
list of arrays. The math is exactly the eager engine's (the same forward/backward rules); only the per-op Python
work of creating Tensors and sorting the graph is skipped — what a tiny network pays for on every step.

Like a ``tf.function``, a plan assumes the step has no Python control flow that depends on the data; randomness
belongs inside a Function's forward (as ``ops.dropout`` does), so each replay draws anew.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from glassnet.autodiff.function import unbroadcast
from glassnet.autodiff.graph import topological_order
from glassnet.autodiff.sparse import SparseRows
from glassnet.autodiff.tensor import Tensor, Variable, record


class Plan:
    """``Plan(fn, example_inputs)`` traces ``fn(*input_tensors)`` (a Tensor or tuple of Tensors, the first being
    the scalar to differentiate) and can replay it: ``plan(*arrays)`` returns the outputs' arrays and, unless
    ``backward=False``, sets ``.grad`` on every trainable Variable the first output depends on.
    """

    def __init__(self, fn: Callable[..., Tensor | Sequence[Tensor]], example_inputs: Sequence[np.ndarray]):
        # private copies: a value that bypassed the inputs (read with .numpy() and frozen into the graph) can then
        # never alias a buffer the caller refills, and shows up as a difference when the plan is checked
        self.traced_inputs = [a.copy() if isinstance(a, SparseRows) else np.array(a, copy=True) for a in example_inputs]
        placeholders = [Tensor._from_op(a, None) for a in self.traced_inputs]
        with record():
            outputs = fn(*placeholders)
        outputs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
        order = topological_order(*outputs)
        slot: dict[int, int] = {}
        values: list[np.ndarray] = []

        def slot_of(t: Tensor) -> int:
            if id(t) not in slot:
                slot[id(t)] = len(values)
                values.append(t._data)
            return slot[id(t)]

        self.input_slots = [slot_of(p) for p in placeholders]
        self.forward_steps = []
        for t in order:
            ins = [slot_of(x) for x in t.op.inputs]
            self.forward_steps.append((t.op, ins, slot_of(t)))
        consumed = {i for _, ins, _ in self.forward_steps for i in ins}
        self.all_inputs_used = all(i in consumed for i in self.input_slots)
        self.output_slots = [slot_of(t) for t in outputs]
        self.loss_slot = self.output_slots[0]
        self.backward_steps = [
            (t.op, slot[id(t)], [(slot[id(x)], x.shape) if need else None
                                 for x, need in zip(t.op.inputs, t.op.needs_input_grad)])
            for t in reversed(order) if any(t.op.needs_input_grad)
        ]
        leaves = {id(x): x for t in order for x in t.op.inputs if x.op is None}
        self.variables = [(v, slot[id(v)]) for v in leaves.values() if isinstance(v, Variable) and v.trainable]
        self.values = values
        self._seed: np.ndarray | None = None
        self.outputs = outputs  # the traced tensors, for inspection
        self._keep = placeholders  # slot keys are ids: keep the traced tensors alive

    def __call__(self, *arrays: np.ndarray, backward: bool = True) -> list[np.ndarray]:
        v = self.values
        for i, a in zip(self.input_slots, arrays):
            v[i] = a
        for fn, ins, out in self.forward_steps:
            v[out] = fn.forward(v[ins[0]]) if len(ins) == 1 else fn.forward(*[v[i] for i in ins])
        return self.backward() if backward else [v[i] for i in self.output_slots]

    def random_generators(self) -> list[np.random.Generator]:
        """The generators the plan's ops draw from (dropout masks), to rewind them when comparing runs."""
        found = {id(fn.rng): fn.rng for fn, _, _ in self.forward_steps
                 if isinstance(getattr(fn, "rng", None), np.random.Generator)}
        return list(found.values())

    def backward(self) -> list[np.ndarray]:
        """Backpropagate from the last forward (the trace's or a replay's); returns the outputs' arrays."""
        grads: list[np.ndarray | None] = [None] * len(self.values)
        loss = self.values[self.loss_slot]
        seed = self._seed
        if seed is None or seed.shape != np.shape(loss) or seed.dtype != np.asarray(loss).dtype:
            seed = self._seed = np.ones(np.shape(loss), dtype=np.asarray(loss).dtype)
            seed.flags.writeable = False  # d(loss)/d(loss) = 1, shared by every replay
        grads[self.loss_slot] = seed
        for fn, out, targets in self.backward_steps:
            g = grads[out]
            if g is None:
                continue
            in_grads = fn.backward(g)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
            for target, gx in zip(targets, in_grads):
                if target is None or gx is None:
                    continue
                i, shape = target
                if gx.shape != shape:
                    gx = unbroadcast(gx, shape)
                grads[i] = gx if grads[i] is None else grads[i] + gx
        for var, i in self.variables:
            var.grad = grads[i]
        return [self.values[i] for i in self.output_slots]
