"""The functional API of the engine, like ``keras.ops``: every differentiable op as a function on Tensors.

Arguments may be Tensors, NumPy arrays or Python numbers. A custom activation written from these functions is
differentiated automatically: ``lambda z: ops.multiply(z, ops.sigmoid(z))`` needs no backward of its own.
Python operators on Tensors (``+ - * / ** @``, unary ``-``, ``abs``, ``[]``) call the same ops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet import backend
from glassnet.autodiff import fusions
from glassnet.autodiff import ops_conv as cv
from glassnet.autodiff import ops_math as m
from glassnet.autodiff import ops_nn as nn
from glassnet.autodiff import ops_reduce as r
from glassnet.autodiff import ops_shape as s
from glassnet.autodiff.tensor import Tensor, as_tensor
from glassnet.keras_names import missing_attribute

convert_to_tensor = as_tensor


# ----- conversions and new tensors (no gradient) ------------------------------------------------------------
def convert_to_numpy(x) -> np.ndarray:
    """keras.ops.convert_to_numpy: the value of x as a NumPy array (a writable copy)."""
    return np.array(x.numpy() if isinstance(x, Tensor) else x)


def shape(x) -> tuple[int, ...]:
    """keras.ops.shape: the shape of x as a tuple of ints."""
    return tuple(int(n) for n in (x.shape if hasattr(x, "shape") else np.shape(x)))


def _new_shape(shape, what: str) -> tuple[int, ...]:
    """A shape argument as a tuple of non-negative ints, or an error naming what was received."""
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in dims):
        raise ValueError(f"{what} expects a shape of non-negative integers, received shape={shape!r}")
    return tuple(int(n) for n in dims)


def _dtype_of(x) -> np.dtype:
    """The dtype Keras keeps for a ``*_like`` op: a Tensor's or array's own, else the one as_tensor gives."""
    return x.dtype if isinstance(x, (Tensor, np.ndarray, np.generic)) else as_tensor(x).dtype


def _constant(value, dtype) -> Tensor:
    return Tensor(value, dtype=dtype)


def full(shape, fill_value, dtype=None) -> Tensor:
    """keras.ops.full: a new tensor of ``shape`` filled with fill_value (dtype: floatx unless given)."""
    return _constant(np.full(_new_shape(shape, "full"), fill_value), dtype or backend.floatx())


def zeros(shape, dtype=None) -> Tensor:
    """keras.ops.zeros: a new tensor of ``shape`` filled with 0 (dtype: floatx unless given)."""
    return _constant(np.zeros(_new_shape(shape, "zeros")), dtype or backend.floatx())


def ones(shape, dtype=None) -> Tensor:
    """keras.ops.ones: a new tensor of ``shape`` filled with 1 (dtype: floatx unless given)."""
    return _constant(np.ones(_new_shape(shape, "ones")), dtype or backend.floatx())


def full_like(x, fill_value, dtype=None) -> Tensor:
    """keras.ops.full_like: a tensor of x's shape filled with fill_value, of x's dtype unless given."""
    return _constant(np.full(shape(x), fill_value), dtype or _dtype_of(x))


def zeros_like(x, dtype=None) -> Tensor:
    """keras.ops.zeros_like: zeros of x's shape, of x's dtype unless given."""
    return full_like(x, 0, dtype)


def ones_like(x, dtype=None) -> Tensor:
    """keras.ops.ones_like: ones of x's shape, of x's dtype unless given."""
    return full_like(x, 1, dtype)


def arange(start, stop=None, step=None, dtype=None) -> Tensor:
    """keras.ops.arange: evenly spaced values in [start, stop); int32 when every argument is an int, else floatx."""
    if step == 0:
        raise ValueError(f"arange expects a nonzero step, received step={step!r}")
    bounds = [v for v in (start, stop, step) if v is not None]
    if dtype is None:
        integral = all(isinstance(v, (int, np.integer)) for v in bounds)
        dtype = "int32" if integral else backend.floatx()
    start, stop = (0, start) if stop is None else (start, stop)
    return _constant(np.arange(start, stop, 1 if step is None else step), dtype)


def eye(N: int, M: int | None = None, k: int = 0, dtype=None) -> Tensor:  # noqa: N803 - Keras's names
    """keras.ops.eye: an N × M matrix with ones on the k-th diagonal (dtype: floatx unless given)."""
    for name, value in (("N", N), ("M", N if M is None else M)):
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise ValueError(f"eye expects a non-negative integer {name}, received {name}={value!r}")
    return _constant(np.eye(N, M, k), dtype or backend.floatx())


# ----- elementwise arithmetic ----------------------------------------------------------------------------------
def add(x, y) -> Tensor:
    """x + y (broadcasting)."""
    return m.Add.apply(x, y)


def subtract(x, y) -> Tensor:
    """x − y (broadcasting)."""
    return m.Sub.apply(x, y)


def multiply(x, y) -> Tensor:
    """x · y elementwise (broadcasting)."""
    return m.Mul.apply(x, y)


def divide(x, y) -> Tensor:
    """x / y elementwise (broadcasting)."""
    return m.Div.apply(x, y)


def negative(x) -> Tensor:
    """−x."""
    return m.Neg.apply(x)


def power(x, p) -> Tensor:
    """x ** p elementwise; p may be a number or a tensor."""
    return m.Pow.apply(x, p)


def matmul(x, w) -> Tensor:
    """x · w, matrix product (NumPy's ``@`` semantics)."""
    return m.MatMul.apply(x, w)


def affine(x, w, b) -> Tensor:
    """x · w + b, a dense layer's pre-activation as one op (its backward gives dX, dW and db = Σ dZ)."""
    return m.Affine.apply(x, w, b)


def add_matmul(c, x, w) -> Tensor:
    """c + x · w as one op: a recurrent step's input part plus its recurrent term (backward: dc = dz, dx, dw)."""
    return m.AddMatMul.apply(c, x, w)


def dot(x1, x2) -> Tensor:
    """keras.ops.dot (NumPy's dot): x1 · x2, summing x1's last axis with x2's second-to-last (or only) axis."""
    x1, x2 = as_tensor(x1), as_tensor(x2)
    if x1.ndim == 0 or x2.ndim == 0:
        return multiply(x1, x2)
    if x2.ndim <= 2:
        return matmul(x1, x2)
    if x1.shape[-1] != x2.shape[-2]:
        raise ValueError(f"dot: x1's last axis ({x1.shape[-1]}) must match x2's second-to-last axis "
                         f"({x2.shape[-2]}), received shapes {x1.shape} and {x2.shape}")
    perm = (x2.ndim - 2, *range(x2.ndim - 2), x2.ndim - 1)  # the summed axis first, the rest flattened
    flat = reshape(transpose(x2, perm), (x2.shape[-2], -1))
    return reshape(matmul(x1, flat), x1.shape[:-1] + x2.shape[:-2] + x2.shape[-1:])


def einsum(subscripts: str, *operands) -> Tensor:
    """keras.ops.einsum: the sum of products named by subscripts ('ij,jk->ik'); no '...' or repeated letters."""
    spec = subscripts.replace(" ", "")
    lhs, arrow, output = spec.partition("->")
    inputs = lhs.split(",")
    if not arrow:
        output = "".join(sorted(c for c in set(lhs) - {","} if lhs.count(c) == 1))
    if "." in spec or any(len(set(t)) != len(t) for t in inputs):
        raise NotImplementedError(f"einsum: glassnet takes subscripts without '...' and without a letter repeated "
                                  f"within one operand, received {subscripts!r}")
    if len(inputs) != len(operands):
        raise ValueError(f"einsum: the subscripts {subscripts!r} name {len(inputs)} operands, received "
                         f"{len(operands)}")
    tensors = [as_tensor(x) for x in operands]
    for letters, t in zip(inputs, tensors):
        if len(letters) != t.ndim:
            raise ValueError(f"einsum: subscripts {letters!r} for an operand of shape {t.shape}, in {subscripts!r}")
    return m.Einsum.apply(*tensors, subscripts=f"{lhs}->{output}", operands=inputs, result=output)


def exp(x) -> Tensor:
    return m.Exp.apply(x)


def log(x) -> Tensor:
    return m.Log.apply(x)


def sqrt(x) -> Tensor:
    return m.Sqrt.apply(x)


def square(x) -> Tensor:
    return m.Square.apply(x)


def abs(x) -> Tensor:  # noqa: A001 - mirrors keras.ops.abs
    return m.Abs.apply(x)


def maximum(x, y) -> Tensor:
    return m.Maximum.apply(x, y)


def minimum(x, y) -> Tensor:
    return m.Minimum.apply(x, y)


def where(condition, x=None, y=None):
    """x where condition is true, else y; the condition is not differentiated. Without x and y: the indices where
    the condition holds, one int64 Tensor per axis (as ``np.nonzero``)."""
    if (x is None) != (y is None):
        raise ValueError("`x1` and `x2` either both should be `None` or both should have non-None value.")
    if x is None:
        found = np.nonzero(condition.numpy() if isinstance(condition, Tensor) else np.asarray(condition))
        return tuple(_constant(index, "int64") for index in found)
    if not isinstance(condition, Tensor):
        condition = Tensor._from_op(np.asarray(condition, dtype=bool), None)
    return m.Where.apply(condition, x, y)


def cast(x, dtype) -> Tensor:
    """x converted to ``dtype`` (recorded, so a replayed step converts new data too)."""
    x = as_tensor(x)
    return x if x.dtype == np.dtype(dtype) else m.Cast.apply(x, dtype=dtype)


def one_hot(labels, num_classes: int, dtype="float32") -> Tensor:
    """Integer labels as one-hot rows (no gradient)."""
    return m.OneHot.apply(labels, num_classes=num_classes, dtype=dtype)


def clip(x, x_min, x_max) -> Tensor:
    """x limited to [x_min, x_max]; no gradient flows where the value was clipped."""
    return m.Clip.apply(x, lo=x_min, hi=x_max)


# ----- reductions ----------------------------------------------------------------------------------------------
def sum(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors keras.ops.sum
    return r.Sum.apply(x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims: bool = False) -> Tensor:
    return r.Mean.apply(x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors keras.ops.max
    return r.Max.apply(x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001 - mirrors keras.ops.min
    """min x = −max(−x)."""
    return negative(max(negative(x), axis=axis, keepdims=keepdims))


def prod(x, axis=None, keepdims: bool = False, dtype=None) -> Tensor:
    """keras.ops.prod: the product of x's entries over axis (all by default)."""
    x = as_tensor(x) if dtype is None else cast(x, dtype)
    return r.Prod.apply(x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims: bool = False) -> Tensor:
    """keras.ops.var: the (population) variance over axis, mean((x − mean x)²)."""
    x = as_tensor(x)
    return mean(square(subtract(x, mean(x, axis=axis, keepdims=True))), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims: bool = False) -> Tensor:
    """keras.ops.std: the (population) standard deviation over axis, √var."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def cumsum(x, axis=None, dtype=None) -> Tensor:
    """keras.ops.cumsum: the running sum along axis (over the flattened tensor when axis is None)."""
    x = as_tensor(x) if dtype is None else cast(x, dtype)
    if axis is None:
        return r.CumSum.apply(reshape(x, -1), axis=0)
    return r.CumSum.apply(x, axis=_axis(axis, x.ndim, "cumsum"))


def _vector_norm(x: Tensor, ord, axis, keepdims: bool) -> Tensor:  # noqa: A002 - NumPy's name
    if ord is None or ord == 2:
        return sqrt(sum(square(x), axis=axis, keepdims=keepdims))
    if ord == np.inf:
        return max(abs(x), axis=axis, keepdims=keepdims)
    if ord == -np.inf:
        return min(abs(x), axis=axis, keepdims=keepdims)
    if ord == 0:
        return sum(cast(x.numpy() != 0, x.dtype), axis=axis, keepdims=keepdims)
    if ord == 1:
        return sum(abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, str):
        raise ValueError(f"norm: ord={ord!r} is a matrix norm and needs a 2-d x or two axes, received axis={axis!r}")
    return power(sum(power(abs(x), float(ord)), axis=axis, keepdims=keepdims), 1.0 / ord)


def _matrix_norm(x: Tensor, ord, axes: tuple[int, int], keepdims: bool) -> Tensor:  # noqa: A002 - NumPy's name
    rows, cols = axes
    if ord is None or ord == "fro":
        return sqrt(sum(square(x), axis=axes, keepdims=keepdims))
    if ord in (1, -1, np.inf, -np.inf):  # 1: the largest column sum of |x|; inf: the largest row sum
        summed, over = (rows, cols) if ord in (1, -1) else (cols, rows)
        pick = max if ord in (1, np.inf) else min
        out = pick(sum(abs(x), axis=summed, keepdims=True), axis=over, keepdims=True)
        return out if keepdims else squeeze(out, axis=axes)
    raise NotImplementedError(f"norm: glassnet has the matrix norms None, 'fro', 1, -1, inf and -inf; received "
                              f"ord={ord!r} (the singular-value norms 2, -2 and 'nuc' are not implemented)")


def norm(x, ord=None, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A002 - mirrors keras.ops.norm
    """keras.ops.norm (NumPy's linalg.norm): a vector norm over one axis, a matrix norm over two axes."""
    x = as_tensor(x)
    if axis is None:
        if ord is None:
            return sqrt(sum(square(x), axis=None, keepdims=keepdims))
        if x.ndim not in (1, 2):
            raise ValueError(f"norm with ord={ord!r} and axis=None expects a 1-d or 2-d x, received shape {x.shape}")
        axis = tuple(range(x.ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    axes = tuple(_axis(a, x.ndim, "norm") for a in axes)
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2 and axes[0] != axes[1]:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm expects axis to be an int or a pair of distinct axes, received axis={axis!r}")


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    return r.LogSumExp.apply(x, axis=axis, keepdims=keepdims)


# ----- sorting and searching (indices carry no gradient; sorted values do) ------------------------------------
def _axis(axis, ndim: int, what: str) -> int:
    """axis as a non-negative int, or an error naming what was received."""
    if not isinstance(axis, (int, np.integer)) or not -ndim <= axis < np.maximum(ndim, 1):
        raise ValueError(f"{what}: axis {axis!r} is out of range for a tensor with {ndim} dimensions")
    return int(axis) % np.maximum(ndim, 1)


def _indices(indices, what: str) -> np.ndarray:
    """Indices as an integer NumPy array, or an error naming the dtype received."""
    array = np.asarray(indices.numpy() if isinstance(indices, Tensor) else indices)
    if array.dtype.kind not in "iu":
        raise TypeError(f"{what} expects integer indices, received an array of dtype {array.dtype}")
    return array


def argmax(x, axis=None, keepdims: bool = False) -> Tensor:
    """keras.ops.argmax: the index of the largest value along axis (of the flattened x by default), int32."""
    data = as_tensor(x).numpy()
    return _constant(np.argmax(data, axis=axis, keepdims=keepdims), "int32")


def argmin(x, axis=None, keepdims: bool = False) -> Tensor:
    """keras.ops.argmin: the index of the smallest value along axis (of the flattened x by default), int32."""
    data = as_tensor(x).numpy()
    return _constant(np.argmin(data, axis=axis, keepdims=keepdims), "int32")


def argsort(x, axis: int | None = -1) -> Tensor:
    """keras.ops.argsort: the indices that sort x along axis in ascending order (stable), int32."""
    data = as_tensor(x).numpy()
    return _constant(np.argsort(data, axis=axis, kind="stable"), "int32")


def sort(x, axis: int = -1) -> Tensor:
    """keras.ops.sort: x sorted ascending along axis; the gradient goes back to each value's place."""
    x = as_tensor(x)
    if x.ndim == 0:
        return x
    return take_along_axis(x, np.argsort(x.numpy(), axis=axis, kind="stable"), axis=axis)


def top_k(x, k: int, sorted: bool = True) -> tuple[Tensor, Tensor]:  # noqa: A002 - Keras's name
    """keras.ops.top_k: the k largest values along the last axis, largest first, and their int64 indices."""
    x = as_tensor(x)
    if x.ndim == 0 or not isinstance(k, (int, np.integer)) or not 0 <= k <= x.shape[-1]:
        raise ValueError(f"top_k expects k in [0, {x.shape[-1] if x.ndim else 0}] (the size of the last axis), "
                         f"received k={k!r} for shape {x.shape}")
    order = np.argsort(-x.numpy(), axis=-1, kind="stable")[..., :k]
    return take_along_axis(x, order, axis=-1), _constant(order, "int64")


# ----- shapes --------------------------------------------------------------------------------------------------
def reshape(x, shape) -> Tensor:
    return s.Reshape.apply(x, shape=tuple(shape) if not isinstance(shape, int) else (shape,))


def transpose(x, axes=None) -> Tensor:
    return s.Transpose.apply(x, axes=axes)


def expand_dims(x, axis: int) -> Tensor:
    x = as_tensor(x)
    return reshape(x, np.expand_dims(np.empty(x.shape, dtype=bool), axis).shape)


def squeeze(x, axis=None) -> Tensor:
    x = as_tensor(x)
    return reshape(x, np.squeeze(np.empty(x.shape, dtype=bool), axis).shape)


def getitem(x, key) -> Tensor:
    """x[key]: basic and advanced indexing; repeated indices add up in the gradient."""
    if isinstance(key, Tensor):
        key = key._data
    return s.GetItem.apply(x, key=key)


def take(x, indices, axis=None) -> Tensor:
    """keras.ops.take: the entries of x at ``indices`` along axis (of the flattened x by default)."""
    x, key = as_tensor(x), _indices(indices, "take")
    if axis is None:
        return getitem(reshape(x, -1), key)
    return getitem(x, (slice(None),) * _axis(axis, x.ndim, "take") + (key,))


def take_along_axis(x, indices, axis=None) -> Tensor:
    """keras.ops.take_along_axis: x[..., indices[i], ...] matched entry by entry along axis (NumPy's rule)."""
    x, idx = as_tensor(x), _indices(indices, "take_along_axis")
    if axis is None:
        x, idx, axis = reshape(x, -1), idx.reshape(-1), 0
    axis = _axis(axis, x.ndim, "take_along_axis")
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis expects indices with as many dimensions as x ({x.ndim}), received "
                         f"indices of shape {idx.shape}")
    grid = [np.arange(n).reshape([-1 if i == a else 1 for i in range(x.ndim)]) for a, n in enumerate(x.shape)]
    return getitem(x, tuple(idx if a == axis else g for a, g in enumerate(grid)))


def split(x, indices_or_sections, axis: int = 0) -> list[Tensor]:
    """keras.ops.split: x cut along axis into equal sections, or at the given indices."""
    x = as_tensor(x)
    axis = _axis(axis, x.ndim, "split")
    try:
        pieces = np.split(np.arange(x.shape[axis]), indices_or_sections)
    except ValueError:
        raise ValueError(f"split: an axis of size {x.shape[axis]} cannot be cut into {indices_or_sections!r} equal "
                         f"sections (shape {x.shape}, axis {axis})") from None
    lead = (slice(None),) * axis
    return [getitem(x, lead + (slice(int(p[0]), int(p[-1]) + 1) if len(p) else slice(0, 0),)) for p in pieces]


def tile(x, repeats) -> Tensor:
    """keras.ops.tile: x repeated ``repeats[i]`` times along each axis (NumPy's rule for unequal lengths)."""
    x = as_tensor(x)
    reps = (repeats,) if isinstance(repeats, (int, np.integer)) else tuple(repeats)
    if not all(isinstance(n, (int, np.integer)) and n >= 0 for n in reps):
        raise ValueError(f"tile expects non-negative integer repeats, received repeats={repeats!r}")
    if len(reps) > x.ndim:
        x = reshape(x, (1,) * (len(reps) - x.ndim) + x.shape)
    reps = (1,) * (x.ndim - len(reps)) + reps
    for axis, times in enumerate(reps):  # one gather per repeated axis: the others (a batch) keep any size
        if times != 1:
            x = take(x, np.tile(np.arange(x.shape[axis]), times), axis=axis)
    return x


def repeat(x, repeats, axis=None) -> Tensor:
    """keras.ops.repeat: each entry of x repeated ``repeats`` times along axis (of the flattened x by default)."""
    x = as_tensor(x)
    if axis is None:
        x, axis = reshape(x, -1), 0
    axis = _axis(axis, x.ndim, "repeat")
    counts = _indices(repeats, "repeat")
    if (counts < 0).any() or counts.ndim > 1 or counts.size not in (1, x.shape[axis]):
        raise ValueError(f"repeat expects non-negative repeats, one or one per entry along axis {axis} "
                         f"({x.shape[axis]}), received repeats={repeats!r}")
    return getitem(x, (slice(None),) * axis + (np.repeat(np.arange(x.shape[axis]), counts),))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap")


def pad(x, pad_width, mode: str = "constant", constant_values=None) -> Tensor:
    """keras.ops.pad (NumPy's pad): x widened by pad_width; mode constant, edge, reflect, symmetric or wrap."""
    x = as_tensor(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"pad: mode must be one of {_PAD_MODES}, received mode={mode!r}")
    if mode != "constant" and constant_values is not None:
        raise ValueError(f"pad: constant_values applies to mode='constant' only, received mode={mode!r}")
    try:
        widths = np.broadcast_to(np.asarray(pad_width, dtype=np.int64), (x.ndim, 2))
    except ValueError:
        raise ValueError(f"pad expects pad_width as an int, (before, after) or one pair per axis of a tensor with "
                         f"{x.ndim} dimensions, received pad_width={pad_width!r}") from None
    if (widths < 0).any():
        raise ValueError(f"pad expects non-negative widths, received pad_width={pad_width!r}")
    if mode == "constant" and not constant_values:  # zeros: one op that pads whatever batch a replay brings
        return s.Pad.apply(x, pad_width=widths)
    for axis, (before, after) in enumerate(widths):
        if before == after == 0:
            continue
        if mode == "constant":
            edge = [full(x.shape[:axis] + (int(n),) + x.shape[axis + 1:], constant_values or 0, x.dtype)
                    for n in (before, after)]
            x = concatenate([edge[0], x, edge[1]], axis=axis)
        else:
            x = take(x, np.pad(np.arange(x.shape[axis]), (int(before), int(after)), mode=mode), axis=axis)
    return x


def concatenate(xs: Sequence, axis: int = 0) -> Tensor:
    return s.Concatenate.apply(*xs, axis=axis)


def stack(xs: Sequence, axis: int = 0) -> Tensor:
    return s.Stack.apply(*xs, axis=axis)


# ----- activations ---------------------------------------------------------------------------------------------
def relu(x) -> Tensor:
    return nn.Relu.apply(x)


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    return nn.LeakyRelu.apply(x, negative_slope=negative_slope)


def sigmoid(x) -> Tensor:
    """σ(x), stable (a binary cross-entropy of it reads x: autodiff/fusions.py)."""
    return nn.Sigmoid.apply(x)


def tanh(x) -> Tensor:
    return nn.Tanh.apply(x)


def softplus(x) -> Tensor:
    return nn.Softplus.apply(x)


def softmax(x, axis: int = -1) -> Tensor:
    """softmax along axis, stable (a categorical cross-entropy of it reads x: autodiff/fusions.py)."""
    return nn.Softmax.apply(x, axis=axis)


def log_softmax(x, axis: int = -1) -> Tensor:
    return nn.LogSoftmax.apply(x, axis=axis)


def dropout(x, rate: float, rng: np.random.Generator, noise_shape=None) -> Tensor:
    """Inverted dropout: zero each value with probability ``rate`` and scale the rest by 1/(1 − rate)."""
    if not 0 <= rate < 1:
        raise ValueError(f"dropout rate must be in [0, 1), received {rate!r}")
    return nn.Dropout.apply(x, rate=rate, rng=rng, noise_shape=noise_shape)


# ----- fused losses (per sample or per element; the caller averages) ------------------------------------------
def sigmoid_cross_entropy(labels, logits) -> Tensor:
    """−[y ln σ(z) + (1−y) ln(1−σ(z))] per element; gradient σ(z) − y."""
    logits = as_tensor(logits)
    return nn.SigmoidCrossEntropy.apply(_labels(labels, logits.dtype), logits)


def softmax_cross_entropy(labels, logits) -> Tensor:
    """−Σ y log softmax(z) over the last axis, per sample; gradient softmax(z) − y."""
    logits = as_tensor(logits)
    return nn.SoftmaxCrossEntropy.apply(_labels(labels, logits.dtype), logits)


def squared_error(y_true, y_pred) -> Tensor:
    """(1/n) Σ (y_pred − y_true)² over the last axis, per sample, as one op (mean squared error's per-sample loss)."""
    y_pred = as_tensor(y_pred)
    return nn.SquaredError.apply(_labels(y_true, y_pred.dtype), y_pred)


def sparse_softmax_cross_entropy(labels, logits) -> Tensor:
    """−log softmax(z)[label] per sample, integer labels; gradient softmax(z) − onehot(label)."""
    return nn.SparseSoftmaxCrossEntropy.apply(_labels(labels, None), logits)


_EPSILON = 1e-7  # Keras's default epsilon: probabilities are clipped to [ε, 1 − ε] before their log


def _class_axis_last(target: Tensor, output: Tensor, axis: int, what: str) -> tuple[Tensor, Tensor]:
    """target and output with the class axis moved last (transposes, so gradients follow)."""
    axis = _axis(axis, output.ndim, what)
    if axis == output.ndim - 1:
        return target, output
    perm = [a for a in range(output.ndim) if a != axis] + [axis]
    return (transpose(target, perm) if target.ndim == output.ndim else target), transpose(output, perm)


def _check_same_shape(target: Tensor, output: Tensor, what: str) -> None:
    if target.shape != output.shape or (what != "binary_crossentropy" and output.ndim < 1):
        raise ValueError(f"{what} expects target and output of the same shape (at least rank 1 for the classes), "
                         f"received target.shape={target.shape}, output.shape={output.shape}")


def binary_crossentropy(target, output, from_logits: bool = False) -> Tensor:
    """keras.ops.binary_crossentropy: −[t ln p + (1 − t) ln(1 − p)] per element, p = σ(logits) or clipped output."""
    output = as_tensor(output)
    target = _labels(target, output.dtype)
    _check_same_shape(target, output, "binary_crossentropy")
    if from_logits:
        return sigmoid_cross_entropy(target, output)
    p = clip(output, _EPSILON, 1.0 - _EPSILON)
    return negative(add(multiply(target, log(p)), multiply(subtract(1.0, target), log(subtract(1.0, p)))))


def _categorical(target: Tensor, output: Tensor, from_logits: bool) -> Tensor:
    """−Σ t ln p over the last axis, p = softmax(output) (the fused op) or output normalized and clipped."""
    if from_logits:
        return softmax_cross_entropy(target, output)
    p = clip(divide(output, sum(output, axis=-1, keepdims=True)), _EPSILON, 1.0 - _EPSILON)
    return negative(sum(multiply(target, log(p)), axis=-1))


def categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """keras.ops.categorical_crossentropy: −Σ t ln p over axis, p = softmax(logits) or normalized output."""
    output = as_tensor(output)
    target = _labels(target, output.dtype)
    _check_same_shape(target, output, "categorical_crossentropy")
    return _categorical(*_class_axis_last(target, output, axis, "categorical_crossentropy"), from_logits)


def sparse_categorical_crossentropy(target, output, from_logits: bool = False, axis: int = -1) -> Tensor:
    """keras.ops.sparse_categorical_crossentropy: −ln p[t] per sample, t integer classes."""
    output = as_tensor(output)
    labels = np.asarray(target.numpy() if isinstance(target, Tensor) else target)
    if output.ndim < 1:
        raise ValueError(f"sparse_categorical_crossentropy expects an output of rank ≥ 1, received shape "
                         f"{output.shape}")
    axis = _axis(axis, output.ndim, "sparse_categorical_crossentropy")
    if labels.ndim == output.ndim and labels.shape[axis] == 1:
        labels = np.squeeze(labels, axis)
    classes = output.shape[axis]
    if labels.shape != output.shape[:axis] + output.shape[axis + 1:]:
        raise ValueError(f"sparse_categorical_crossentropy expects target of the output's shape without the class "
                         f"axis, received target.shape={labels.shape}, output.shape={output.shape}")
    if labels.size and ((labels != np.round(labels)).any() or ((labels < 0) | (labels >= classes)).any()):
        raise ValueError(f"sparse_categorical_crossentropy expects integer class indices in [0, {classes}), "
                         f"received values from {labels.min()} to {labels.max()}")
    labels = Tensor(labels, dtype="int64")
    _, output = _class_axis_last(output, output, axis, "sparse_categorical_crossentropy")
    if from_logits:
        return sparse_softmax_cross_entropy(labels, output)
    return _categorical(one_hot(labels, classes, dtype=output.dtype), output, False)


def _labels(labels, dtype) -> Tensor:
    """Labels as a constant Tensor (no gradient); float labels take the logits' dtype."""
    if isinstance(labels, Tensor):
        return labels
    return Tensor._from_op(np.asarray(labels, dtype=dtype), None)


# ----- Python operators on Tensor ------------------------------------------------------------------------------
def _attach_operators() -> None:
    def compare(ufunc):
        return lambda self, other: m.Compare.apply(self, other, ufunc=ufunc)

    methods = {
        "__add__": add, "__radd__": lambda a, b: add(b, a),
        "__sub__": subtract, "__rsub__": lambda a, b: subtract(b, a),
        "__mul__": multiply, "__rmul__": lambda a, b: multiply(b, a),
        "__truediv__": divide, "__rtruediv__": lambda a, b: divide(b, a),
        "__pow__": power, "__rpow__": lambda a, b: power(b, a),
        "__matmul__": matmul, "__rmatmul__": lambda a, b: matmul(b, a),
        "__neg__": negative, "__abs__": abs, "__getitem__": getitem,
        "__lt__": compare(np.less), "__le__": compare(np.less_equal),
        "__gt__": compare(np.greater), "__ge__": compare(np.greater_equal),
        "sum": sum, "mean": mean, "max": max, "min": min, "reshape": lambda a, *shape: reshape(
            a, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape),
        "transpose": transpose, "exp": exp, "log": log, "sqrt": sqrt, "abs": abs, "clip": clip,
        "T": property(lambda a: transpose(a)),
    }
    for name, fn in methods.items():
        setattr(Tensor, name, fn)


_attach_operators()


# ----- convolution and pooling (channels_last; 1-D inputs (batch, steps, channels), 2-D (batch, height, width,
# channels)) ----------------------------------------------------------------------------------------------------
def _spatial_rank(x: Tensor, what: str, data_format) -> int:
    """The number of spatial axes of a channels_last input (1 or 2), or an error naming what was received."""
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"{what}: glassnet supports data_format='channels_last' only (inputs (batch, "
                                  f"..., channels)), received data_format={data_format!r}; transpose the inputs")
    if x.ndim not in (3, 4):
        raise ValueError(f"{what} expects inputs of rank 3 (batch, steps, channels) or 4 (batch, height, width, "
                         f"channels), received shape {x.shape}")
    return x.ndim - 2


def conv(inputs, kernel, strides=1, padding: str = "valid", data_format=None, dilation_rate=1, *,
         bias=None) -> Tensor:
    """keras.ops.conv: Z = X ⋆ W, the kernel (*kernel_size, in_channels, filters) slid over the inputs (a
    cross-correlation, as in every framework). ``bias`` (glassnet's addition) fuses + b into the op, as
    :func:`affine` does for a dense layer. padding 'valid', 'same' (split as TensorFlow splits it), or 'causal'
    for 1-D."""
    x, w = as_tensor(inputs), as_tensor(kernel)
    rank = _spatial_rank(x, "conv", data_format)
    if w.ndim != x.ndim or w.shape[-2] != x.shape[-1]:
        raise ValueError(f"conv expects a kernel of shape (*kernel_size, {x.shape[-1]}, filters) for inputs of shape "
                         f"{x.shape} ({x.shape[-1]} channels), received a kernel of shape {w.shape}")
    params = {"strides": cv.spatial_tuple(strides, rank, "strides"),
              "padding": cv.padding_mode(padding, causal=rank == 1),
              "dilation": cv.spatial_tuple(dilation_rate, rank, "dilation_rate")}
    if bias is None:
        return cv.CONV_OPS[rank, False].apply(x, w, **params)
    return cv.CONV_OPS[rank, True].apply(x, w, bias, **params)


def _pool(mode: str, inputs, pool_size, strides, padding: str, data_format) -> Tensor:
    x = as_tensor(inputs)
    rank = _spatial_rank(x, f"{mode}_pool", data_format)
    pool_size = cv.spatial_tuple(pool_size, rank, "pool_size")
    strides = pool_size if strides is None else cv.spatial_tuple(strides, rank, "strides")
    params = {"pool_size": pool_size, "strides": strides, "padding": cv.padding_mode(padding)}
    z = fusions.relu_behind(x) if mode == "max" else None
    if z is not None:  # maxpool(relu(z)) = relu(maxpool(z)), as one op (autodiff/fusions.py)
        return cv.POOL_OPS[rank, "max_relu"].apply(z, **params)
    return cv.POOL_OPS[rank, mode].apply(x, **params)


def max_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """keras.ops.max_pool: the maximum of each window; strides default to pool_size; 'same' pads with −∞."""
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """keras.ops.average_pool: the mean of each window; strides default to pool_size; with 'same' the padding is
    left out of each mean (TensorFlow's rule)."""
    return _pool("average", inputs, pool_size, strides, padding, data_format)


def __getattr__(name: str):
    """A name this module lacks: for one of Keras's, an error saying glassnet does not implement it yet."""
    raise missing_attribute(__name__, name)
