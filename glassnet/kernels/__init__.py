"""Kernels: how the math runs fast, kept behind named functions so that the ops state only the math.

An op's backward says *what* it computes (dW = Xᵀ·dZ); a kernel decides *how* (which BLAS layout, which compiled
loop). Nothing here knows about Tensors or graphs: kernels take and return arrays. ``backend.kernels()`` says
which run: the fast ones, or plain NumPy (GLASSNET_KERNELS=numpy), the reference they must match.
"""

from glassnet.kernels.conv import (
    col2im,
    count_windows,
    im2col,
    route_to_max,
    same_padding,
    window_counts,
    window_max,
    window_sum,
)
from glassnet.kernels.elementwise import times_positive
from glassnet.kernels.linalg import sum_rows, times_transposed, transposed_times
from glassnet.kernels.recurrent import (
    gru_gates,
    gru_gates_gradients,
    gru_state,
    gru_state_gradients,
    lstm_cell_state,
    lstm_gates,
    lstm_gates_gradient,
    lstm_output_gradients,
    lstm_state_gradients,
)
from glassnet.kernels.sparse import SparseRows


def is_kernel_array(value) -> bool:
    """Whether ``value`` is an array in a kernel's own layout (SparseRows), read-only and understood by the kernels
    of the ops that meet it: a Tensor holds it as it is instead of converting it to a dense ndarray."""
    return isinstance(value, SparseRows)


__all__ = [
    "SparseRows", "col2im", "count_windows", "gru_gates", "gru_gates_gradients", "gru_state", "gru_state_gradients",
    "im2col", "is_kernel_array", "lstm_cell_state", "lstm_gates",
    "lstm_gates_gradient", "lstm_output_gradients", "lstm_state_gradients", "route_to_max", "same_padding", "sum_rows",
    "times_positive", "times_transposed", "transposed_times", "window_counts", "window_max", "window_sum",
]
