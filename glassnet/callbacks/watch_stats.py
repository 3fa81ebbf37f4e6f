"""What the doctor measures in a step that already ran: per layer, the activations' mean and std, the share of
dead ReLU units and of saturated sigmoid/tanh outputs; the weights' and gradients' norms.

Nothing is recomputed. A replayed step (``autodiff.plan``) keeps, in each recorded op, what its forward saved for
backward: a sigmoid or tanh saves its output a, a ReLU its mask [z > 0], a dense layer's Affine its input X (the
previous layer's output A). So the values of the latest batch are read from there (``replay_outputs``); an eager
graph (``inspect.diagnose``) has them in its tensors.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from glassnet.autodiff.function import Function
from glassnet.callbacks.watch_findings import SATURATION_SLOPE

ACTIVATION_OPS = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
                  "LeakyRelu": "leaky_relu", "Softplus": "softplus"}
_SAVES_OUTPUT = ("Relu", "Sigmoid", "Tanh", "Softmax")  # ops whose saved[0] is their own output a


@dataclass
class Activity:
    """One layer's output on the batch: ``activation`` (its activation op, "" for none), ``mean``/``std`` (NaN when
    the replay kept no copy of the output), ``dead`` (share of ReLU units 0 for every sample; ``alive`` says which
    were not) and ``saturated`` (share of sigmoid/tanh outputs with slope < 0.01), NaN where they do not apply."""

    activation: str
    units: int
    mean: float = math.nan
    std: float = math.nan
    dead: float = math.nan
    saturated: float = math.nan
    alive: np.ndarray | None = None  # per ReLU unit: whether it was positive for some sample
    samples: int = 0  # how many samples (rows) ``alive`` looked at


def layer_of_op(op: Function) -> str:
    """The innermost name scope an op ran in: its layer's name ("loss" for the loss, "" for none)."""
    return getattr(op, "scope", "").rsplit("/", 1)[-1]


def replay_outputs(ops: Sequence[Function]) -> dict[int, np.ndarray]:
    """The latest batch's output of each op (by ``id(op)``) that its own saved values or a later op's still hold:
    a sigmoid/tanh/softmax saved its output; any op's output that a later op saved as that same input (an Affine
    saves X). Ops whose output nobody kept are absent."""
    outputs: dict[int, np.ndarray] = {}
    for op in ops:
        if type(op).__name__ in _SAVES_OUTPUT and op.saved:
            outputs[id(op)] = op.saved[0]
    for consumer in ops:
        for position, x in enumerate(consumer.inputs):
            producer = x.op
            if producer is None or id(producer) in outputs or position >= len(consumer.saved):
                continue
            kept = consumer.saved[position]
            if isinstance(kept, np.ndarray) and kept.shape == x.shape:
                outputs[id(producer)] = kept
    return outputs


def activity(ops: Sequence[Function], outputs: dict[int, np.ndarray]) -> dict[str, Activity]:
    """Each layer's Activity, from the ops of a step (in forward order) and the outputs known of them."""
    by_layer: dict[str, list[Function]] = {}
    for op in ops:
        layer = layer_of_op(op)
        if layer not in ("", "loss"):
            by_layer.setdefault(layer, []).append(op)
    found = {}
    for layer, layer_ops in by_layer.items():
        last = layer_ops[-1]
        kinds = [op for op in layer_ops if type(op).__name__ in ACTIVATION_OPS]
        kind = ACTIVATION_OPS[type(kinds[-1]).__name__] if kinds else ""
        value = outputs.get(id(last))
        units = value.shape[-1] if value is not None and value.ndim else 0
        stats = Activity(kind, units)
        if value is not None and value.size:
            stats.mean, stats.std = float(value.mean()), float(value.std())
        if kind == "relu" and kinds[-1].saved:
            a = kinds[-1].saved[0]  # max(z, 0): a unit is alive where it is positive for some sample
            stats.units = a.shape[-1]
            rows = a.reshape(-1, a.shape[-1])
            stats.alive, stats.samples = rows.max(axis=0) > 0, len(rows)
            stats.dead = float(np.mean(~stats.alive))
        if kind in ("sigmoid", "tanh") and kinds[-1].saved:
            a = kinds[-1].saved[0]
            slope = a * (1 - a) if kind == "sigmoid" else 1 - a * a
            stats.saturated = float(np.mean(slope < SATURATION_SLOPE))
        found[layer] = stats
    return found


def output_activation(ops: Sequence[Function]) -> str | None:
    """The activation of the model's last layer (the last activation op outside the loss), None if it has none."""
    layered = [op for op in ops if layer_of_op(op) not in ("", "loss")]
    if not layered:
        return None
    last_layer = layer_of_op(layered[-1])
    kinds = [ACTIVATION_OPS[type(op).__name__] for op in layered
             if layer_of_op(op) == last_layer and type(op).__name__ in ACTIVATION_OPS]
    return kinds[-1] if kinds else None


def norm(arrays: Sequence[np.ndarray]) -> float:
    """The Euclidean (Frobenius) norm of several arrays taken together."""
    return math.sqrt(sum(float(np.vdot(a, a)) for a in arrays))


def watched_weights(layer) -> list:
    """The weights of a layer whose norms the doctor reports: its kernels (2-D or more), else all it trains."""
    weights = list(layer.trainable_weights)
    kernels = [w for w in weights if len(w.shape) >= 2]
    return kernels or weights


def learning_rate(model) -> float | None:
    """The optimizer's current learning rate as a number, None when it has none readable."""
    rate = getattr(getattr(model, "optimizer", None), "learning_rate", None)
    try:
        return float(np.asarray(getattr(rate, "numpy", lambda: rate)()))
    except (TypeError, ValueError):
        return None


def loss_name(model) -> str:
    """The compiled loss's name (``sparse_categorical_crossentropy``), "" when it has none."""
    loss = getattr(model, "loss", None)
    if isinstance(loss, str):
        return loss
    return str(getattr(loss, "name", None) or getattr(loss, "__name__", ""))
