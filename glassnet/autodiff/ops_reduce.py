"""Reductions (sum, mean, max, logsumexp) with ``axis`` and ``keepdims``, each with its backward rule."""

from __future__ import annotations

import math

import numpy as np

from glassnet.autodiff.function import Function


def _normalize_axis(axis, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    out = []
    for a in axes:
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
        out.append(int(a) % max(ndim, 1))
    return tuple(sorted(out))


class _Reduction(Function):
    """Shared part of the reductions: the normalized axes, and re-expanding a gradient to the input's shape."""

    def __init__(self, axis=None, keepdims: bool = False):
        self.axis, self.keepdims = axis, keepdims

    def _setup(self, x):
        if x.shape == getattr(self, "in_shape", None):  # a replayed plan: same shape as last time
            return
        self.axes = _normalize_axis(self.axis, x.ndim)
        self.in_shape = x.shape
        self.kept_shape = tuple(1 if i in self.axes else n for i, n in enumerate(x.shape))
        self.count = math.prod(x.shape[a] for a in self.axes)  # how many entries each output reduces

    def _expand(self, g):
        """dz reshaped so it broadcasts against the input (the reduced axes put back as size 1)."""
        return g.reshape(self.kept_shape)

    def _spread(self, g):
        """dz copied to every input position it was reduced from."""
        out = np.empty(self.in_shape, dtype=g.dtype)
        out[...] = g.reshape(self.kept_shape)
        return out


class Sum(_Reduction):
    """z = Σ x over axis.  Backward: dx = dz broadcast back over the summed axes."""

    def forward(self, x):
        self._setup(x)
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, dz):
        return self._spread(dz)


class Mean(_Reduction):
    """z = (1/n) Σ x over axis.  Backward: dx = dz / n broadcast back."""

    def forward(self, x):
        self._setup(x)
        return np.add.reduce(x, axis=self.axes, keepdims=self.keepdims) / x.dtype.type(self.count)

    def backward(self, dz):
        return self._spread(dz / self.count)


class Max(_Reduction):
    """z = max x over axis.  Backward: dz goes to the maximal entries (split evenly among ties)."""

    def forward(self, x):
        self._setup(x)
        z = np.max(x, axis=self.axes, keepdims=True)
        self.save_for_backward(x == z)
        return z if self.keepdims else np.squeeze(z, axis=self.axes)

    def backward(self, dz):
        (is_max,) = self.saved
        return self._expand(dz) * is_max / is_max.sum(axis=self.axes, keepdims=True)


class LogSumExp(_Reduction):
    """z = ln Σ eˣ over axis, computed as m + ln Σ e^(x−m) so it never overflows.  Backward: dx = dz · softmax(x)."""

    def forward(self, x):
        self._setup(x)
        m = np.max(x, axis=self.axes, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)
        e = np.exp(x - m)
        s = np.sum(e, axis=self.axes, keepdims=True)
        self.save_for_backward(e / s)
        z = m + np.log(s)
        return z if self.keepdims else np.squeeze(z, axis=self.axes)

    def backward(self, dz):
        (softmax,) = self.saved
        return self._expand(dz) * softmax


class Prod(_Reduction):
    """z = Π x over axis.  Backward: dx = dz · Π x over the other entries of the same product (zeros allowed)."""

    def forward(self, x):
        self._setup(x)
        self.save_for_backward(x)
        return np.prod(x, axis=self.axes, keepdims=self.keepdims)

    def backward(self, dz):
        (x,) = self.saved
        perm = [a for a in range(x.ndim) if a not in self.axes] + list(self.axes)  # reduced axes last, as one
        flat = np.transpose(x, perm).reshape(*(x.shape[a] for a in perm[:x.ndim - len(self.axes)]), -1)
        ones = np.ones_like(flat[..., :1])
        before = np.cumprod(np.concatenate([ones, flat[..., :-1]], axis=-1), axis=-1)  # Π of the entries before
        after = np.cumprod(np.concatenate([ones, flat[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]  # and after
        others = (before * after).reshape([x.shape[a] for a in perm]).transpose(np.argsort(perm))
        return self._expand(dz) * others


class CumSum(Function):
    """z = running sum of x along axis, zᵢ = Σ_{j≤i} xⱼ.  Backward: dxᵢ = Σ_{j≥i} dzⱼ (the running sum reversed)."""

    def __init__(self, axis: int = 0):
        self.axis = axis

    def forward(self, x):
        return np.cumsum(x, axis=self.axis)

    def backward(self, dz):
        return np.flip(np.cumsum(np.flip(dz, self.axis), axis=self.axis), self.axis)
