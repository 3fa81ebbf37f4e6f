"""The doctor before training: ``diagnose(model, x, y)`` runs one forward and backward pass on a batch, changes
nothing, and says in plain words what will keep the network from learning, with the numbers that prove it.

It checks the data (unscaled inputs, labels that do not fit the loss), the start (the loss against ln C, a loss
that does not fit the output, all units of a layer alike), the forward pass (dead ReLUs, saturated sigmoids, the
first op that makes a NaN) and the backward pass (vanishing gradients). ``watch(model)`` makes the ``Watch``
callback that keeps checking during ``fit``. The rules live in ``callbacks.watch_findings``.
"""

from __future__ import annotations

import math

import numpy as np

from glassnet.autodiff.graph import topological_order
from glassnet.autodiff.tensor import name_scope, record
from glassnet.callbacks import watch_findings as rules
from glassnet.callbacks.watch import DEFAULT_EVERY, Watch, judge_layers, weighted_layers
from glassnet.callbacks.watch_findings import Finding
from glassnet.callbacks.watch_nan import nan_origin
from glassnet.callbacks.watch_stats import activity, learning_rate, loss_name, norm, output_activation, watched_weights

DIAGNOSE_ROWS = rules.DEAD_SAMPLES  # the batch diagnose looks at: enough samples for "dead on every sample"


class Findings(list):
    """The findings of ``diagnose`` (a list of Finding); printed one per line, or "No findings."."""

    def __str__(self) -> str:
        return "\n".join(map(str, self)) if self else "No findings."

    def codes(self) -> list[str]:
        """The findings' codes, in order."""
        return [f.code for f in self]


def diagnose(model, x, y, batch_size: int = DIAGNOSE_ROWS, verbose: int = 1) -> Findings:
    """Check a compiled model on (x, y) before training, on its first ``batch_size`` samples: returns the
    Findings (and prints them when ``verbose``). Weights, gradients and the optimizer are left as they were."""
    if not getattr(model, "compiled", False):
        raise ValueError(f"diagnose: model '{model.name}' has not been compiled, so it has no loss to check. Call "
                         "`model.compile(optimizer=..., loss=...)` first.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"diagnose: argument `batch_size` must be a positive integer, received {batch_size!r}")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(f"diagnose: x and y must have the same number of samples, received {len(x)} and {len(y)}")
    xb, yb = x[:batch_size], y[:batch_size]
    name = loss_name(model)
    found = [rules.unscaled_inputs(x)]
    with record():
        y_pred = model(xb, training=False)  # a wrong shape raises the model's own error here
    units = int(y_pred.shape[-1]) if y_pred.ndim > 1 else 1
    labels = rules.label_format(y, name, units)
    found.append(labels)
    if labels is None:
        found += _step_findings(model, xb, yb, y_pred, name, units)
    findings = Findings(f for f in found if f is not None)
    if verbose:
        print(findings)
    return findings


def _step_findings(model, x, y, y_pred, name: str, units: int) -> list[Finding | None]:
    """What one forward and backward pass shows: the start's loss, the layers' activity and gradients, a NaN."""
    with record(), name_scope("loss"):
        loss = model.compute_loss(x=x, y=y, y_pred=y_pred)
    order = topological_order(loss)
    ops = [t.op for t in order if t.op is not None]
    acts = activity(ops, {id(t.op): t.data for t in order if t.op is not None})
    value = float(loss.data)
    found: list[Finding | None] = [rules.initial_loss(value, name, units),
                                   rules.wrong_loss(name, output_activation(ops), units)]
    if not math.isfinite(value):
        found.append(nan_origin(ops, lambda t: t.data))
    layers = {layer.name: layer for layer in weighted_layers(model)}
    variables = list(model.trainable_weights)
    kept = [v.grad for v in variables]
    for v in variables:
        v.grad = None
    try:
        loss.backward()
        grads = {name: norm([v.grad for v in watched_weights(layer) if v.grad is not None])
                 for name, layer in layers.items()}
    finally:
        for v, grad in zip(variables, kept):
            v.grad = grad
    return found + judge_layers(layers, acts, grads, learning_rate(model))


def watch(model, every: int = DEFAULT_EVERY, snapshots: bool = False, live: bool | None = None,
          verbose: int = 1) -> Watch:
    """The Watch callback for ``model``, to pass to fit: ``w = watch(model); model.fit(x, y, callbacks=[w])``; in
    a notebook it shows one table that refreshes while fit runs."""
    if getattr(model, "built", False) and not model.trainable_weights:
        raise ValueError(f"watch: model '{model.name}' has no trainable weights, so there are no weights, "
                         "gradients or updates to watch. Add a layer with weights or set `trainable=True`.")
    callback = Watch(every=every, snapshots=snapshots, live=live, verbose=verbose)
    callback.set_model(model)
    return callback
