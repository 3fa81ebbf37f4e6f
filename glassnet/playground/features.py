"""The playground's input features: X1, X2, X1², X2², X1·X2, sin(X1), sin(X2), computed from the 2-D points.

``EXPRESSIONS`` holds each feature as NumPy code over ``x`` (shape (n, 2)); the session evaluates exactly the code
that "Export as Python" writes, so the two cannot disagree.
"""

from __future__ import annotations

import numpy as np

EXPRESSIONS = {
    "x1": "x[:, 0]",
    "x2": "x[:, 1]",
    "x1_squared": "x[:, 0] ** 2",
    "x2_squared": "x[:, 1] ** 2",
    "x1_x2": "x[:, 0] * x[:, 1]",
    "sin_x1": "np.sin(x[:, 0])",
    "sin_x2": "np.sin(x[:, 1])",
}
LABELS = {"x1": "X₁", "x2": "X₂", "x1_squared": "X₁²", "x2_squared": "X₂²", "x1_x2": "X₁X₂",
          "sin_x1": "sin(X₁)", "sin_x2": "sin(X₂)"}


def code(names: list[str]) -> str:
    """The NumPy expression that stacks the chosen features as columns (what export writes)."""
    return "np.column_stack([" + ", ".join(EXPRESSIONS[n] for n in names) + "])"


def compute(x: np.ndarray, names: list[str]) -> np.ndarray:
    """The feature matrix (n, len(names)) of points ``x`` (n, 2), float32."""
    return eval(code(names), {"np": np}, {"x": x}).astype(np.float32)  # noqa: S307 - our own fixed expressions


def grid(resolution: int, extent: float = 6.0) -> np.ndarray:
    """Points (resolution², 2) at the centres of a resolution × resolution grid over [−extent, extent]², row by row
    from the top (x₂ = +extent) so that row 0 of the picture is its top."""
    step = 2 * extent / resolution
    centres = -extent + step * (np.arange(resolution) + 0.5)
    x1, x2 = np.meshgrid(centres, centres[::-1])
    return np.column_stack([x1.ravel(), x2.ravel()]).astype(np.float32)
