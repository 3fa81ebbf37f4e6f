"""Watch: see training from the inside. Every ``every`` steps, per layer: the weight norm ‖W‖, the gradient norm
‖dW‖, the update/weight ratio ‖ΔW‖/‖W‖, the activations' mean and std, the share of dead ReLU units and of
saturated sigmoid/tanh outputs; the loss at step 0 against ln C; and the doctor's findings as they appear.

It reads what the step already computed: the gradients in each weight's ``.grad``, the activations that the
replayed step's ops saved for backward (``watch_stats``). Before a watched step it copies the weights (for ΔW), and
before every step while the loss rises, so that at the first non-finite loss that step can be replayed from the
weights it started with (``watch_nan``); elsewhere the replay reads the values the failing step's ops saved.
"""

from __future__ import annotations

import math
import sys
import time
from collections import deque
from dataclasses import replace

import numpy as np

from glassnet.autodiff.function import Function
from glassnet.autodiff.tensor import Variable
from glassnet.callbacks import watch_findings as rules
from glassnet.callbacks import watch_log
from glassnet.callbacks.callback import Callback
from glassnet.callbacks.watch_findings import Finding
from glassnet.callbacks.watch_nan import nan_origin
from glassnet.callbacks.watch_stats import (
    Activity,
    activity,
    layer_of_op,
    learning_rate,
    loss_name,
    norm,
    output_activation,
    replay_outputs,
    watched_weights,
)

DEFAULT_EVERY = 50  # about 2% of an epoch of benchmark A (benchmarks/RESULTS.md, "Watch's overhead")
PERSISTENT_WATCHES = 3  # watched steps in a row a finding must show on (after the first) before it is said
LIVE_REFRESH_SECONDS = 0.5


