"""Shapes as properties (hypothesis): on any broadcast-compatible shapes the binary ops give NumPy's broadcast
shape and each input a gradient of exactly its own shape, equal to PyTorch's; the reductions give NumPy's shape
on any axis subset, keepdims both ways, and a gradient of the input's shape; reshape, transpose and
expand_dims/squeeze undo themselves, value and gradient. Dimensions stay small (at most 4 axes of at most 4).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from glassnet import ops
from glassnet.autodiff import Tensor

BOUNDED = settings(max_examples=50, deadline=None)
MAX_DIMS, MAX_SIDE = 4, 4
TIGHT = {"rtol": 1e-12, "atol": 1e-12}
seeds = st.integers(0, 2**32 - 1)
shapes = hnp.array_shapes(min_dims=0, max_dims=MAX_DIMS, min_side=1, max_side=MAX_SIDE)


def broadcastable(num_shapes: int):
    """``num_shapes`` shapes that broadcast together (0-d operands and size-1 axes included, and axes that only
    some operands have), with the shape they broadcast to."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=0, max_dims=MAX_DIMS, min_side=1,
                                             max_side=MAX_SIDE)


def leaf(value) -> Tensor:
    return Tensor(value, dtype=np.float64, requires_grad=True)


def torch_grads(fn, arrays, upstream, consts=()):
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors, *[torch.from_numpy(np.array(c)) for c in consts])
    out.backward(torch.from_numpy(np.array(upstream)))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors]


# ----- binary elementwise ops ---------------------------------------------------------------------------------
BINARY = {
    "add": (ops.add, torch.add),
    "subtract": (ops.subtract, torch.sub),
    "multiply": (ops.multiply, torch.mul),
    "divide": (ops.divide, torch.div),
    "maximum": (ops.maximum, torch.maximum),
    "minimum": (ops.minimum, torch.minimum),
}


@pytest.mark.parametrize("name", list(BINARY))
@BOUNDED
@given(case=broadcastable(2), seed=seeds)
def test_binary_op_broadcasts_and_gives_each_input_its_own_shape_of_gradient(name, case, seed):
    fn, torch_fn = BINARY[name]
    rng = np.random.default_rng(seed)
    x_value = rng.uniform(-2, 2, case.input_shapes[0])
    y_value = rng.choice([-1.0, 1.0], case.input_shapes[1]) * rng.uniform(0.5, 2, case.input_shapes[1])
    x, y = leaf(x_value), leaf(y_value)
    out = fn(x, y)
    assert out.shape == np.broadcast_shapes(*case.input_shapes) == case.result_shape
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert x.grad.shape == x_value.shape and y.grad.shape == y_value.shape
    expected, (dx, dy) = torch_grads(torch_fn, [x_value, y_value], upstream)
    np.testing.assert_allclose(out.numpy(), expected, **TIGHT)
    np.testing.assert_allclose(x.grad, dx, **TIGHT)
    np.testing.assert_allclose(y.grad, dy, **TIGHT)


@BOUNDED
@given(case=broadcastable(3), seed=seeds)
def test_where_broadcasts_condition_and_both_branches(case, seed):
    rng = np.random.default_rng(seed)
    cond_shape, x_shape, y_shape = case.input_shapes
    condition = rng.random(cond_shape) < 0.5
    x_value, y_value = rng.uniform(-2, 2, x_shape), rng.uniform(-2, 2, y_shape)
    x, y = leaf(x_value), leaf(y_value)
    out = ops.where(condition, x, y)
    assert out.shape == np.broadcast_shapes(cond_shape, x_shape, y_shape) == case.result_shape
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert x.grad.shape == x_shape and y.grad.shape == y_shape
    expected, (dx, dy) = torch_grads(lambda a, b, c: torch.where(c, a, b), [x_value, y_value], upstream,
                                     consts=(condition,))
    np.testing.assert_array_equal(out.numpy(), expected)
    np.testing.assert_allclose(x.grad, dx, **TIGHT)
    np.testing.assert_allclose(y.grad, dy, **TIGHT)


# ----- reductions ---------------------------------------------------------------------------------------------
@st.composite
def reduction_args(draw):
    """A shape, an axis (None, one axis, or any subset as a tuple, negative spellings included) and keepdims."""
    shape = draw(shapes)
    one_axis = st.integers(-len(shape), len(shape) - 1) if shape else st.nothing()
    axis = draw(st.none() | one_axis | hnp.valid_tuple_axes(len(shape)))
    return shape, axis, draw(st.booleans())


def np_logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = m + np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))
    return out if keepdims else np.squeeze(out, axis=axis)


