"""Plan: record a computation once, then replay it on new inputs without building a new graph each time.

A training step builds the same graph on every batch. Tracing it once gives the ops in topological order; the
backward walk (``graph.backward``, the one ``Tensor.backward()`` runs) is then run once on the recording, and
what it did is written out as Python (``autodiff.step_source``): ``forward`` calls each recorded op's own
``forward``, ``backward`` calls each op's own ``backward`` in the walk's order, with the course's names (``Z1``,
``dW2``) and each op's equation as a comment. ``plan.source`` is that text and the plan runs exactly it, so a
replay costs the ops themselves and little else.

Like a ``tf.function``, a plan assumes the step has no Python control flow that depends on the data; randomness
belongs inside a Function's forward (as ``ops.dropout`` does), so each replay draws anew.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Sequence

import numpy as np

from glassnet import kernels
from glassnet.autodiff import naming
from glassnet.autodiff.graph import Visit, backward, topological_order, unbroadcast
from glassnet.autodiff.release import UnreachableValues, drop_values, saved_memory
from glassnet.autodiff.step_source import StepSource, StepWriter
from glassnet.autodiff.tensor import Tensor, Variable, no_grad, record, releasing


class Plan:
    """``Plan(fn, example_inputs, input_names=None)`` traces ``fn(*input_tensors)`` (a Tensor or tuple of
    Tensors, the first being the scalar to differentiate) and can replay it: ``plan(*arrays)`` returns the
    outputs' arrays and, unless ``backward=False``, sets ``.grad`` on every trainable Variable the first output
    reaches. ``input_names`` name the inputs in ``source`` (default ``x0, x1, …``). With ``gradients=False`` the
    plan is a forward pass only (evaluate's and predict's): no backward is walked or written.
    """

    def __init__(self, fn: Callable[..., Tensor | Sequence[Tensor]], example_inputs: Sequence[np.ndarray],
                 input_names: Sequence[str] | None = None, title: str = "A recorded step", gradients: bool = True):
        # private copies: a value that bypassed the inputs (read with .numpy() and frozen into the graph) can then
        # never alias a buffer the caller refills, and shows up as a difference when the plan is checked
        self.traced_inputs = [a.copy() if kernels.is_kernel_array(a) else np.array(a, copy=True)
                              for a in example_inputs]
        placeholders = [Tensor._from_op(a, None) for a in self.traced_inputs]
        # what a replay would free, the trace frees too; a forward-only plan's ops save nothing (no_grad), so that
        # its replays, as its trace, hold only the values they work on
        with record(), releasing(UnreachableValues()), contextlib.nullcontext() if gradients else no_grad():
            outputs = fn(*placeholders)
        outputs = tuple(outputs) if isinstance(outputs, (tuple, list)) else (outputs,)
        order = topological_order(*outputs[::-1])  # the outputs after the loss first: predictions, then the loss
        consumed = {id(x) for t in order for x in t.op.inputs}
        self.all_inputs_used = all(id(p) in consumed for p in placeholders)
        self._outputs = [t._data for t in outputs]  # the last forward's: the trace's, until a replay
        self.ops = [t.op for t in order]
        # the walk reads only shapes, dtypes and what the ops saved: the values no op saved can go before it
        _drop_values(order, outputs, spared_memory=saved_memory(t.op for t in order))
        visits = self._walk(outputs[0], order) if gradients else []  # a forward-only plan has no backward
        reached = {id(r.tensor) for v in visits for r in v.received if r is not None}
        used = {id(x): x for t in order for x in t.op.inputs}  # in the order the forward first reads them
        self.variables = [v for key, v in used.items() if key in reached and isinstance(v, Variable) and v.trainable]
        names = input_names or [f"x{i}" for i in range(len(placeholders))]
        given = {id(p): name for p, name in zip(placeholders, names)}
        writer = StepWriter(order, placeholders, outputs, naming.course_names(order, given, outputs[0]))
        lines = writer.forward() + (["", ""] + writer.backward(visits, self.variables) if gradients else [])
        text = _header(title, writer, placeholders, self.variables) + "\n".join(lines) + "\n"
        self.source = StepSource(text, {**writer.bindings, "unbroadcast": unbroadcast})
        namespace = dict(self.source.bindings)
        for part in _functions(text):
            exec(compile(part, "<glassnet step>", "exec"), namespace)  # noqa: S102 - our own writer's text
        self._forward, self._backward = namespace["forward"], namespace.get("backward")
        self._seed: np.ndarray | None = None
        self.outputs = outputs  # the traced tensors, for inspection
        _drop_values(order, outputs)

    @staticmethod
    def _walk(loss: Tensor, order: list[Tensor]) -> list[Visit]:
        """Run the backward walk once on the recording and return its visits (the recorded graph is kept)."""
        if not loss.requires_grad:
            return []
        leaves = {id(x): x for t in order for x in t.op.inputs if x.op is None}
        saved = {key: x.grad for key, x in leaves.items()}
        for x in leaves.values():
            x.grad = None
        visits: list[Visit] = []
        backward(loss, np.ones(loss.shape, dtype=loss.dtype), retain_graph=True, visits=visits,
                 intermediate_grads=False)
        for key, x in leaves.items():
            x.grad = saved[key]
        return visits

    def __call__(self, *arrays: np.ndarray, backward: bool = True) -> list[np.ndarray]:
        outputs = self._outputs = self._forward(*arrays)
        return self.backward() if backward else outputs

    def backward(self) -> list[np.ndarray]:
        """Backpropagate from the last forward (the trace's or a replay's); returns the outputs' arrays."""
        if self._backward is None:
            raise ValueError("This plan was recorded with gradients=False: it has a forward pass only")
        loss = np.asarray(self._outputs[0])
        seed = self._seed
        if seed is None or seed.shape != loss.shape or seed.dtype != loss.dtype:
            seed = self._seed = np.ones(loss.shape, dtype=loss.dtype)
            seed.flags.writeable = False  # d(loss)/d(loss) = 1, shared by every replay
        for v, g in zip(self.variables, self._backward(seed)):
            v.grad = g
        return self._outputs

    def drop_saved(self) -> None:
        """Let go of what the ops saved in the last forward (its activations): after an epoch's last step, or when
        a step is about to run another way (eagerly, to check the plan). The next forward saves its own."""
        for fn in self.ops:
            fn.saved = ()

    def random_generators(self) -> list[np.random.Generator]:
        """The generators the plan's ops draw from (dropout masks), to rewind them when comparing runs."""
        found = {id(fn.rng): fn.rng for fn in self.ops if isinstance(getattr(fn, "rng", None), np.random.Generator)}
        return list(found.values())

    def written_variables(self) -> list:
        """The variables the plan's ops assign in their forward (batch norm's moving statistics), to restore them
        when the same batch runs twice."""
        return list({id(v): v for fn in self.ops for v in getattr(fn, "writes", ())}.values())


