"""Every op's backward rule against central differences in float64, broadcasting and each reduction axis included."""

import numpy as np
import pytest

from glassnet import ops
from glassnet.autodiff import GradcheckError, gradcheck

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_rng():
    """Each test draws from a generator of its own, seeded alike: its inputs do not depend on which tests ran before
    it (with one module-level generator, a test's data changed with the order, and a failure could not be repeated
    by running the test alone)."""
    global rng
    rng = np.random.default_rng(0)


def r(*shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, size=shape)


def positive(*shape):
    return rng.uniform(0.5, 2.0, size=shape)


BINARY_CASES = {
    "same shape": ((3, 4), (3, 4)),
    "bias add over a batch": ((5, 3), (3,)),
    "row broadcast": ((4, 3), (1, 3)),
    "column broadcast": ((4, 3), (4, 1)),
    "scalar": ((4, 3), ()),
    "both stretched": ((4, 1), (1, 3)),
}


@pytest.mark.parametrize("shapes", list(BINARY_CASES.values()), ids=list(BINARY_CASES))
@pytest.mark.parametrize("op", [ops.add, ops.subtract, ops.multiply, ops.maximum, ops.minimum],
                         ids=["add", "sub", "mul", "maximum", "minimum"])
def test_binary_ops_with_broadcasting(op, shapes):
    a, b = r(*shapes[0]), r(*shapes[1])
    gradcheck(op, [a, b])


@pytest.mark.parametrize("shapes", list(BINARY_CASES.values()), ids=list(BINARY_CASES))
def test_divide_with_broadcasting(shapes):
    gradcheck(ops.divide, [r(*shapes[0]), positive(*shapes[1])])


def test_power_by_constant_and_by_tensor():
    gradcheck(lambda x: ops.power(x, 3.0), [r(3, 4)])
    gradcheck(lambda x: x**0.5, [positive(3, 4)])
    gradcheck(ops.power, [positive(3, 4), r(4)])
    gradcheck(lambda p: ops.power(2.0, p), [r(5)])


@pytest.mark.parametrize("fn, make, kinks", [
    (ops.negative, r, ()), (ops.exp, r, ()), (ops.log, positive, ()), (ops.sqrt, positive, ()), (ops.square, r, ()),
    (ops.abs, r, (0.0,)), (ops.relu, r, (0.0,)), (ops.sigmoid, r, ()), (ops.tanh, r, ()), (ops.softplus, r, ()),
    (lambda x: ops.leaky_relu(x, 0.1), r, (0.0,)), (lambda x: ops.clip(x, -1.0, 1.0), r, (-1.0, 1.0)),
], ids=["neg", "exp", "log", "sqrt", "square", "abs", "relu", "sigmoid", "tanh", "softplus", "leaky_relu", "clip"])
def test_unary_ops(fn, make, kinks):
    x = make(4, 5)
    for kink in kinks:  # keep away from a kink, where the derivative is undefined and central differences straddle it
        x = np.where(np.abs(x - kink) < 1e-3, kink + 0.5, x)
    gradcheck(fn, [x])


@pytest.mark.parametrize("a_shape, b_shape", [((4, 3), (3, 2)), ((2, 4, 3), (3, 5)), ((2, 4, 3), (2, 3, 5)),
                                              ((3,), (3, 2)), ((4, 3), (3,)), ((3,), (3,))])
def test_matmul(a_shape, b_shape):
    gradcheck(ops.matmul, [r(*a_shape), r(*b_shape)])


def test_where_routes_gradient_by_condition():
    cond = rng.uniform(size=(4, 3)) > 0.5
    gradcheck(lambda a, b: ops.where(cond, a, b), [r(4, 3), r(3)])


