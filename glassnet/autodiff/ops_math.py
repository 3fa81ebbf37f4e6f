"""Elementwise arithmetic and matrix multiplication, each with its backward rule.

Gradients are written for the broadcast output shape; Function.apply's caller (graph.backward) sums them back
to each input's shape, so no rule here deals with broadcasting.
"""

from __future__ import annotations

import numpy as np

from glassnet import kernels
from glassnet.autodiff.function import Function


class Add(Function):
    """z = x + y.  Backward: dx = dz, dy = dz."""

    def forward(self, x, y):
        return x + y

    def backward(self, dz):
        return dz, dz


class Sub(Function):
    """z = x − y.  Backward: dx = dz, dy = −dz."""

    def forward(self, x, y):
        return x - y

    def backward(self, dz):
        return dz, -dz


class Mul(Function):
    """z = x · y (elementwise).  Backward: dx = dz · y, dy = dz · x."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x * y

    def backward(self, dz):
        x, y = self.saved
        return dz * y, dz * x


class Div(Function):
    """z = x / y.  Backward: dx = dz / y, dy = −dz · x / y²."""

    def forward(self, x, y):
        self.save_for_backward(x, y)
        return x / y

    def backward(self, dz):
        x, y = self.saved
        dx = dz / y
        return dx, (-dx * x / y if self.needs_input_grad[1] else None)


class Neg(Function):
    """z = −x.  Backward: dx = −dz."""

    def forward(self, x):
        return -x

    def backward(self, dz):
        return -dz


class Pow(Function):
    """z = x^p.  Backward: dx = dz · p · x^(p−1), dp = dz · z · ln x (only where x > 0)."""

    def forward(self, x, p):
        z = x**p
        self.save_for_backward(x, p, z)
        return z

    def backward(self, dz):
        x, p, z = self.saved
        dx = dz * p * x ** (p - 1) if self.needs_input_grad[0] else None
        if not self.needs_input_grad[1]:
            return dx, None
        safe_log = np.log(np.where(x > 0, x, 1))
        return dx, dz * z * safe_log


class Exp(Function):
    """z = eˣ.  Backward: dx = dz · z."""

    def forward(self, x):
        z = np.exp(x)
        self.save_for_backward(z)
        return z

    def backward(self, dz):
        (z,) = self.saved
        return dz * z


class Log(Function):
    """z = ln x.  Backward: dx = dz / x."""

    def forward(self, x):
        self.save_for_backward(x)
        return np.log(x)

    def backward(self, dz):
        (x,) = self.saved
        return dz / x


class Sqrt(Function):
    """z = √x.  Backward: dx = dz / (2z)."""

    def forward(self, x):
        z = np.sqrt(x)
        self.save_for_backward(z)
        return z

    def backward(self, dz):
        (z,) = self.saved
        return dz / (2 * z)


class Square(Function):
    """z = x².  Backward: dx = dz · 2x."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, dz):
        (x,) = self.saved
        return dz * 2 * x


class Abs(Function):
    """z = |x|.  Backward: dx = dz · sign(x) (0 at x = 0)."""

    def forward(self, x):
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, dz):
        (x,) = self.saved
        return dz * np.sign(x)


class Maximum(Function):
    """z = max(x, y) elementwise.  Backward: the gradient goes to the larger input (to x on ties)."""

    def forward(self, x, y):
        x_wins = x >= y
        self.save_for_backward(x_wins)
        return np.where(x_wins, x, y)

    def backward(self, dz):
        (x_wins,) = self.saved
        return dz * x_wins, dz * ~x_wins


class Minimum(Function):
    """z = min(x, y) elementwise.  Backward: the gradient goes to the smaller input (to x on ties)."""

    def forward(self, x, y):
        x_wins = x <= y
        self.save_for_backward(x_wins)
        return np.where(x_wins, x, y)

    def backward(self, dz):
        (x_wins,) = self.saved
        return dz * x_wins, dz * ~x_wins


class Cast(Function):
    """z = x converted to another dtype.  Backward: dx = dz converted back to x's dtype."""

    def __init__(self, dtype):
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.in_dtype = x.dtype
        return x.astype(self.dtype, copy=False)

    def backward(self, dz):
        return dz.astype(self.in_dtype, copy=False)


class OneHot(Function):
    """z[i, k] = 1 if label[i] = k else 0.  Backward: none (labels are data)."""

    def __init__(self, num_classes: int, dtype):
        self.num_classes, self.dtype = num_classes, np.dtype(dtype)

    def forward(self, labels):
        return np.eye(self.num_classes, dtype=self.dtype)[labels.astype(np.intp, copy=False)]

    def backward(self, dz):
        return None


class Compare(Function):
    """z = x < y (or ≤, >, ≥) elementwise, a boolean mask.  Backward: none (a comparison has no gradient).

    Recorded like any op so that a replayed step recomputes the mask from new data instead of freezing it."""

    def __init__(self, ufunc):
        self.ufunc = ufunc

    def forward(self, x, y):
        return self.ufunc(x, y)

    def backward(self, dz):
        return None, None


class Where(Function):
    """z = x where condition else y.  Backward: dx = dz where condition, dy = dz elsewhere (none to condition)."""

    def forward(self, condition, x, y):
        self.save_for_backward(condition)
        return np.where(condition, x, y)

    def backward(self, dz):
        (condition,) = self.saved
        zero = np.zeros((), dtype=dz.dtype)
        return None, np.where(condition, dz, zero), np.where(condition, zero, dz)


