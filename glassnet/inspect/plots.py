"""Plots of training: the loss and metric curves of a History, and a classifier's decision boundary on 2-D data.

matplotlib is optional (``pip install glassnet[plot]``); it is imported only when a plot is drawn.
"""

from __future__ import annotations

import numpy as np


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError("Plotting needs matplotlib, which is not installed. Install the plot extra: "
                          "pip install 'glassnet[plot]'") from None
    return plt


def plot_history(history, ax=None):
    """One curve per metric of ``history`` (a History or its ``.history`` dict); validation curves dashed.
    Returns the matplotlib Axes."""
    plt = _pyplot()
    logs = history.history if hasattr(history, "history") else dict(history)
    if ax is None:
        _, ax = plt.subplots()
    for name, values in logs.items():
        ax.plot(np.arange(1, len(values) + 1), values, linestyle="--" if name.startswith("val_") else "-",
                label=name)
    ax.set_xlabel("epoch")
    ax.legend()
    return ax


def plot_decision_boundary(model, x, y, ax=None, resolution: int = 200):
    """The model's predicted class over the plane around 2-D points ``x`` (shaded), with the points coloured by
    their labels ``y``. Returns the matplotlib Axes."""
    plt = _pyplot()
    x = np.asarray(x)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"plot_decision_boundary expects 2-D points of shape (n, 2), received shape {x.shape}")
    y = np.asarray(y).reshape(len(x), -1)
    labels = y[:, 0] if y.shape[1] == 1 else y.argmax(1)
    lo, hi = x.min(0) - 0.5, x.max(0) + 0.5
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(x.dtype if x.dtype.kind == "f" else "float32")
    predicted = np.asarray(model.predict(grid, verbose=0) if hasattr(model, "predict") else model(grid))
    classes = predicted[:, 0] > 0.5 if predicted.shape[1] == 1 else predicted.argmax(1)
    if ax is None:
        _, ax = plt.subplots()
    ax.contourf(gx, gy, classes.reshape(gx.shape).astype(float), alpha=0.3, cmap="coolwarm")
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap="coolwarm", edgecolors="k", s=15)
    return ax
