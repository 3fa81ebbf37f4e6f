"""Fusions: where one op does the work of several, and why. Each shows in ``model.step_source()`` as its own line,
so the written-out step never hides one.

- ``Affine`` (ops_math): Z = X·W + b, a Dense layer's product and bias add as one op; its backward gives the
  course's three lines at once, dX = dZ·Wᵀ, dW = Xᵀ·dZ and db = Σ dZ.
- ``SigmoidCrossEntropy``, ``SoftmaxCrossEntropy``, ``SparseSoftmaxCrossEntropy`` (ops_nn): a cross-entropy of the
  probabilities A = σ(Z) or softmax(Z) is computed from the logits Z instead, which is stable for any Z and whose
  backward is the course's dZ = A − Y (times the upstream gradient). The model still computes A for its
  predictions; the loss reads Z through :func:`logits_behind`. Sigmoid and Softmax keep the link to their input
  even when no gradient is recorded (``Function.keeps_inputs``), so evaluate computes the same loss as fit.
- ``SquaredError`` (ops_nn): mean squared error per sample, (1/n) Σ (Z − Y)² over the last axis, as one op instead
  of a difference, a square and a mean: its backward is dZ = dL · 2(Z − Y)/n in one line (and a small network's
  step does three ops fewer each way).
"""

from __future__ import annotations

from glassnet.autodiff.ops_nn import Sigmoid, Softmax
from glassnet.autodiff.tensor import Tensor


def logits_behind(y_pred: Tensor, activation: str) -> Tensor | None:
    """The logits z when ``y_pred`` is ``sigmoid(z)`` (``activation="sigmoid"``) or ``softmax(z)`` over its last
    axis (``"softmax"``), else None."""
    op = y_pred.op
    if activation == "sigmoid" and isinstance(op, Sigmoid):
        return op.inputs[0]
    if activation == "softmax" and isinstance(op, Softmax) and op.axis in (-1, y_pred.ndim - 1):
        return op.inputs[0]
    return None
