"""Sigmoid's defining properties (hypothesis), and no overflow or NaN in sigmoid/softmax/log_softmax up to ±1e4."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from glassnet import Tensor, Variable, ops

finite = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False)


def sig(x, dtype=np.float64):
    return ops.sigmoid(Tensor(np.asarray(x, dtype=dtype))).numpy()


@given(finite)
def test_sigmoid_is_symmetric(x):
    assert sig(x) + sig(-x) == pytest.approx(1.0, abs=1e-15)


def test_sigmoid_of_zero_is_one_half():
    assert sig(0.0) == 0.5 and sig(0.0, np.float32) == np.float32(0.5)


@given(finite, finite)
def test_sigmoid_is_increasing(a, b):
    lo, hi = min(a, b), max(a, b)
    assert sig(lo) <= sig(hi)
    if hi - lo > 1e-6 and abs(hi) < 30 and abs(lo) < 30:  # strictly, where float64 can tell values apart
        assert sig(lo) < sig(hi)


def test_sigmoid_limits():
    assert sig(-1e4) == 0.0 and sig(1e4) == 1.0
    assert sig(-40) < 1e-17 and 1 - sig(40) < 1e-16


@given(st.floats(min_value=-30, max_value=30))
def test_sigmoid_derivative_is_f_times_one_minus_f(x):
    v = Variable(np.array([x]), dtype=np.float64)
    ops.sigmoid(v).sum().backward()
    f = sig(x)
    h = 1e-6
    # difference the small tail, σ(x) = 1 − σ(−x), so rounding near 1 does not swamp the numerical derivative
    numeric = (sig(x + h) - sig(x - h)) / (2 * h) if x <= 0 else (sig(-x + h) - sig(-x - h)) / (2 * h)
    assert v.grad[0] == pytest.approx(f * (1 - f), rel=1e-12, abs=1e-300)
    assert v.grad[0] == pytest.approx(numeric, rel=1e-5, abs=1e-10)


# x below, and what each op gives on it, worked out by hand: e^−1e4 and e^−2e4 are 0 in every float type, so each
# row keeps only its largest entries. Row 0 is [−1e4, 0, 1e4], row 1 [1e4, 1e4, −1e4], row 2 [−1e4, −1e4, −1e4].
EXTREMES = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]])
HALF, THIRD, LN2, LN3 = 0.5, 1 / 3, np.log(2), np.log(3)
EXACT = {  # op: (its value on EXTREMES, the gradient of the sum of that value)
    "sigmoid": ([[0, HALF, 1], [1, 1, 0], [0, 0, 0]],
                [[0, 0.25, 0], [0, 0, 0], [0, 0, 0]]),  # σ' = σ(1 − σ)
    "softmax": ([[0, 0, 1], [HALF, HALF, 0], [THIRD, THIRD, THIRD]],
                np.zeros((3, 3))),  # each row sums to 1 whatever x is: Σ softmax has no gradient
    "log_softmax": ([[-2e4, -1e4, 0], [-LN2, -LN2, -2e4 - LN2], [-LN3, -LN3, -LN3]],
                    [[1, 1, -2], [-HALF, -HALF, 1], [0, 0, 0]]),  # ∂/∂x_j Σ_i log_softmax_i = 1 − 3·softmax_j
    "softplus": ([[0, LN2, 1e4], [1e4, 1e4, 0], [0, 0, 0]],
                 [[0, HALF, 1], [1, 1, 0], [0, 0, 0]]),  # softplus' = σ
    "logsumexp": (1e4 + LN3,  # over all nine: three entries equal the maximum 1e4
                  [[0, 0, THIRD], [THIRD, THIRD, 0], [0, 0, 0]]),  # the gradient is the softmax of all nine
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(EXACT))
def test_no_overflow_or_nan_at_extremes(name, dtype):
    tight = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    value, grad = EXACT[name]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        v = Variable(EXTREMES, dtype=dtype)
        out = getattr(ops, name)(v)
        out.sum().backward()
    assert out.dtype == dtype and v.grad.dtype == dtype
    np.testing.assert_allclose(out.numpy(), value, **tight)
    np.testing.assert_allclose(v.grad, grad, **tight)