class Watch(Callback):
    """``Watch(every=50, snapshots=False, live=None, verbose=1)``: a callback for ``fit``.

    ``log`` is the tidy table (a pandas DataFrame when pandas is installed, else a list of dicts), one row per
    watched step and layer; ``to_csv(path)``, ``to_parquet(path)``, ``plot()``. ``findings`` are the doctor's
    Findings (also in ``history.diagnoses``), ``initial_loss`` the loss at step 0 and its expected value.
    ``snapshots=True`` keeps every layer's weights at each epoch's end in ``snapshots``. ``live`` shows one
    refreshing table in Jupyter (default: when running in a notebook kernel); ``verbose=1`` prints each finding.
    """

    def __init__(self, every: int = DEFAULT_EVERY, snapshots: bool = False, live: bool | None = None,
                 verbose: int = 1):
        super().__init__()
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise ValueError(f"Watch: argument `every` must be a positive integer (steps between records), "
                             f"received {every!r}")
        self.every, self.keep_snapshots, self.live, self.verbose = every, bool(snapshots), live, verbose
        self.rows: list[dict] = []
        self.findings: list[Finding] = []
        self.snapshots: list[dict] = []
        self.initial_loss: dict | None = None
        self.step = 0
        self._reported: set = set()
        self._epoch = 0
        self._losses: deque = deque(maxlen=rules.DIVERGING_WINDOW + 1)
        self._streaks: dict = {}
        self._alive: dict[str, deque] = {}
        self._watches = 0
        self._nan_seen = False
        self._handle = None
        self._shown_at = 0.0

    # ----- the table ----------------------------------------------------------------------------------------
    @property
    def log(self):
        """One row per (watched step, layer): a pandas DataFrame when pandas is installed, else a list of dicts."""
        return watch_log.table(self.rows)

    def to_csv(self, path) -> None:
        """Write the log as CSV (whole or not at all)."""
        watch_log.write_csv(self.rows, path)

    def to_parquet(self, path) -> None:
        """Write the log as Parquet (needs pyarrow)."""
        watch_log.write_parquet(self.rows, path)

    def plot(self, columns=watch_log.PLOTTED, axes=None):
        """The log's columns per step, one line per layer (a matplotlib Figure)."""
        return watch_log.plot(self.rows, columns, axes)

    # ----- fit's hooks --------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None) -> None:
        model = self.model
        self._variables = list(model.trainable_weights)
        if not self._variables:
            raise ValueError(f"Watch: model '{model.name}' has no trainable weights, so there are no weights, "
                             "gradients or updates to watch. Add a layer with weights or set `trainable=True`.")
        self._layers = {layer.name: layer for layer in weighted_layers(model)}
        self._before = {id(v): np.empty(v.shape, v.dtype) for v in self._variables}
        self._previous_mean = math.nan
        self._rising, self._copied = False, -1
        self._last_saved, self._last_step = None, -1
        if self._live():
            from IPython.display import HTML, display
            self._handle = display(HTML(self._html()), display_id=True)

    def on_epoch_begin(self, epoch: int, logs=None) -> None:
        self._epoch = epoch

    def on_train_batch_begin(self, batch: int, logs=None) -> None:
        """Copy the weights before a watched step (for ΔW) and while the loss rises (to replay a NaN from them)."""
        if self.step % self.every == 0 or self._rising:
            for v in self._variables:
                np.copyto(self._before[id(v)], v.numpy())
            self._copied = self.step

    def on_train_batch_end(self, batch: int, logs=None) -> None:
        if "loss" not in (logs or {}):  # a custom train_step that reports no loss: the weights alone
            if self.step % self.every == 0:
                self._record(math.nan, judge=True)
            self.step += 1
            return
        mean = float(logs["loss"])
        loss = mean if batch == 0 else (batch + 1) * mean - batch * self._previous_mean  # this batch's own loss
        self._previous_mean = mean
        if self.initial_loss is None:
            self._check_start(loss)
        self._losses.append((self.step, loss))
        finite = [value for _, value in self._losses if math.isfinite(value)]
        # climbing above where training began: keep the weights before each step, to replay a NaN from them
        self._rising = bool(finite) and loss > max(rules.RISING_FACTOR * min(finite), self.initial_loss["loss"])
        if self._rising or not math.isfinite(loss):
            self._report(rules.diverging(list(self._losses), self.initial_loss["loss"], learning_rate(self.model)))
        if not math.isfinite(loss) and not self._nan_seen:
            self._nan_seen = True
            self._report(self._nan_finding(loss))
        if self.step % self.every == 0:
            self._record(loss, judge=not self._nan_seen)  # after a NaN every weight is NaN: nothing more to learn
        self.step += 1

    def on_epoch_end(self, epoch: int, logs=None) -> None:
        if self.keep_snapshots:
            self.snapshots.append({"epoch": epoch, "weights": {
                name: {v.name: v.numpy().copy() for v in layer.trainable_weights}
                for name, layer in self._layers.items()}})

    def on_train_end(self, logs=None) -> None:
        self._show(force=True)

    # ----- what is measured -----------------------------------------------------------------------------------
    def _record(self, loss: float, judge: bool) -> None:
        """The rows of this step, then the findings they prove."""
        ops = self._fresh_ops()
        acts = activity(ops, replay_outputs(ops)) if ops else {}
        grads, ratios = {}, {}
        for name, layer in self._layers.items():
            weights = watched_weights(layer)
            w_norm = norm([v.numpy() for v in weights])
            g_norm = norm([v.grad for v in weights if v.grad is not None])
            change = norm([np.subtract(v.numpy(), self._before[id(v)], out=self._before[id(v)]) for v in weights])
            act = acts.get(name)
            grads[name], ratios[name] = g_norm, change / w_norm if w_norm > 0 else math.nan
            self.rows.append({
                "step": self.step, "epoch": self._epoch, "layer": name, "loss": loss, "weight_norm": w_norm,
                "grad_norm": g_norm, "update_ratio": ratios[name], "activation": act.activation if act else "",
                "act_mean": act.mean if act else math.nan, "act_std": act.std if act else math.nan,
                "dead_fraction": act.dead if act else math.nan,
                "saturated_fraction": act.saturated if act else math.nan})
        if judge:
            self._judge(grads, ratios, acts)
        self._show()

    def _judge(self, grads: dict, ratios: dict, acts: dict) -> None:
        """Report what this step shows at the first watched step (the start, as diagnose sees it) or once it has
        shown on PERSISTENT_WATCHES watched steps in a row: one batch's dead units may revive on the next."""
        rate, first = learning_rate(self.model), self._watches == 0
        dead = rules.DEAD_FRACTION if first else rules.DEAD_FRACTION_TRAINED
        found = [*judge_layers(self._layers, self._dead_over_window(acts), grads, rate, dead),
                 rules.tiny_updates(ratios, rate)]
        found = {(f.code, f.details.get("layer")): f for f in found if f is not None}
        self._streaks = {key: self._streaks.get(key, 0) + 1 for key in found}
        self._watches += 1
        for key, finding in found.items():
            if first or self._streaks[key] >= PERSISTENT_WATCHES:
                self._report(finding)

    def _dead_over_window(self, acts: dict[str, Activity]) -> dict[str, Activity]:
        """The activities with ``dead`` counted over the batches of the last watched steps that hold DEAD_SAMPLES
        samples (at least PERSISTENT_WATCHES of them): a unit is dead if it was 0 for every one of those samples
        (a batch of 16 alone leaves many units at 0 by chance)."""
        judged = dict(acts)
        for name, act in acts.items():
            if act.alive is not None:
                batches = max(PERSISTENT_WATCHES, math.ceil(rules.DEAD_SAMPLES / max(act.samples, 1)))
                window = self._alive.setdefault(name, deque(maxlen=batches))
                window.append(act.alive)
                judged[name] = replace(act, dead=float(np.mean(~np.logical_or.reduce(list(window)))))
        return judged

    def _check_start(self, loss: float) -> None:
        """At the first step: the loss against ln C, and whether the loss fits the output."""
        model, name = self.model, loss_name(self.model)
        units = int(model.output_shape[-1] or 1) if getattr(model, "output_shape", None) else 1
        self.initial_loss = {"loss": loss, "expected": rules.expected_initial_loss(name, units), "loss_name": name}
        self._report(rules.initial_loss(loss, name, units))
        ops = self._fresh_ops()
        if ops:
            self._report(rules.wrong_loss(name, output_activation(ops), units))
            for x in _model_inputs(ops):
                self._report(rules.unscaled_inputs(x))

    def _nan_finding(self, loss: float) -> Finding:
        """Replay the step that made the loss non-finite from the weights before it, op by op."""
        ops = self._fresh_ops()
        if ops:
            inputs = _batch_inputs(ops)
            before = self._before if self._copied == self.step else {}  # else the updated weights stand in

            def leaf(x):
                if id(x) in before:
                    return before[id(x)]
                return inputs.get(id(x), x.data)

            found = nan_origin(ops, leaf, self.step, recorded=replay_outputs(ops))
            if found is not None:
                return found
        return Finding("nan", f"The loss became {loss} at step {self.step}; replaying the recorded step found no op "
                       "that makes it non-finite (a step that runs eagerly cannot be replayed: compile without "
                       "run_eagerly to find the op).", {"loss": loss}, self.step)

    def _fresh_ops(self) -> list[Function] | None:
        """The ops of the step fit just replayed, holding this batch's values; None when the step ran eagerly (or
        a custom train_step ran), so that no op holds them."""
        model = self.model
        if getattr(type(model).train_step, "__module__", "") != "glassnet.models.trainer":
            return None
        try:
            source = model.step_source()
        except ValueError:  # compiled with run_eagerly=True: no recorded step
            return None
        ops = [value for value in source.bindings.values() if isinstance(value, Function)]
        saved = next((op.saved for op in ops if op.saved), None)  # () is one shared object: skip ops saving none
        if saved is None or saved is self._last_saved and self._last_step != self.step:
            return None  # the plan was not replayed since the last look: this step ran eagerly
        self._last_saved, self._last_step = saved, self.step
        return ops

    # ----- what is said ------------------------------------------------------------------------------------
    def _report(self, finding: Finding | None) -> None:
        """Keep a finding the first time its code is seen for its layer, with the step; print it if verbose."""
        if finding is None:
            return
        key = (finding.code, finding.details.get("layer"))
        if key in self._reported:
            return
        self._reported.add(key)
        if finding.step is None:
            finding = Finding(finding.code, finding.message, finding.details, self.step)
        self.findings.append(finding)
        history = getattr(self.model, "history", None)
        if history is not None and hasattr(history, "diagnoses"):
            history.diagnoses.append(finding)
        if self.verbose:
            print(f"Watch: {finding}")

    def _live(self) -> bool:
        if self.live is not None:
            return self.live
        if "IPython" not in sys.modules:  # a notebook kernel has imported it; importing it here costs 0.2 s
            return False
        shell = sys.modules["IPython"].get_ipython()
        return shell is not None and hasattr(shell, "kernel")

    def _html(self) -> str:
        start = self.initial_loss
        check = "" if not start or start["expected"] is None else (
            f"step-0 loss {start['loss']:.4g} vs ln C = {start['expected']:.4g}")
        return watch_log.html(self.rows, self.findings, check)

    def _show(self, force: bool = False) -> None:
        if self._handle is None or not force and time.monotonic() - self._shown_at < LIVE_REFRESH_SECONDS:
            return
        from IPython.display import HTML
        self._handle.update(HTML(self._html()))
        self._shown_at = time.monotonic()