REDUCTIONS = {  # glassnet, NumPy, PyTorch, the values (ties for max and min: equal maxima share the gradient)
    "sum": (ops.sum, np.sum, torch.sum, "uniform"),
    "mean": (ops.mean, np.mean, torch.mean, "uniform"),
    "max": (ops.max, np.max, torch.amax, "ties"),
    "min": (ops.min, np.min, torch.amin, "ties"),
    "logsumexp": (ops.logsumexp, np_logsumexp, torch.logsumexp, "uniform"),
}


@pytest.mark.parametrize("name", list(REDUCTIONS))
@BOUNDED
@given(args=reduction_args(), seed=seeds)
def test_reduction_has_numpys_shape_and_a_gradient_of_the_inputs_shape(name, args, seed):
    fn, np_fn, torch_fn, values = REDUCTIONS[name]
    shape, axis, keepdims = args
    rng = np.random.default_rng(seed)
    value = rng.integers(-2, 3, shape).astype(np.float64) if values == "ties" else rng.uniform(-2, 2, shape)
    x = leaf(value)
    out = fn(x, axis=axis, keepdims=keepdims)
    expected_value = np_fn(value, axis=axis, keepdims=keepdims)
    assert out.shape == np.shape(expected_value)
    np.testing.assert_allclose(out.numpy(), expected_value, **TIGHT)
    upstream = rng.standard_normal(out.shape)
    out.backward(upstream)
    assert x.grad.shape == shape

    dims = tuple(range(len(shape))) if axis is None else (axis,) if isinstance(axis, int) else axis
    if dims:
        _, (expected_grad,) = torch_grads(lambda t: torch_fn(t, dim=dims, keepdim=keepdims), [value], upstream)
    else:  # no axis to reduce (a 0-d input, or axis=()): NumPy's identity; torch would reduce every axis
        expected_grad = upstream
    np.testing.assert_allclose(x.grad, expected_grad, **TIGHT)


# ----- shape round trips --------------------------------------------------------------------------------------
@st.composite
def shape_and_permutation(draw):
    shape = draw(shapes)
    return shape, tuple(draw(st.permutations(range(len(shape)))))


@BOUNDED
@given(args=shape_and_permutation(), seed=seeds)
def test_transpose_then_its_inverse_is_the_identity_value_and_gradient(args, seed):
    shape, perm = args
    rng = np.random.default_rng(seed)
    value = rng.standard_normal(shape)
    x = leaf(value)
    moved = ops.transpose(x, perm)
    np.testing.assert_array_equal(moved.numpy(), np.transpose(value, perm))
    back = ops.transpose(moved, tuple(int(a) for a in np.argsort(perm)))
    np.testing.assert_array_equal(back.numpy(), value)
    np.testing.assert_array_equal(ops.transpose(ops.transpose(value)).numpy(), value)  # the default: axes reversed
    upstream = rng.standard_normal(shape)
    back.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream)


@st.composite
def shape_and_regrouping(draw):
    """A shape, and another with the same number of elements: its sides permuted, size-1 axes added."""
    shape = draw(shapes)
    sides = [*shape, *([1] * draw(st.integers(0, 2)))]
    return shape, tuple(draw(st.permutations(sides)))


@BOUNDED
@given(args=shape_and_regrouping(), seed=seeds)
def test_reshape_there_and_back_is_the_identity_value_and_gradient(args, seed):
    shape, target = args
    rng = np.random.default_rng(seed)
    value = rng.standard_normal(shape)
    x = leaf(value)
    there = ops.reshape(x, target)
    np.testing.assert_array_equal(there.numpy(), value.reshape(target))
    back = ops.reshape(there, shape)
    assert back.shape == shape
    np.testing.assert_array_equal(back.numpy(), value)
    upstream = rng.standard_normal(target)
    there.backward(upstream)  # the gradient of one reshape is the upstream gradient in the input's shape
    np.testing.assert_array_equal(x.grad, upstream.reshape(shape))


@st.composite
def shape_and_new_axis(draw):
    shape = draw(shapes)
    return shape, draw(st.integers(-len(shape) - 1, len(shape)))


@BOUNDED
@given(args=shape_and_new_axis(), seed=seeds)
def test_expand_dims_then_squeeze_is_the_identity_value_and_gradient(args, seed):
    shape, axis = args
    rng = np.random.default_rng(seed)
    value = rng.standard_normal(shape)
    x = leaf(value)
    expanded = ops.expand_dims(x, axis)
    assert expanded.shape == np.expand_dims(value, axis).shape
    back = ops.squeeze(expanded, axis)
    assert back.shape == shape
    np.testing.assert_array_equal(back.numpy(), value)
    upstream = rng.standard_normal(shape)
    back.backward(upstream)
    np.testing.assert_array_equal(x.grad, upstream)
