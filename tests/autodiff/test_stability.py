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


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_overflow_or_nan_at_extremes(dtype):
    x = np.array([[-1e4, 0.0, 1e4], [1e4, 1e4, -1e4], [-1e4, -1e4, -1e4]], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        for fn in (ops.sigmoid, ops.softmax, ops.log_softmax, ops.softplus, ops.logsumexp):
            v = Variable(x, dtype=dtype)
            out = fn(v)
            assert np.all(np.isfinite(out.numpy())), fn.__name__
            out.sum().backward()
            assert np.all(np.isfinite(v.grad)), fn.__name__
    softmax = ops.softmax(Tensor(x)).numpy()
    assert np.allclose(softmax.sum(axis=1), 1) and softmax[0, 2] == 1
    log_softmax = ops.log_softmax(Tensor(x)).numpy()
    assert log_softmax[0, 0] == pytest.approx(-2e4) and log_softmax[2, 0] == pytest.approx(-np.log(3))