def judge_layers(layers: dict, acts: dict[str, Activity], grads: dict[str, float], rate: float | None,
                 dead_threshold: float = rules.DEAD_FRACTION) -> list[Finding]:
    """The layer-wise findings, before or during training: symmetry, dead ReLUs (above ``dead_threshold``),
    saturated hidden sigmoid/tanh layers (the output layer's saturation is a confident prediction), vanishing
    gradients. ``layers``: name → layer, in order; ``acts``: their Activity; ``grads``: their gradient norms."""
    found = []
    names = list(layers)
    for name, layer in layers.items():
        kernel, bias = _kernel_and_bias(layer)
        alike = None if kernel is None else rules.symmetry(name, kernel, bias)
        found.append(alike)
        act = acts.get(name)
        if act is not None and not math.isnan(act.dead) and alike is None:  # copies of one unit: one finding
            mean_bias = None if bias is None else float(np.mean(bias))
            found.append(rules.dead_relu(name, act.dead, act.units, mean_bias, rate, dead_threshold))
        if act is not None and not math.isnan(act.saturated) and name != names[-1]:
            found.append(rules.saturated(name, act.saturated, act.activation))
    kinds = {name: acts[name].activation if name in acts else "" for name in names}
    found.append(rules.vanishing(grads, kinds))
    return [f for f in found if f is not None]


