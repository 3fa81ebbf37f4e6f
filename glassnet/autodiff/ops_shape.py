"""Ops that move values without changing them: reshape, transpose, slicing, concatenate, stack."""

from __future__ import annotations

import numpy as np

from glassnet.autodiff.function import Function


class Reshape(Function):
    """z = x viewed with a new shape.  Backward: dx = dz reshaped back."""

    def __init__(self, shape):
        self.shape = shape

    def forward(self, x):
        self.in_shape = x.shape
        try:
            return x.reshape(self.shape)
        except ValueError:
            raise ValueError(f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} values) "
                             f"into shape {tuple(self.shape)}") from None

    def backward(self, dz):
        return dz.reshape(self.in_shape)


class Transpose(Function):
    """z = x with its axes permuted (reversed by default).  Backward: dx = dz with the inverse permutation."""

    def __init__(self, axes=None):
        self.axes = axes

    def forward(self, x):
        self.perm = tuple(range(x.ndim))[::-1] if self.axes is None else tuple(self.axes)
        return np.transpose(x, self.perm)

    def backward(self, dz):
        return np.transpose(dz, np.argsort(self.perm))


def _is_basic_index(key) -> bool:
    """True for ints, slices, None and Ellipsis (or tuples of them): such an index never repeats an element."""
    items = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice, type(None), type(Ellipsis))) for k in items)


def index_text(key) -> str:
    """An index as Python writes it between brackets: ``:, 3:5``, ``..., 0``; an array of indices as ``[…]``."""
    def item(k) -> str:
        if isinstance(k, slice):
            text = f"{'' if k.start is None else k.start}:{'' if k.stop is None else k.stop}"
            return text if k.step is None else f"{text}:{k.step}"
        if k is Ellipsis:
            return "..."
        return str(k) if k is None or isinstance(k, (int, np.integer)) else "[…]"
    return ", ".join(item(k) for k in (key if isinstance(key, tuple) else (key,)))


class GetItem(Function):
    """z = x[key].  Backward: dx = zeros with dz added at the indexed places (repeated indices add up).

    When x's gradient already holds other paths' sum, the walk adds dz into it instead (``backward_into``, see
    autodiff/fusions.py): work of the slice's size, not x's, for each gate of an LSTM and each of its timesteps.
    """

    into = "dx[key] += dz"  # backward_into's equation
    fresh_gradients = True  # backward's dx is always a new array

    def __init__(self, key):
        self.key = key

    def forward(self, x):
        self.in_shape, self.in_dtype = x.shape, x.dtype
        return x[self.key]

    def equation_terms(self, symbols: dict[str, str]) -> dict[str, str]:
        """The docstring's ``x[key]`` written with this op's own index (``Z[1][:, :100]``), for the step's text."""
        index = index_text(self.key)
        return {"x[key]": f"{symbols['x']}[{index}]", "dx[key]": f"{symbols.get('dx', 'dx')}[{index}]"}

    def backward(self, dz):
        dx = np.zeros(self.in_shape, dtype=dz.dtype)
        if _is_basic_index(self.key):
            dx[self.key] = dz
        else:
            np.add.at(dx, self.key, dz)
        return dx

    def backward_into(self, dx, dz) -> None:
        """dx[key] += dz in place: this path's gradient added to the sum of x's other paths."""
        if _is_basic_index(self.key):
            dx[self.key] += dz
        else:
            np.add.at(dx, self.key, dz)


class Concatenate(Function):
    """z = [x₁, x₂, …] joined along axis.  Backward: dz split back into the pieces."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        self.bounds = np.cumsum([x.shape[self.axis] for x in xs])[:-1]
        return np.concatenate(xs, axis=self.axis)

    def backward(self, dz):
        return tuple(np.split(dz, self.bounds, axis=self.axis))


class Stack(Function):
    """z = [x₁, x₂, …] stacked along a new axis.  Backward: dz taken apart along that axis."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def backward(self, dz):
        return tuple(np.moveaxis(dz, self.axis, 0))


class Pad(Function):
    """z = x with b zeros before and a zeros after each axis.  Backward: dx = dz cut to [b, n − a) on each axis.

    ``pad_width`` is np.pad's ((b₀, a₀), (b₁, a₁), …). The zeros are made inside forward, so a replayed step pads a
    batch of any size (ZeroPadding2D).
    """

    def __init__(self, pad_width):
        self.pad_width = tuple((int(before), int(after)) for before, after in pad_width)

    def forward(self, x):
        return np.pad(x, self.pad_width)

    def backward(self, dz):
        return dz[tuple(slice(before, n - after) for (before, after), n in zip(self.pad_width, dz.shape))]
