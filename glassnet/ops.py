"""The functional API of the engine, like ``keras.ops``: every differentiable op as a function on Tensors.

Arguments may be Tensors, NumPy arrays or Python numbers. A custom activation written from these functions is
differentiated automatically: ``lambda z: ops.multiply(z, ops.sigmoid(z))`` needs no backward of its own.
Python operators on Tensors (``+ - * / ** @``, unary ``-``, ``abs``, ``[]``) call the same ops.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.autodiff import ops_conv as cv
from glassnet.autodiff import ops_math as m
from glassnet.autodiff import ops_nn as nn
from glassnet.autodiff import ops_reduce as r
from glassnet.autodiff import ops_shape as s
from glassnet.autodiff.tensor import Tensor, as_tensor

convert_to_tensor = as_tensor


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


def where(condition, x, y) -> Tensor:
    """x where condition is true, else y; the condition is not differentiated."""
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


def logsumexp(x, axis=None, keepdims: bool = False) -> Tensor:
    return r.LogSumExp.apply(x, axis=axis, keepdims=keepdims)


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
    return cv.POOL_OPS[rank, mode].apply(x, pool_size=pool_size, strides=strides,
                                         padding=cv.padding_mode(padding))


def max_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """keras.ops.max_pool: the maximum of each window; strides default to pool_size; 'same' pads with −∞."""
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding: str = "valid", data_format=None) -> Tensor:
    """keras.ops.average_pool: the mean of each window; strides default to pool_size; with 'same' the padding is
    left out of each mean (TensorFlow's rule)."""
    return _pool("average", inputs, pool_size, strides, padding, data_format)