def weighted_layers(model) -> list:
    """The layers that hold trainable weights, nested models opened up, in order."""
    found = []
    for layer in getattr(model, "layers", []):
        if getattr(layer, "layers", None):
            found += weighted_layers(layer)
        elif layer.trainable_weights:
            found.append(layer)
    return found


def _kernel_and_bias(layer) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A layer's kernel (its first weight of 2 or more axes) and bias (its 1-axis weight named bias), as arrays."""
    kernel = next((v.numpy() for v in layer.trainable_weights if len(v.shape) >= 2), None)
    bias = next((v.numpy() for v in layer.trainable_weights if v.name.rsplit("/", 1)[-1] == "bias"), None)
    return kernel, bias


def _model_inputs(ops: list[Function]) -> list[np.ndarray]:
    """This batch's inputs X that the model's layers read (the labels, read by the loss, left out)."""
    layered = [op for op in ops if layer_of_op(op) not in ("", "loss")]
    return list(_batch_inputs(layered).values())


def _batch_inputs(ops: list[Function]) -> dict[int, np.ndarray]:
    """This batch's value of each input the step read (X, Y), as the op that read it saved it; a leaf no op kept
    is absent (its recorded value stands in)."""
    found: dict[int, np.ndarray] = {}
    for op in ops:
        for position, x in enumerate(op.inputs):
            if x.op is None and not isinstance(x, Variable) and position < len(op.saved):
                kept = op.saved[position]
                if isinstance(kept, np.ndarray) and kept.shape == x.shape:
                    found.setdefault(id(x), kept)
    return found
