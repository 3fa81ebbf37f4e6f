"""Kernels: how the math runs fast, kept behind named functions so that the ops state only the math.

An op's backward says *what* it computes (dW = Xᵀ·dZ); a kernel decides *how* (which BLAS layout, which compiled
loop). Nothing here knows about Tensors or graphs: kernels take and return arrays.
"""

from glassnet.kernels.linalg import sum_rows, times_transposed, transposed_times
from glassnet.kernels.sparse import SparseRows

__all__ = ["SparseRows", "sum_rows", "times_transposed", "transposed_times"]
