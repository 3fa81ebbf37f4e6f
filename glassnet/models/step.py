"""TrainStep: the gradients of one training step, from a replayed Plan when that is safe, else eagerly.

Every batch of a fit builds the same graph, so the step is traced once per batch shape and replayed
(``glassnet.autodiff.plan``): the same ops, without rebuilding the graph. A plan is used only after it proved
itself: on a later batch of its shape whose data differ from the traced batch in every input, the step also runs
eagerly and both must agree (with the random generators rewound, so dropout draws the same mask). A step whose
graph depends on the data through Python code (which a replay would freeze: the plan traced private copies of the
inputs, so a frozen value is always the traced batch's) fails that check and stays eager, and so does a step that
does not feed one of its inputs into the graph at all. ``compile(run_eagerly=True)`` skips plans altogether.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from glassnet.autodiff.plan import Plan

_EAGER = "eager"  # a shape whose plan failed its check: always run eagerly


class TrainStep:
    """``step(x, y, sw)`` sets ``.grad`` on the variables and returns (loss value, predictions array).

    ``forward_loss(x, y, sw)`` must return (loss Tensor, predictions Tensor); ``variables`` are the trainable
    Variables (gradients of the others are not needed).
    """

    def __init__(self, forward_loss: Callable, variables: list, run_eagerly: bool = False,
                 title: str = "The training step"):
        self.forward_loss = forward_loss
        self.variables = variables
        self.run_eagerly = run_eagerly
        self.title = title
        self.plans: dict = {}
        self.latest: Plan | None = None  # the plan of the last replayed or traced step

    def __call__(self, x: np.ndarray, y: np.ndarray, sw: np.ndarray | None) -> tuple[float, np.ndarray]:
        if self.run_eagerly:
            return self.eager(x, y, sw)
        key = (type(x), x.shape, x.dtype, y.shape, y.dtype, None if sw is None else sw.shape)
        entry = self.plans.get(key)
        if entry is None:
            return self._trace(key, x, y, sw)
        if entry is _EAGER:
            return self.eager(x, y, sw)
        plan, verified = entry
        if not verified:
            return self._verify(key, plan, x, y, sw)
        return self._replay(plan, x, y, sw)

    def eager(self, x, y, sw) -> tuple[float, np.ndarray]:
        for v in self.variables:
            v.grad = None
        loss, y_pred = self.forward_loss(x, y, sw)
        loss.backward()
        self._fill_missing_grads()
        return float(loss.data), y_pred.data

    def _trace(self, key, x, y, sw) -> tuple[float, np.ndarray]:
        """Trace the step on this batch; the trace's own forward is this step's forward."""
        for v in self.variables:
            v.grad = None
        inputs = [x, y] if sw is None else [x, y, sw]
        plan = Plan(lambda xt, yt, *swt: self.forward_loss(xt, yt, swt[0] if swt else None), inputs,
                    input_names=["X", "Y", "SW"][:len(inputs)], title=self.title)
        self.latest = plan
        loss, y_pred = plan.backward()
        self._fill_missing_grads()
        self.plans[key] = (plan, False) if plan.all_inputs_used else _EAGER
        return float(loss), y_pred

    def _verify(self, key, plan: Plan, x, y, sw) -> tuple[float, np.ndarray]:
        """Run the step both ways on the same batch and random draws; keep the plan only if they agree. A batch
        equal to the traced one in some input cannot reveal a frozen value there: it runs eagerly, unchecked."""
        inputs = [x, y] if sw is None else [x, y, sw]
        if any(np.array_equal(a, b) for a, b in zip(inputs, plan.traced_inputs)):
            return self.eager(x, y, sw)
        generators = plan.random_generators()
        states = [g.bit_generator.state for g in generators]
        loss, y_pred = self.eager(x, y, sw)
        eager_grads = [v.grad for v in self.variables]
        for g, state in zip(generators, states):
            g.bit_generator.state = state
        replay_loss, replay_pred = self._replay(plan, x, y, sw)
        agree = np.allclose(replay_loss, loss, rtol=1e-5, atol=1e-7) and np.allclose(
            replay_pred, y_pred, rtol=1e-5, atol=1e-7) and all(
            np.allclose(v.grad, g, rtol=1e-4, atol=1e-7) for v, g in zip(self.variables, eager_grads))
        self.plans[key] = (plan, True) if agree else _EAGER
        if not agree:
            for v, g in zip(self.variables, eager_grads):
                v.grad = g
        return loss, y_pred

    def _replay(self, plan: Plan, x, y, sw) -> tuple[float, np.ndarray]:
        self.latest = plan
        for v in self.variables:
            v.grad = None
        loss, y_pred = plan(x, y) if sw is None else plan(x, y, sw)
        self._fill_missing_grads()
        return float(loss), y_pred

    def _fill_missing_grads(self) -> None:
        """A trainable weight the loss does not reach (an unused layer) gets a zero gradient, as in Keras."""
        for v in self.variables:
            if v.grad is None:
                v.grad = np.zeros(v.shape, dtype=v.dtype)
