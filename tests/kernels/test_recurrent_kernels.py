"""The compiled loops of an LSTM's and a GRU's step (kernels/recurrent.py) against the NumPy they replace: the states
and the gradients bit for bit (the same products in the same order), the gates within float rounding (σ and tanh through
one tanh of z/2)."""

import numpy as np
import pytest

from glassnet import backend
from glassnet.kernels import recurrent

pytestmark = pytest.mark.fast_kernels


@pytest.fixture
def numpy_kernels(monkeypatch):
    """Run a call with the NumPy reference instead of the compiled loop."""
    def run(fn, *args):
        with monkeypatch.context() as patch:
            patch.setattr(backend, "numba", lambda: None)
            return fn(*args)
    return run


def _values(dtype, *shapes, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(scale=3.0, size=shape).astype(dtype) for shape in shapes]


def _both_within_rounding(fn, args, expected: np.ndarray, dtype: str, numpy_kernels) -> None:
    """The compiled kernel and the NumPy reference each equal float64's values within the dtype's rounding."""
    compiled, reference = fn(*args), numpy_kernels(fn, *args)
    tolerance = 1e-6 if dtype == "float32" else 1e-15
    np.testing.assert_allclose(compiled, expected, rtol=0, atol=tolerance)
    np.testing.assert_allclose(reference, expected, rtol=0, atol=tolerance)
    assert compiled.dtype == reference.dtype == np.dtype(dtype)


def _each_bit_for_bit(cases, dtype: str, numpy_kernels) -> None:
    """Each (kernel, arguments): every array the compiled loop returns equals the NumPy reference's, bit for bit."""
    for fn, args in cases:
        compiled, reference = fn(*args), numpy_kernels(fn, *args)
        for got, expected in zip(compiled if isinstance(compiled, tuple) else (compiled,),
                                 reference if isinstance(reference, tuple) else (reference,)):
            np.testing.assert_array_equal(got, expected)
            assert got.dtype == np.dtype(dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_gates_are_sigmoid_and_tanh_of_their_blocks(dtype, numpy_kernels):
    (z,) = _values(dtype, (5, 12))
    z[0, :] = [-100, 100, -30, 30, -100, 100, -30, 30, 0, 1e-30, -1e-30, 0]  # saturated, tiny and zero
    sigmoid = 1 / (1 + np.exp(-z.astype("float64")))
    expected = np.concatenate([sigmoid[:, :6], np.tanh(z[:, 6:9].astype("float64")), sigmoid[:, 9:]], axis=1)
    _both_within_rounding(recurrent.lstm_gates, (z,), expected, dtype, numpy_kernels)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_the_compiled_cell_state_and_gradients_are_numpys_bit_for_bit(dtype, numpy_kernels):
    a = 1 / (1 + np.exp(-_values(dtype, (6, 20), seed=1)[0]))  # gates in (0, 1)
    a = a.astype(dtype)
    a[:, 10:15] = 2 * a[:, 10:15] - 1  # the c̃ block in (−1, 1)
    da, = _values(dtype, (6, 20), seed=2)
    dc, dh, c_prev, c = _values(dtype, (6, 5), (6, 5), (6, 5), (6, 5), seed=3)
    _each_bit_for_bit([(recurrent.lstm_cell_state, (a, c_prev)), (recurrent.lstm_gates_gradient, (da, a)),
                       (recurrent.lstm_output_gradients, (dh, a, c))], dtype, numpy_kernels)
    into = [da.copy(), da.copy()]  # the state's gradients are added into a da holding other values
    dc_prev = recurrent.lstm_state_gradients(dc, a, c_prev, into[0])
    np.testing.assert_array_equal(dc_prev, numpy_kernels(recurrent.lstm_state_gradients, dc, a, c_prev, into[1]))
    np.testing.assert_array_equal(into[0], into[1])
    np.testing.assert_array_equal(into[0][:, 15:], da[:, 15:])  # the o block is left as it was
    np.testing.assert_array_equal(into[0][:, 5:10], da[:, 5:10] + dc * c_prev)  # the f block: da_f += dc ⊙ c_prev


def test_the_loops_read_gates_sliced_out_of_a_wider_array(numpy_kernels):
    """a may be a view (the gates of a batch's rows inside a larger array): the loops index it as it is."""
    wide = _values("float32", (4, 40), seed=4)[0]
    a, (dc, c_prev) = wide[:, 8:28], _values("float32", (4, 5), (4, 5), seed=5)
    into = [np.zeros((4, 20), "float32"), np.zeros((4, 20), "float32")]
    np.testing.assert_array_equal(recurrent.lstm_state_gradients(dc, a, c_prev, into[0]),
                                  numpy_kernels(recurrent.lstm_state_gradients, dc, a, c_prev, into[1]))
    np.testing.assert_array_equal(into[0], into[1])
    np.testing.assert_array_equal(recurrent.lstm_cell_state(a, c_prev),
                                  numpy_kernels(recurrent.lstm_cell_state, a, c_prev))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_grus_gates_are_sigmoid_and_tanh_of_their_sums(dtype, numpy_kernels):
    """a = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)], xw a block of rows of a larger array (a step's
    slice of xW_all), saturated sums included."""
    xw_all, hu = _values(dtype, (15, 9), (5, 9), seed=6)
    xw = xw_all[5:10]
    xw[0, :] = [-100, 100, -30, 30, -100, 100, 0, 1e-30, -1e-30]
    x64, h64 = xw.astype("float64"), hu.astype("float64")
    z_r = 1 / (1 + np.exp(-(x64[:, :6] + h64[:, :6])))
    expected = np.concatenate([z_r, np.tanh(x64[:, 6:] + z_r[:, 3:] * h64[:, 6:])], axis=1)
    _both_within_rounding(recurrent.gru_gates, (xw, hu), expected, dtype, numpy_kernels)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_a_grus_compiled_state_and_gradients_are_numpys_bit_for_bit(dtype, numpy_kernels):
    a = (1 / (1 + np.exp(-_values(dtype, (6, 15), seed=7)[0]))).astype(dtype)  # gates in (0, 1)
    a[:, 10:] = 2 * a[:, 10:] - 1  # the candidate block in (−1, 1)
    da, hu = _values(dtype, (6, 15), (6, 15), seed=8)
    dh, h_prev = _values(dtype, (6, 5), (6, 5), seed=9)
    _each_bit_for_bit([(recurrent.gru_state, (a, h_prev)), (recurrent.gru_gates_gradients, (da, a, hu)),
                       (recurrent.gru_state_gradients, (dh, a, h_prev))], dtype, numpy_kernels)
    da_state, _ = recurrent.gru_state_gradients(dh, a, h_prev)
    np.testing.assert_array_equal(da_state[:, 5:10], 0)  # r reaches h only through the candidate
