"""glassnet's reverse-mode autodiff: immutable Tensors, trainable Variables, ops with one backward rule each.

Public names: Tensor, Variable, no_grad, is_grad_enabled, Function (write your own op), gradcheck, and
stable_sigmoid (the NumPy σ behind the sigmoid op, for code that works on arrays, as the metrics do).

The Python operators on Tensor (``+ - * / ** @``, ``[]``, ``.sum()``, ...) are attached by :mod:`glassnet.ops`, the
functional API one tier above this package; ``glassnet/__init__.py`` imports it first, and every import of a glassnet
module runs that file first, so ``from glassnet.autodiff import Tensor`` alone finds them. Nothing in this package
imports ``glassnet.ops``.
"""

from glassnet.autodiff.function import Function
from glassnet.autodiff.gradcheck import GradcheckError, GradcheckResult, gradcheck
from glassnet.autodiff.graph import FreedGraphError, backward, topological_order, unbroadcast
from glassnet.autodiff.ops_nn import stable_sigmoid
from glassnet.autodiff.tensor import (
    ImmutableTensorError,
    Tensor,
    Variable,
    WeightChanges,
    as_tensor,
    current_scope,
    is_grad_enabled,
    name_scope,
    no_grad,
    record,
)

__all__ = [
    "Function", "FreedGraphError", "GradcheckError", "GradcheckResult", "ImmutableTensorError", "Tensor",
    "Variable", "WeightChanges", "as_tensor", "backward", "current_scope", "gradcheck", "is_grad_enabled",
    "name_scope", "no_grad", "record", "stable_sigmoid", "topological_order", "unbroadcast",
]