class Clip(Function):
    """z = min(max(x, lo), hi).  Backward: dx = dz inside [lo, hi], 0 where the value was clipped."""

    def __init__(self, lo, hi):
        self.lo, self.hi = lo, hi

    def forward(self, x):
        inside = (x >= self.lo) & (x <= self.hi)
        self.save_for_backward(inside)
        return np.clip(x, self.lo, self.hi)

    def backward(self, dz):
        (inside,) = self.saved
        return dz * inside


class MatMul(Function):
    """Z = X·W.  Backward: dX = dZ·Wᵀ, dW = Xᵀ·dZ (a vector is a one-row X or a one-column W)."""

    def forward(self, x, w):
        self.save_for_backward(x, w)
        return _matmul(x, w)

    def backward(self, dz):
        x, w = self.saved
        x2, w2 = (x[None, :] if x.ndim == 1 else x), (w[:, None] if w.ndim == 1 else w)
        dz2 = dz.reshape(*np.broadcast_shapes(x2.shape[:-2], w2.shape[:-2]), x2.shape[-2], w2.shape[-1])
        dx = kernels.times_transposed(dz2, w2) if self.needs_input_grad[0] else None
        dw = kernels.transposed_times(x2, dz2, batched=w2.ndim > 2) if self.needs_input_grad[1] else None
        dx = dx[..., 0, :] if x.ndim == 1 and dx is not None else dx
        return dx, (dw[..., 0] if w.ndim == 1 and dw is not None else dw)


class Affine(Function):
    """Z = X·W + b.  Backward: dX = dZ·Wᵀ, dW = Xᵀ·dZ, db = Σ dZ (a dense layer: the bias add fused into the
    product, so its three gradients are the course's three lines; any batch axes of X are summed like samples)."""

    def forward(self, x, w, b):
        self.save_for_backward(x, w)
        z = _matmul(x, w)
        in_place = isinstance(z, np.ndarray) and z.shape[z.ndim - b.ndim:] == b.shape and z.dtype == b.dtype
        return np.add(z, b, out=z) if in_place else z + b  # in place: a sequence's x·W is one 13 MB array

    def backward(self, dz):
        x, w = self.saved
        dx = kernels.times_transposed(dz, w) if self.needs_input_grad[0] else None
        dw = kernels.transposed_times(x, dz) if self.needs_input_grad[1] else None
        return dx, dw, (kernels.sum_rows(dz) if self.needs_input_grad[2] else None)


class AddMatMul(Function):
    """z = c + x·w.  Backward: dc = dz, dx = dz·wᵀ, dw = xᵀ·dz.

    A recurrent step's input part plus its recurrent term, z⟨t⟩ = xW⟨t⟩ + h⟨t−1⟩·U, as one op: c is added into the
    product's output, so no h·U array is made and no addition runs as an op of its own.
    """

    def forward(self, c, x, w):
        self.save_for_backward(x, w)
        z = _matmul(x, w)
        in_place = isinstance(z, np.ndarray) and z.shape[z.ndim - c.ndim:] == c.shape and z.dtype == c.dtype
        return np.add(c, z, out=z) if in_place else c + z

    def backward(self, dz):
        x, w = self.saved
        dx = kernels.times_transposed(dz, w) if self.needs_input_grad[1] else None
        dw = kernels.transposed_times(x, dz) if self.needs_input_grad[2] else None
        return dz, dx, dw


def _matmul(x, w) -> np.ndarray:
    """x @ w, with an error that names both shapes when they do not align."""
    try:
        return x @ w
    except ValueError:
        raise ValueError(
            f"matmul: shapes {x.shape} and {w.shape} are not aligned: the last dimension of the first "
            f"({x.shape[-1] if x.ndim else 'scalar'}) must equal the "
            f"{'second-to-last' if w.ndim > 1 else 'only'} dimension of the second"
        ) from None


class Einsum(Function):
    """z = einsum(subscripts, x₁, x₂, …), a sum of products over the letters missing from the output.  Backward:
    dxᵢ = einsum(dz, the other inputs → xᵢ's letters), with ones for the letters only xᵢ has.

    ``subscripts`` is explicit ('ij,jk->ik'), without '...' and without a letter repeated in one operand.
    """

    def __init__(self, subscripts: str, operands: list[str], result: str):
        self.subscripts, self.operands, self.result = subscripts, operands, result  # letters of each

    def forward(self, *xs):
        self.save_for_backward(*xs)
        return np.einsum(self.subscripts, *xs)

    def backward(self, dz):
        sizes = {c: n for letters, x in zip(self.operands, self.saved) for c, n in zip(letters, x.shape)}
        grads = []
        for i, letters in enumerate(self.operands):
            others = [(t, x) for j, (t, x) in enumerate(zip(self.operands, self.saved)) if j != i]
            alone = "".join(c for c in letters if c not in set(self.result).union(*(t for t, _ in others)))
            spec = ",".join([self.result, *(t for t, _ in others)] + ([alone] if alone else [])) + "->" + letters
            ones = [np.ones([sizes[c] for c in alone], dz.dtype)] if alone else []
            grads.append(np.einsum(spec, dz, *(x for _, x in others), *ones) if self.needs_input_grad[i] else None)
        return tuple(grads)
