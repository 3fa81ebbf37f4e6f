"""glassnet: a Keras-compatible neural-network library on a NumPy autodiff engine you can see through."""

__version__ = "0.1.0"

from glassnet import autodiff, backend, ops  # noqa: E402
from glassnet.autodiff import Tensor, Variable, no_grad  # noqa: E402

__all__ = ["Tensor", "Variable", "autodiff", "backend", "no_grad", "ops"]