def _functions(text: str) -> list[str]:
    """The text cut before each function after the first, every part padded with the newlines before it so that
    its lines keep their numbers in ``source``. Compiled together, both functions' syntax trees were held at once,
    beside the trace's activations: the benchmark LSTM's trace peaked at 42 MB of arrays, 39 MB compiled apart."""
    starts = [0] + [m.start() + 1 for m in re.finditer(r"\ndef ", text)][1:] + [len(text)]
    return ["\n" * text.count("\n", 0, a) + text[a:b] for a, b in zip(starts, starts[1:])]


def _header(title: str, writer: StepWriter, inputs: Sequence[Tensor], variables: Sequence[Variable]) -> str:
    """Comment lines saying what the text is and what each bound name holds."""
    shapes = ", ".join(f"{writer.name(x)} {tuple(x.shape)} {x.dtype}" for x in inputs)
    weights = ", ".join(f"{writer.name(v)} = {v.name}" for v in variables)
    lines = [f"# {title}, recorded on {shapes}.",
             "# Every line calls one recorded op's own forward or backward; its comment is that op's equation.",
             "# A gradient dQ is d(loss)/dQ, deleted once used (the walk keeps only the gradients ahead of it)."]
    if weights:
        lines.append(f"# Weights: {weights}.")
    return "\n".join(lines) + "\n\n"


def _drop_values(order: Sequence[Tensor], outputs: Sequence[Tensor], spared_memory: set[int] = frozenset()) -> None:
    """Replace the traced batch's value of every intermediate tensor (but the outputs, and those whose memory is in
    ``spared_memory``, ids of owning arrays) by a stand-in of its shape and dtype (``release.stand_in``). The graph
    stays (the training doctor reads its ops and shapes), but a replay passes its own arrays, so the first batch's
    whole forward pass need not stay in memory for as long as the plan."""
    kept = {id(t) for t in outputs}
    drop_values([t for t in order if id(t) not in kept], spared_memory)
