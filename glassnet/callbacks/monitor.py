"""Which way a monitored quantity should go (down for losses and errors, up for accuracies), shared by the
callbacks that watch one: EarlyStopping, ReduceLROnPlateau, ModelCheckpoint."""

from __future__ import annotations

import math
import warnings

_MODES = ("auto", "min", "max")
_UP = ("acc", "accuracy", "auc", "precision", "recall", "fmeasure", "f1_score")
_DOWN = ("loss", "mae", "mse", "rmse", "error", "crossentropy", "hinge", "huber", "logcosh")


def check_mode(mode: str, owner: str) -> str:
    if mode not in _MODES:
        raise ValueError(f"{owner} expects mode to be one of {_MODES}, received mode={mode!r}")
    return mode


def higher_is_better(monitor: str, mode: str, owner: str) -> bool:
    """True if larger values of ``monitor`` are improvements: from ``mode``, or (mode='auto') from its name."""
    if mode != "auto":
        return mode == "max"
    name = monitor[4:] if monitor.startswith("val_") else monitor
    if name.endswith(_UP):
        return True
    if name.endswith(_DOWN) or name.startswith(("mean_", "root_mean")):
        return False
    raise ValueError(
        f"{owner} received monitor={monitor!r} but cannot tell whether that quantity should be maximized or "
        "minimized. Pass mode='max' to treat the highest value as best, or mode='min' for the lowest."
    )


def worst_value(maximize: bool) -> float:
    """The starting "best so far", which any value improves on: −∞ when maximizing, +∞ when minimizing."""
    return -math.inf if maximize else math.inf


def improves(value: float, reference: float, maximize: bool, min_delta: float = 0.0) -> bool:
    """``value`` beats ``reference`` by more than ``min_delta``, in the monitored direction."""
    if maximize:
        return value - min_delta > reference
    return value + min_delta < reference


def monitored_value(logs: dict | None, monitor: str, owner: str) -> float | None:
    """``logs[monitor]``, or None with a warning naming the quantities that are available."""
    logs = logs or {}
    value = logs.get(monitor)
    if value is None:
        warnings.warn(
            f"{owner} is conditioned on metric `{monitor}` which is not available. "
            f"Available metrics are: {','.join(logs)}",
            stacklevel=3,
        )
        return None
    return float(value)
