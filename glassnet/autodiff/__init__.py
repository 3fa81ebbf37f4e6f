"""glassnet's reverse-mode autodiff: immutable Tensors, trainable Variables, ops with one backward rule each.

Public names: Tensor, Variable, no_grad, is_grad_enabled, Function (write your own op), gradcheck, SparseRows
(a mostly-zero input stored by rows).
"""

from glassnet import ops as _ops  # noqa: F401,E402  (attaches the Python operators to Tensor)
from glassnet.autodiff.function import Function, unbroadcast
from glassnet.autodiff.gradcheck import GradcheckError, GradcheckResult, gradcheck
from glassnet.autodiff.graph import FreedGraphError, backward, topological_order
from glassnet.autodiff.sparse import SparseRows
from glassnet.autodiff.tensor import (
    ImmutableTensorError,
    Tensor,
    Variable,
    as_tensor,
    current_scope,
    is_grad_enabled,
    name_scope,
    no_grad,
    record,
)

__all__ = [
    "Function", "FreedGraphError", "GradcheckError", "GradcheckResult", "ImmutableTensorError", "SparseRows", "Tensor",
    "Variable", "as_tensor", "backward", "current_scope", "gradcheck", "is_grad_enabled", "name_scope", "no_grad",
    "record", "topological_order", "unbroadcast",
]
