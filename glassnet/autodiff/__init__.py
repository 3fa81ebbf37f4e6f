"""glassnet's reverse-mode autodiff: immutable Tensors, trainable Variables, ops with one backward rule each.

Public names: Tensor, Variable, no_grad, is_grad_enabled, Function (write your own op), gradcheck.
"""

from glassnet.autodiff.function import Function, unbroadcast
from glassnet.autodiff.gradcheck import GradcheckError, GradcheckResult, gradcheck
from glassnet.autodiff.graph import FreedGraphError, backward, topological_order
from glassnet.autodiff.tensor import ImmutableTensorError, Tensor, Variable, as_tensor, is_grad_enabled, no_grad

from glassnet import ops as _ops  # noqa: F401,E402  (attaches the Python operators to Tensor)

__all__ = [
    "Function", "FreedGraphError", "GradcheckError", "GradcheckResult", "ImmutableTensorError", "Tensor",
    "Variable", "as_tensor", "backward", "gradcheck", "is_grad_enabled", "no_grad", "topological_order",
    "unbroadcast",
]
