"""What ``compile(loss=..., loss_weights=..., metrics=...)`` means for a model of several outputs, as in Keras 3.

Each output gets its own loss — one loss for all, a list by position, or a dict by output name — and weight; the
loss training minimizes is  J = Σₖ wₖ · Lₖ(yₖ, ŷₖ)  (plus the layers' penalties), and the logs show each Lₖ as
``<output>_loss``. Metrics are given per output (a list of lists, or a dict by output name) and logged as
``<output>_<metric>``. Labels and sample weights come as a list (by position) or a dict (by output name).
"""

from __future__ import annotations

from glassnet import losses
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.symbolic import flatten


def _per_output(spec, names: list[str], what: str, single_ok: bool = True) -> list:
    """One entry per output from a single value (all outputs), a list/tuple (by position) or a dict (by name)."""
    if isinstance(spec, dict):
        if set(spec) != set(names):
            raise ValueError(f"Expected keys {names} in {what} dict, but found {what}.keys()={list(spec)}")
        return [spec[name] for name in names]
    if isinstance(spec, (list, tuple)):
        if len(spec) != len(names):
            raise ValueError(f"compile: the model has {len(names)} outputs ({names}), so a `{what}` list needs "
                             f"{len(names)} entries, one per output; received {len(spec)}: {spec!r}")
        return list(spec)
    if not single_ok:
        raise ValueError(f"compile: `{what}` must be a list or dict for a model of several outputs ({names}); "
                         f"received {spec!r}")
    return [spec] * len(names)


class OutputLosses:
    """The loss of a model of several outputs: ``J = Σₖ wₖ · Lₖ(yₖ, ŷₖ)`` over the outputs that have a loss.

    Called like a loss, ``(y_true, y_pred, sample_weight=None)`` with y_true a list or dict of label arrays and
    y_pred the model's outputs (a list or dict); ``terms`` gives each Lₖ apart, for the logs."""

    name = "compile_loss"

    def __init__(self, loss, loss_weights, output_names: list[str]):
        self.output_names = list(output_names)
        specs = _per_output(loss, self.output_names, "loss")
        weights = [1.0] * len(specs) if loss_weights is None else [
            1.0 if w is None else float(w) for w in _per_output(loss_weights, self.output_names, "loss_weights")]
        self.losses = [None if spec is None else losses.get(spec) for spec in specs]
        self.weights = weights
        self.indices = [i for i, fn in enumerate(self.losses) if fn is not None]

    @property
    def log_names(self) -> list[str]:
        """``<output>_loss`` for each output with a loss (Keras logs them when there are several); an output without a
        name (a subclassed model's) is logged by its loss's name."""
        if len(self.indices) < 2:
            return []
        return [f"{self.output_names[i] or self.losses[i].name}_loss" for i in self.indices]

    def labels(self, y, what: str = "y") -> list:
        """The label arrays (or sample weights) of each output, from a list (by position) or a dict (by name)."""
        if isinstance(y, dict):
            missing = [n for i, n in enumerate(self.output_names) if i in self.indices and n not in y]
            if missing:
                raise ValueError(f"`{what}` is a dict with keys {sorted(y)}, but the model's outputs are "
                                 f"{self.output_names} (missing {missing})")
            return [y.get(name) for name in self.output_names]
        if isinstance(y, (list, tuple)):
            if len(y) != len(self.output_names):
                raise ValueError(f"`{what}` has {len(y)} arrays, but the model has {len(self.output_names)} outputs "
                                 f"({self.output_names}): give one per output, in order, or a dict by output name")
            return list(y)
        return [y] * len(self.output_names)

    def terms(self, y_true, y_pred, sample_weight=None) -> list[Tensor]:
        """Lₖ(yₖ, ŷₖ) for each output with a loss (before its weight)."""
        trues, preds = self.labels(y_true), flatten(y_pred)
        weights = self.labels(sample_weight, "sample_weight") if sample_weight is not None else [None] * len(preds)
        return [self.losses[i](trues[i], preds[i], sample_weight=weights[i]) for i in self.indices]

    def __call__(self, y_true, y_pred, sample_weight=None) -> Tensor:
        total = None
        for i, term in zip(self.indices, self.terms(y_true, y_pred, sample_weight)):
            weighted = term if self.weights[i] == 1.0 else term * self.weights[i]
            total = weighted if total is None else total + weighted
        return total


def metrics_per_output(metrics, output_names: list[str]) -> list[tuple[int, object]]:
    """(output index, metric identifier) pairs: a flat list for one output; for several, a list of lists (one per
    output, None or [] for none) or a dict by output name (a metric or a list of them)."""
    if not metrics:
        return []
    if len(output_names) == 1:
        if isinstance(metrics, dict):
            metrics = _per_output(metrics, output_names, "metrics")[0]
        return [(0, m) for m in (metrics if isinstance(metrics, (list, tuple)) else [metrics])]
    nested = isinstance(metrics, dict) or all(m is None or isinstance(m, (list, tuple, dict)) for m in metrics)
    if not nested:
        raise ValueError(
            "Invalid `metrics`. `metrics` should contain metrics objects and either be a dict or a list matching the "
            f"output names of the functional model {output_names} or match the output structure of the model. "
            f"Received: metrics={metrics!r}")
    if isinstance(metrics, dict):
        unknown = sorted(set(metrics) - set(output_names))
        if unknown:
            raise ValueError(f"compile: `metrics` names outputs {unknown} that the model does not have; its outputs "
                             f"are {output_names}")
        per_output = [metrics.get(name) for name in output_names]
    else:
        per_output = _per_output(list(metrics), output_names, "metrics", single_ok=False)
    pairs = []
    for index, entry in enumerate(per_output):
        for m in ([] if entry is None else entry if isinstance(entry, (list, tuple)) else [entry]):
            pairs.append((index, m))
    return pairs


class CompileMetrics:
    """compile's metrics seen as one metric named ``compile_metrics`` (Keras 3's ``model.metrics[1]``): a custom
    ``train_step`` calls ``update_state(y, y_pred)`` on it and ``result()`` gives ``{log name: value}``. The
    ``weighted`` ones (``compile(weighted_metrics=...)``) are given the sample weights."""

    name = "compile_metrics"

    def __init__(self, names: list[str], pairs: list[tuple[int, object]], metrics: list,
                 outputs: OutputLosses | None, weighted: list[bool]):
        self.names, self.pairs, self.metrics, self.outputs, self.weighted = names, pairs, metrics, outputs, weighted

    def update_state(self, y_true, y_pred, sample_weight=None) -> None:
        if self.outputs is None:
            trues, preds, weights = [y_true], [y_pred], [sample_weight]
        else:
            trues, preds = self.outputs.labels(y_true), flatten(y_pred)
            weights = self.outputs.labels(sample_weight, "sample_weight") if sample_weight is not None else [
                None] * len(preds)
        for (i, _), m, weighted in zip(self.pairs, self.metrics, self.weighted):
            if weighted and weights[i] is not None:
                m.update_state(trues[i], preds[i], sample_weight=weights[i])
            else:
                m.update_state(trues[i], preds[i])

    def result(self) -> dict:
        return {name: m.result() for name, m in zip(self.names, self.metrics)}

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()


def unpack_x_y_sample_weight(data) -> tuple:
    """``(x, y, sample_weight)`` from what a train_step receives: ``(x,)``, ``(x, y)`` or ``(x, y, sw)``
    (``keras.utils.unpack_x_y_sample_weight``); anything else is x alone."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError(f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, "
                         f"found: {data!r}")
    return (*data, *(None,) * (3 - len(data)))
