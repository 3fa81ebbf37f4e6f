"""TrainStep: the gradients of one training step, from a replayed Plan when that is safe, else eagerly.

Every batch of a fit builds the same graph, so the step is traced once per batch shape and replayed
(``glassnet.autodiff.plan``): the same ops, without rebuilding the graph. A plan is trusted only as far as it proved
itself. A step whose graph depends on the data through Python code freezes the traced batch's values into the
replay (the plan traced private copies of the inputs, so a frozen value is always the traced batch's), and so can
be wrong only on a batch that differs from the traced one in the frozen input. So when a batch differs in an input
not yet proven live, the step runs both ways on it (with the random generators rewound, so dropout draws the same
mask): if they agree, every input in which this batch differs is proven live; if not, the shape stays eager. A
batch that differs from the traced one only in proven inputs is replayed as it is (where it equals the traced
batch, a frozen value is its own). So a custom loop whose labels never change (a GAN's discriminator) replays
from its second step, and fit's shuffled batches prove every input at once. A step that does not feed one of its
inputs into the graph at all stays eager. ``compile(run_eagerly=True)`` skips plans altogether.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from glassnet.autodiff.graph import backward
from glassnet.autodiff.plan import Plan
from glassnet.autodiff.release import UnreachableValues
from glassnet.autodiff.tensor import Tensor, name_scope, no_grad, releasing
from glassnet.layers.symbolic import flatten, map_structure, pack_like

_EAGER = "eager"  # a shape whose plan failed its check: always run eagerly


def forward_loss(model, loss_fn: Callable, x, y, sample_weight=None, training: bool = True,
                 loss_weight: float = 1.0) -> tuple[Tensor, Tensor]:
    """(loss Tensor, predictions Tensor) of one batch: ``loss_fn`` on ``model(x)``, times ``loss_weight``, plus
    the layers' penalties (Keras reports the sum as ``loss``). The function a TrainStep traces, for fit and for a
    custom training loop alike."""
    y_pred = model(x, training=training)
    with name_scope("loss"):
        loss = loss_fn(y, y_pred, sample_weight=sample_weight)
        if loss_weight != 1.0:
            loss = loss * loss_weight
        for penalty in model.losses:
            loss = loss + penalty
    return loss, y_pred


class _Entry(NamedTuple):
    """A traced plan and what is known of it: whether every input is proven live, which inputs are, and which
    variables it gives no gradient (a weight the loss does not reach)."""

    plan: Plan
    verified: bool
    live: frozenset
    unreached: tuple


class TrainStep:
    """``step(x, y, sw)`` sets ``.grad`` on the variables and returns (loss value, predictions array).

    ``forward_loss(x, y, sw)`` must return (loss Tensor, predictions Tensor); ``variables`` are the trainable
    Variables (gradients of the others are not needed). With ``gradients=False`` the step is a forward pass only,
    replayed the same way (evaluate's and predict's): no gradient is set, and ``forward_loss`` may return None for
    the loss (predict's batches have no labels; y is then None).
    """

    def __init__(self, forward_loss: Callable, variables: list, run_eagerly: bool = False,
                 title: str = "The training step", gradients: bool = True):
        self.forward_loss = forward_loss
        self.variables = variables
        self.run_eagerly = run_eagerly
        self.title = title
        self.gradients = gradients  # False: a forward pass only (evaluate, predict), its loss None when it has none
        self.plans: dict = {}  # batch kind -> _Entry, or _EAGER
        self._lock = threading.Lock()
        self.latest: Plan | None = None  # the plan of the last replayed or traced step

    def __call__(self, x, y, sw) -> tuple[float, np.ndarray]:
        if self.run_eagerly or _holds_texts(x):  # texts cannot be a plan's input (a Tensor holds numbers)
            return self.eager(x, y, sw)
        with self._lock:  # a plan's ops keep their inputs and outputs: one replay at a time (a server's threads)
            return self._run(x, y, sw)

    def _run(self, x, y, sw) -> tuple[float | None, np.ndarray]:
        key = (_kind(x), None if y is None else _kind(y), None if sw is None else _kind(sw))
        entry = self.plans.get(key)
        if entry is None:
            return self._trace(key, x, y, sw)
        if entry is _EAGER:
            return self.eager(x, y, sw)
        if not entry.verified:
            return self._check(key, entry, x, y, sw)
        return self._replay(entry, x, y, sw)

    def eager(self, x, y, sw) -> tuple[float | None, np.ndarray]:
        if not self.gradients:
            with no_grad():
                loss, y_pred = self.forward_loss(x, y, sw)
            return (None if loss is None else float(loss.data)), map_structure(lambda t: t.data, y_pred)
        for v in self.variables:
            v.grad = None
        with releasing(UnreachableValues()):  # as a replay, the step keeps only what its ops saved
            loss, y_pred = self.forward_loss(x, y, sw)
        backward(loss, intermediate_grads=False)  # the step's tensors are its own: only the weights' grads matter
        self._fill_missing_grads()
        return float(loss.data), map_structure(lambda t: t.data, y_pred)

    def _trace(self, key, x, y, sw) -> tuple[float, np.ndarray]:
        """Trace the step on this batch; the trace's own forward is this step's forward."""
        for v in self.variables:
            v.grad = None
        inputs, names = _leaves(x, y, sw)
        structure: list = []

        def traced(*tensors):
            loss, y_pred = self.forward_loss(*_unpack(tensors, x, y, sw))
            structure.append((loss is not None, y_pred))
            return ((loss,) if loss is not None else ()) + tuple(flatten(y_pred))

        plan = Plan(traced, inputs, input_names=names, title=self.title, gradients=self.gradients)
        plan.has_loss, plan.prediction_structure = structure[0]
        self.latest = plan
        loss, y_pred = _split(plan, plan.backward() if self.gradients else plan._outputs)
        self._fill_missing_grads()
        reached = {id(v) for v in plan.variables}
        unreached = tuple(v for v in self.variables if id(v) not in reached)
        self.plans[key] = _Entry(plan, False, frozenset(), unreached) if plan.all_inputs_used else _EAGER
        return loss, y_pred

    def _check(self, key, entry: _Entry, x, y, sw) -> tuple[float, np.ndarray]:
        """Replay a plan not yet proven in every input: directly when this batch differs from the traced one only
        in proven inputs, else after running the step both ways on it, on the same random draws."""
        inputs = _leaves(x, y, sw)[0]
        differing = frozenset(i for i, (a, b) in enumerate(zip(inputs, entry.plan.traced_inputs))
                              if i not in entry.live and not np.array_equal(a, b))
        if not differing:
            return self._replay(entry, x, y, sw)
        generators, written = entry.plan.random_generators(), entry.plan.written_variables()
        states = [g.bit_generator.state for g in generators]
        values = [v.numpy().copy() for v in written]
        entry.plan.drop_saved()  # the traced batch's activations: not needed by either run below
        loss, y_pred = self.eager(x, y, sw)
        eager_grads = [v.grad for v in self.variables]
        for g, state in zip(generators, states):
            g.bit_generator.state = state
        for v, value in zip(written, values):  # the replay below updates them again, from where they were
            v.assign(value)
        replay_loss, replay_pred = self._replay(entry, x, y, sw)
        agree = (loss is None or np.allclose(replay_loss, loss, rtol=1e-5, atol=1e-7)) and all(
            np.allclose(a, b, rtol=1e-5, atol=1e-7) for a, b in zip(flatten(replay_pred), flatten(y_pred))) and all(
            np.allclose(v.grad, g, rtol=1e-4, atol=1e-7) for v, g in zip(self.variables, eager_grads))
        if agree:
            live = entry.live | differing
            self.plans[key] = entry._replace(live=live, verified=len(live) == len(inputs))
        else:
            self.plans[key] = _EAGER
            for v, g in zip(self.variables, eager_grads):
                v.grad = g
        return loss, y_pred

    def drop_saved(self) -> None:
        """Let go of what the latest plan's ops saved (a batch's activations); fit calls it after each epoch's last
        step, so they stay neither through validation nor after fit. Between steps they stay: the next forward
        replaces them one by one in the memory they had, where freeing them after every step made the allocator
        hand the pages back and fault them in again (the benchmark LSTM's steps 20-60 % slower)."""
        if self.gradients and self.latest is not None:
            self.latest.drop_saved()

    def _replay(self, entry: _Entry, x, y, sw) -> tuple[float | None, np.ndarray]:
        """The plan's forward and backward: it sets the gradient of every variable it reaches."""
        plan = entry.plan
        self.latest = plan
        outputs = plan(*_leaves(x, y, sw)[0], backward=self.gradients)
        for v in entry.unreached:
            v.grad = np.zeros(v.shape, dtype=v.dtype)
        return _split(plan, outputs)

    def _fill_missing_grads(self) -> None:
        """A trainable weight the loss does not reach (an unused layer) gets a zero gradient, as in Keras."""
        for v in self.variables:
            if v.grad is None:
                v.grad = np.zeros(v.shape, dtype=v.dtype)


def _split(plan: Plan, outputs: list) -> tuple[float | None, np.ndarray]:
    """A plan's output arrays as (the loss's value, or None when it has none; the predictions in their
    structure)."""
    loss, predictions = (float(outputs[0]), outputs[1:]) if plan.has_loss else (None, outputs)
    if len(predictions) == 1 and isinstance(plan.prediction_structure, Tensor):
        return loss, predictions[0]
    return loss, pack_like(plan.prediction_structure, list(predictions))


def _kind(value) -> tuple:
    """What a plan depends on in one argument: each leaf's type, shape and dtype (and how many leaves)."""
    if not isinstance(value, (list, tuple, dict)):
        return (1, (type(value), value.shape, value.dtype))
    leaves = flatten(value)
    return (len(leaves), *((type(a), a.shape, a.dtype) for a in leaves))


def _leaves(x, y, sw) -> tuple[list, list[str]]:
    """The arrays of one batch in the plan's order, and their names in the step's source: X, Y, SW for one of
    each, numbered (X1, X2, ...) for several."""
    if not isinstance(x, (list, tuple, dict)) and not isinstance(y, (list, tuple, dict)) and not isinstance(
            sw, (list, tuple, dict)):
        if y is None:  # predict's batches: the inputs alone
            return [x], ["X"]
        return ([x, y], ["X", "Y"]) if sw is None else ([x, y, sw], ["X", "Y", "SW"])
    arrays, names = [], []
    for symbol, value in (("X", x), ("Y", y), ("SW", sw)):
        if value is None:
            continue
        leaves = flatten(value)
        arrays += leaves
        names += [symbol] if len(leaves) == 1 else [f"{symbol}{i}" for i in range(1, len(leaves) + 1)]
    return arrays, names


def _unpack(tensors, x, y, sw) -> tuple:
    """The plan's input Tensors back in the structures of x, y and sw."""
    out, start = [], 0
    for value in (x, y, sw):
        if value is None:
            out.append(None)
            continue
        count = len(flatten(value))
        out.append(pack_like(value, list(tensors[start:start + count])))
        start += count
    return tuple(out)


def _holds_texts(x) -> bool:
    """Whether an input is texts (a model whose first layer is a TextVectorization or StringLookup)."""
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "OUS"
    return isinstance(x, (list, tuple, dict)) and any(_holds_texts(leaf) for leaf in flatten(x))