@pytest.mark.parametrize("axis", [None, 0, 1, 2, -1, (0, 2)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("op", [ops.sum, ops.mean, ops.max, ops.min, ops.logsumexp],
                         ids=["sum", "mean", "max", "min", "logsumexp"])
def test_reductions_along_each_axis(op, axis, keepdims):
    gradcheck(lambda x: op(x, axis=axis, keepdims=keepdims), [r(2, 3, 4)])


def test_max_splits_gradient_evenly_between_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]])
    from glassnet import Variable

    v = Variable(x, dtype=np.float64)
    ops.max(v, axis=1).sum().backward()
    assert np.array_equal(v.grad, [[0, 0.5, 0.5], [1, 0, 0]])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_family(axis):
    gradcheck(lambda x: ops.softmax(x, axis=axis), [r(3, 4)])
    gradcheck(lambda x: ops.log_softmax(x, axis=axis), [r(3, 4)])


def test_shape_ops():
    gradcheck(lambda x: ops.reshape(x, (4, 3)), [r(2, 6)])
    gradcheck(lambda x: ops.transpose(x), [r(2, 3, 4)])
    gradcheck(lambda x: ops.transpose(x, (1, 0, 2)), [r(2, 3, 4)])
    gradcheck(lambda x: x.T, [r(2, 3)])
    gradcheck(lambda x: ops.expand_dims(x, 1), [r(2, 3)])
    gradcheck(lambda x: ops.squeeze(x, 1), [r(2, 1, 3)])


def test_getitem_slices_and_repeated_indices():
    gradcheck(lambda x: x[1:, ::2], [r(4, 5)])
    gradcheck(lambda x: x[..., 0], [r(3, 4)])
    gradcheck(lambda x: x[np.array([0, 2, 0, 0])], [r(3, 2)])  # repeated rows add up
    gradcheck(lambda x: x[np.array([0, 1, 1]), np.array([2, 0, 0])], [r(3, 4)])


def test_concatenate_and_stack():
    gradcheck(lambda a, b: ops.concatenate([a, b], axis=1), [r(3, 2), r(3, 4)])
    gradcheck(lambda a, b: ops.concatenate([a, b], axis=0), [r(1, 4), r(3, 4)])
    gradcheck(lambda a, b: ops.stack([a, b], axis=1), [r(3, 4), r(3, 4)])


def test_fused_cross_entropies():
    y_bin = (rng.uniform(size=(5, 1)) > 0.5).astype(float)
    gradcheck(lambda z: ops.sigmoid_cross_entropy(y_bin, z), [r(5, 1)])
    y_onehot = np.eye(4)[rng.integers(0, 4, size=6)]
    gradcheck(lambda z: ops.softmax_cross_entropy(y_onehot, z), [r(6, 4)])
    labels = rng.integers(0, 4, size=6)
    gradcheck(lambda z: ops.sparse_softmax_cross_entropy(labels, z), [r(6, 4)])


def test_fused_cross_entropies_equal_their_definitions():
    z = r(6, 4)
    labels = rng.integers(0, 4, size=6)
    onehot = np.eye(4)[labels]
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    expected = -(onehot * log_p).sum(axis=1)
    assert np.allclose(ops.softmax_cross_entropy(onehot, z).numpy(), expected, atol=1e-12)
    assert np.allclose(ops.sparse_softmax_cross_entropy(labels, z).numpy(), expected, atol=1e-12)
    p = 1 / (1 + np.exp(-z))
    y = (rng.uniform(size=z.shape) > 0.5).astype(float)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert np.allclose(ops.sigmoid_cross_entropy(y, z).numpy(), bce, atol=1e-12)


def test_gradient_of_a_tensor_used_twice_adds_up():
    gradcheck(lambda x: x * x + ops.exp(x) * x, [r(3)])


def test_gradcheck_reports_a_wrong_backward_rule():
    from glassnet.autodiff import Function

    class WrongSquare(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, dy):
            (x,) = self.saved
            return dy * 3 * x  # should be 2x

    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: WrongSquare.apply(x).sum(), [np.array([1.0, 2.0, -0.5])])
    report = str(info.value)
    assert "FAILED" in report and "worst element (1,)" in report
    assert "analytic 6" in report and "numeric 4" in report
    result = gradcheck(lambda x: WrongSquare.apply(x).sum(), [np.array([1.0, 2.0])], raise_exception=False)
    assert not result.ok and result.worst[0].abs_error == pytest.approx(2.0, rel=1e-6)
