"""The doctor's rules: each turns measured numbers into a Finding, in plain words tied to the lecture's concepts.

``inspect.diagnose`` (before training) and the ``Watch`` callback (during it) measure; these functions judge. Each
finding has a stable ``code``, a one-line ``message`` with the numbers that prove it, and a ``details`` dict of
those numbers. The thresholds are the issue's: a layer's gradient norm below 1e-3 × the last layer's, a loss ×10
within 20 steps, more than 30% dead units, update/weight ratios below 1e-5, a feature std above 100.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

VANISHING_RATIO = 1e-3  # a layer's gradient norm below this × the last layer's
DIVERGING_FACTOR = 10.0  # the loss grows this many times ...
DIVERGING_WINDOW = 20  # ... within this many steps
RISING_FACTOR = 2.0  # a loss above this × the window's lowest is climbing
DEAD_FRACTION = 0.3  # more than this share of a layer's ReLU units output 0 for every sample ...
DEAD_SAMPLES = 256  # ... of at least this many samples (of 16, many units are 0 by chance)
NEGATIVE_BIAS = -0.1  # a mean bias below this is named as the cause of dead units
DEAD_FRACTION_TRAINED = 0.5  # once training runs: a healthy net may carry a third of a layer dead (Boston's does)
SATURATED_FRACTION = 0.3  # more than this share of a hidden sigmoid/tanh's outputs have σ'(z) < 0.01
SATURATION_SLOPE = 0.01
TINY_UPDATE_RATIO = 1e-5  # ‖ΔW‖/‖W‖ below this in every layer
UNSCALED_STD = 100.0  # a feature whose standard deviation exceeds this
INITIAL_LOSS_FACTOR = 2.0  # a first loss beyond 2× (or under ½×) the loss of a uniform guess, ln C


@dataclass(frozen=True)
class Finding:
    """One diagnosis: ``code`` (stable, for programs), ``message`` (one line, for people), ``details`` (the
    numbers), ``step`` (the training step it was seen at; None before training)."""

    code: str
    message: str
    details: dict = field(default_factory=dict)
    step: int | None = None

    def __str__(self) -> str:
        where = "" if self.step is None else f" (step {self.step})"
        return f"[{self.code}]{where} {self.message}"


def expected_initial_loss(loss_name: str, output_units: int) -> float | None:
    """The loss of a uniform guess over C classes, ln C (ln 2 per output for a binary cross-entropy); None for a
    loss without one (a regression)."""
    if "binary" in loss_name:
        return math.log(2)
    if "categorical_crossentropy" in loss_name and output_units > 1:
        return math.log(output_units)
    return None


def symmetry(layer: str, kernel: np.ndarray, bias: np.ndarray | None) -> Finding | None:
    """All units of a layer compute the same function when every column of its kernel (and its bias) is the same:
    their gradients are then the same too, so training can never tell them apart."""
    units = kernel.shape[-1]
    columns = kernel.reshape(-1, units)
    if units < 2 or not np.array_equal(columns[:, 0], columns[:, 1]):  # two units differ: the usual, cheap answer
        return None
    if not np.isfinite(columns).all() or np.ptp(columns, axis=1).max(initial=0.0) > 0 or (
            bias is not None and np.ptp(bias) > 0):
        return None
    value = float(columns[0, 0])
    return Finding("symmetry", f"All {units} units of layer '{layer}' compute the same function (every weight "
                   f"is {value:g}): their gradients are equal, so they stay copies of one unit. Initialize the "
                   "kernel randomly (glorot_uniform, he_normal), not with a constant such as zeros.",
                   {"layer": layer, "units": units, "weight_value": value})


def vanishing(grad_norms: dict[str, float], activations: dict[str, str]) -> Finding | None:
    """A layer whose gradient norm is below 1e-3 × the last layer's: backprop multiplies by each activation's
    slope on the way down (σ' ≤ 1/4), so the early layers barely learn."""
    layers = list(grad_norms)
    if len(layers) < 2 or not grad_norms[layers[-1]] > 0:
        return None
    last = grad_norms[layers[-1]]
    weak = [name for name in layers[:-1] if grad_norms[name] < VANISHING_RATIO * last]
    if not weak:
        return None
    first = weak[0]
    between = [activations[name] for name in layers[layers.index(first):-1] if activations.get(name)]
    kinds = sorted(set(between))
    cause = f" through {len(between)} {'/'.join(kinds)} layers" if between else ""
    advice = (" Use relu (whose slope is 1 where it is active) in the hidden layers, or batch normalization."
              if set(kinds) & {"sigmoid", "tanh"} else " Check the initialization scale of the weights.")
    return Finding("vanishing_gradients",
                   f"Vanishing gradients: layer '{first}' gets a gradient norm {grad_norms[first]:.2e}, "
                   f"{grad_norms[first] / last:.1e} × the last layer's ({last:.2e}){cause}.{advice}",
                   {"layer": first, "grad_norm": grad_norms[first], "last_grad_norm": last,
                    "ratio": grad_norms[first] / last, "layers": weak, "activations": kinds})


def diverging(losses: Sequence[tuple[int, float]], first_loss: float, learning_rate: float | None
              ) -> Finding | None:
    """The loss grew ×10 within 20 steps to above where training began (``first_loss``; a late batch's loss may
    jump ×10 and still be small), or became inf/NaN while climbing: the steps overshoot the minimum (the learning
    rate is too large for this curvature)."""
    if len(losses) < 2:
        return None
    step, now = losses[-1]
    window = [(s, v) for s, v in losses[:-1] if step - s <= DIVERGING_WINDOW and math.isfinite(v)]
    if not window:
        return None
    low_step, low = min(window, key=lambda sv: sv[1])
    if math.isfinite(now) and not (low > 0 and now > DIVERGING_FACTOR * low and now > first_loss):
        return None
    if not math.isfinite(now) and not (low > 0 and window[-1][1] > RISING_FACTOR * low):
        return None  # a sudden inf/NaN, not a climb: the NaN finding says where it came from
    rate = "" if learning_rate is None else f" (now {learning_rate:g})"
    grew = f"grew from {low:.4g} to {now:.4g}" if math.isfinite(now) else f"went from {low:.4g} to {now}"
    return Finding("diverging", f"Training diverges: the loss {grew} between steps {low_step} and {step}. "
                   f"Lower the learning rate{rate}, e.g. by 10×.",
                   {"from_step": low_step, "to_step": step, "from_loss": low, "to_loss": now,
                    "learning_rate": learning_rate})


def dead_relu(layer: str, fraction: float, units: int, bias_mean: float | None, learning_rate: float | None,
              threshold: float = DEAD_FRACTION) -> Finding | None:
    """More than 30% of a layer's ReLU units (at the start; ``threshold`` during training) output 0 for every
    sample: their gradient [z > 0] is 0, so they never recover. A negative bias or a too large learning rate pushes
    z below 0 for all inputs."""
    if fraction <= threshold:
        return None
    if bias_mean is not None and bias_mean < NEGATIVE_BIAS:
        why = f" (the bias averages {bias_mean:.3g}, pushing z = x·w + b below 0 for every input)"
    elif learning_rate is not None:
        why = f" (a step too large, with the learning rate at {learning_rate:g}, can push z below 0 for good)"
    else:
        why = ""
    return Finding("dead_relu", f"{fraction:.0%} of the {units} ReLU units of layer '{layer}' are dead: they output "
                   f"0 for every sample of the batch, so their gradient is 0 and they cannot learn{why}. Start the "
                   "bias at 0 (or small positive), lower the learning rate, or try leaky_relu.",
                   {"layer": layer, "dead_fraction": fraction, "units": units, "bias_mean": bias_mean,
                    "learning_rate": learning_rate})


def saturated(layer: str, fraction: float, activation: str) -> Finding | None:
    """More than 30% of a hidden sigmoid/tanh layer's outputs sit where its slope is below 0.01: backprop
    multiplies by that slope, so those units pass back almost nothing."""
    if fraction <= SATURATED_FRACTION:
        return None
    return Finding("saturated", f"{fraction:.0%} of the outputs of layer '{layer}' ({activation}) are saturated "
                   f"(slope {activation}'(z) < {SATURATION_SLOPE}), so almost no gradient flows through them. Scale "
                   "the inputs, use a smaller initialization, or relu.",
                   {"layer": layer, "saturated_fraction": fraction, "activation": activation})


def initial_loss(loss: float, loss_name: str, output_units: int) -> Finding | None:
    """At initialization a classifier should guess uniformly, so its loss should be near ln C; far from it means
    the outputs start too large (a confident wrong guess) or the loss does not fit the labels."""
    expected = expected_initial_loss(loss_name, output_units)
    if expected is None or not math.isfinite(loss) or expected / INITIAL_LOSS_FACTOR <= loss <= (
            expected * INITIAL_LOSS_FACTOR):
        return None
    return Finding("initial_loss", f"The loss at step 0 is {loss:.4g}, but a uniform guess over {output_units} "
                   f"output{'s' if output_units > 1 else ''} gives ln C = {expected:.4g} ({loss_name}): the outputs "
                   "start too large (scale down the last layer's initialization) or the loss does not match the "
                   "labels.", {"loss": loss, "expected": expected, "loss_name": loss_name})


def wrong_loss(loss_name: str, output_activation: str | None, output_units: int) -> Finding | None:
    """A loss that does not fit the output: binary cross-entropy after a softmax over several classes (it scores
    each class as its own yes/no), or a categorical cross-entropy on a single sigmoid unit (always 0)."""
    if "binary" in loss_name and output_activation == "softmax" and output_units > 1:
        fix = "use categorical_crossentropy (one-hot labels) or sparse_categorical_crossentropy (class indices)"
    elif "categorical" in loss_name and output_units == 1:
        fix = "use binary_crossentropy with a sigmoid output for two classes"
    else:
        return None
    return Finding("wrong_loss", f"The loss {loss_name} does not fit a {output_activation or 'linear'} output of "
                   f"{output_units} unit{'s' if output_units > 1 else ''}: {fix}.",
                   {"loss_name": loss_name, "output_activation": output_activation, "output_units": output_units})


def tiny_updates(ratios: dict[str, float], learning_rate: float | None) -> Finding | None:
    """Every layer's update/weight ratio ‖ΔW‖/‖W‖ below 1e-5: each step moves the weights by a hundred-thousandth,
    so the loss cannot move (a healthy ratio is about 1e-3)."""
    finite = [r for r in ratios.values() if math.isfinite(r)]
    if not finite or not 0 < max(finite) < TINY_UPDATE_RATIO:  # 0: no gradient at all, which is another finding
        return None
    rate = "" if learning_rate is None else f" (now {learning_rate:g})"
    return Finding("learning_rate_too_small", f"The learning rate is too small{rate}: the largest update/weight "
                   f"ratio ‖ΔW‖/‖W‖ is {max(finite):.1e} (about 1e-3 is healthy). Raise it, e.g. by 10×.",
                   {"max_update_ratio": max(finite), "ratios": dict(ratios), "learning_rate": learning_rate})


def label_format(y: np.ndarray, loss_name: str, output_units: int) -> Finding | None:
    """Labels that look one-hot (rows of 0/1 summing to 1) given to a sparse loss, which wants class indices, or
    class indices given to categorical_crossentropy, which wants one-hot rows."""
    y = np.asarray(y)
    if not np.issubdtype(y.dtype, np.number) or y.size == 0:
        return None
    one_hot = y.ndim >= 2 and y.shape[-1] > 1 and np.isin(y, (0, 1)).all() and np.all(y.sum(axis=-1) == 1)
    indices = (y.ndim == 1 or y.shape[-1] == 1) and np.all(y == np.round(y)) and output_units > 1
    if "sparse_categorical" in loss_name and one_hot:
        return Finding("label_format", f"The labels look one-hot (shape {y.shape}, rows of 0/1 summing to 1) but "
                       f"the loss {loss_name} wants class indices: use categorical_crossentropy, or pass "
                       "y.argmax(axis=-1).", {"labels_shape": y.shape, "labels": "one-hot", "loss_name": loss_name})
    if "categorical" in loss_name and "sparse" not in loss_name and indices:
        return Finding("label_format", f"The labels look like class indices (shape {y.shape}) but the loss "
                       f"{loss_name} wants one-hot rows of {output_units}: use sparse_categorical_crossentropy, or "
                       "pass keras.utils.to_categorical(y).",
                       {"labels_shape": y.shape, "labels": "indices", "loss_name": loss_name})
    return None


def unscaled_inputs(x: np.ndarray) -> Finding | None:
    """Features with a standard deviation above 100: z = x·w is then huge for any usual initialization, the
    units saturate or blow up, and one learning rate cannot suit features of such different scales."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer) or x.ndim < 2:
        return None
    stds = x.reshape(len(x), -1).astype(np.float64).std(axis=0)
    worst = int(np.argmax(stds))
    if stds[worst] <= UNSCALED_STD:
        return None
    count = int(np.sum(stds > UNSCALED_STD))
    return Finding("unscaled_inputs", f"The inputs are not scaled: {count} feature{'s' if count > 1 else ''} have a "
                   f"standard deviation above {UNSCALED_STD:g} (feature {worst}: {stds[worst]:.4g}). Standardize "
                   "them ((x − mean) / std, keras.utils.standardize) or divide by their range.",
                   {"feature": worst, "std": float(stds[worst]), "features_over": count})
