"""SparseRows (kernels/sparse.py): a mostly-zero input stored by rows gives the dense results, through MatMul's
own forward and backward, and fit/evaluate/predict use it only where the model's first layer is a Dense."""

import numpy as np
import pytest

import glassnet as keras
from glassnet import backend, layers
from glassnet.autodiff import Tensor, Variable, as_tensor
from glassnet.kernels import SparseRows, sparse
from glassnet.models import data

fast = pytest.mark.fast_kernels  # SparseRows are a fast kernel: GLASSNET_KERNELS=numpy never makes them


def multi_hot(n, d, density, seed=0, dtype="float32"):
    """Rows of 0/1 with about ``density`` ones, some rows empty, and a few other values (negative, fractional)."""
    rng = np.random.default_rng(seed)
    x = (rng.random((n, d)) < density).astype(dtype)
    x[::7] = 0
    x[1, :3] = [-2.5, 0.25, 3.0]
    x[2, -1] = 1.5  # in the tail past the last whole block of 64
    return x


@fast
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("d", [64, 130, 1000])
def test_from_dense_keeps_every_nonzero_in_place(dtype, d):
    x = multi_hot(50, d, 0.05, dtype=dtype)
    rows = SparseRows.from_dense(x, x.size)
    assert rows.shape == x.shape and rows.dtype == x.dtype and rows.nnz == np.count_nonzero(x)
    np.testing.assert_array_equal(np.asarray(rows), x)
    assert np.all(np.diff(rows.indices[rows.indptr[1]:rows.indptr[2]]) > 0)  # columns increase within a row


@pytest.fixture(params=[1, 3], ids=["one part", "three parts"])
def parts(request, monkeypatch):
    """from_dense on one part of the rows, or on three (as on a machine of three or more cores)."""
    monkeypatch.setattr(sparse, "ROWS_PER_PART", 1 if request.param > 1 else 10**9)
    monkeypatch.setattr(sparse.os, "cpu_count", lambda: request.param)
    return request.param


@fast
def test_rows_compressed_in_parts_equal_the_rows_compressed_at_once(parts):
    x = multi_hot(50, 130, 0.05)
    rows = SparseRows.from_dense(x, x.size)
    assert rows.nnz == np.count_nonzero(x) and rows.indptr[0] == 0 and len(rows.indptr) == 51
    assert len(rows.indices) == len(rows.values) == rows.nnz  # the parts joined, no spare room kept
    np.testing.assert_array_equal(np.asarray(rows), x)


@fast
def test_from_dense_refuses_too_many_nonzeros_and_non_finite_values(parts):
    x = multi_hot(40, 200, 0.1)
    at_the_limit = SparseRows.from_dense(x, np.count_nonzero(x))  # exactly as many nonzeros as allowed
    assert at_the_limit.nnz == np.count_nonzero(x)
    np.testing.assert_array_equal(np.asarray(at_the_limit), x)
    assert SparseRows.from_dense(x, np.count_nonzero(x) - 1) is None
    for row, col, bad in [(0, 5, np.nan), (39, 199, np.inf), (20, 100, -np.inf)]:  # block, tail, last row
        y = x.copy()
        y[row, col] = bad
        assert SparseRows.from_dense(y, y.size) is None


@fast
def test_rows_by_slice_by_index_and_take():
    x = multi_hot(30, 100, 0.1)
    rows = SparseRows.from_dense(x, x.size)
    np.testing.assert_array_equal(np.asarray(rows[5:17]), x[5:17])
    np.testing.assert_array_equal(np.asarray(rows[5:17][2:4]), x[7:9])
    np.testing.assert_array_equal(np.asarray(rows[::4]), x[::4])
    np.testing.assert_array_equal(np.asarray(rows[20:10]), x[20:10])
    order = np.array([29, 0, 3, 3, -1])
    np.testing.assert_array_equal(np.asarray(rows.take(order)), x[order])
    np.testing.assert_array_equal(np.asarray(rows[5:17].take([3, 0])), x[[8, 5]])
    np.testing.assert_array_equal(np.asarray(rows.copy()), x)
    with pytest.raises(IndexError, match=r"\[-30, 30\)"):
        rows.take([30])
    with pytest.raises(IndexError, match="1-D"):
        rows.take([[1]])


@fast
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_products_equal_the_dense_products(dtype):
    rng = np.random.default_rng(3)
    x = multi_hot(60, 300, 0.05, dtype=dtype)
    w, dz = rng.standard_normal((300, 7)).astype(dtype), rng.standard_normal((60, 7)).astype(dtype)
    rows = SparseRows.from_dense(x, x.size)
    tight = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(rows @ w, x @ w, **tight)
    np.testing.assert_allclose(rows.T @ dz, x.T @ dz, **tight)
    np.testing.assert_allclose(rows[10:20] @ w, x[10:20] @ w, **tight)
    np.testing.assert_allclose(rows[10:20].T @ dz[:10], x[10:20].T @ dz[:10], **tight)
    with pytest.raises(ValueError, match=r"expected w of shape \(300, units\), received \(299, 7\)"):
        rows @ w[:-1]
    with pytest.raises(ValueError, match=r"expected dz of shape \(60, units\)"):
        rows.T @ dz[:-1]


@fast
def test_matmul_records_dw_as_xt_dz():
    """The engine's MatMul needs nothing new: forward x @ w, backward dW = xᵀ·dZ, on SparseRows as on arrays."""
    rng = np.random.default_rng(4)
    x = multi_hot(40, 128, 0.05, dtype="float64")
    w_sparse = Variable(rng.standard_normal((128, 5)))
    w_dense = Variable(w_sparse.numpy().copy())
    target = rng.standard_normal((40, 5))
    for inputs, w in [(as_tensor(SparseRows.from_dense(x, x.size)), w_sparse), (Tensor(x), w_dense)]:
        z = keras.ops.matmul(inputs, w)
        keras.ops.mean(keras.ops.square(z - target)).backward()
    np.testing.assert_allclose(w_sparse.grad, w_dense.grad, rtol=1e-12, atol=1e-14)


def imdb_like(n=400, d=1000, seed=0):
    """Multi-hot reviews (1.6 MB: over SPARSE_MIN_BYTES) whose label depends on a few words."""
    x = multi_hot(n, d, 0.02, seed=seed)
    y = (x[:, :40].sum(axis=1) > x[:, 40:80].sum(axis=1)).astype("float32")
    return x, y


def imdb_model(seed=0, first=None):
    keras.backend.set_random_seed(seed)
    model = keras.Sequential([layers.Input((1000,)), *([first] if first else []),
                              layers.Dense(16, activation="relu"), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def input_types(model):
    """The input types the model's training step has plans for (a plan's key starts with its x's leaves)."""
    return {key[0][1][0] for key in model._cached_step.plans}


@fast
@pytest.mark.parametrize("shuffle", [True, False])
def test_fit_on_sparse_rows_trains_like_dense(monkeypatch, shuffle):
    x, y = imdb_like()
    xv, yv = imdb_like(200, seed=1)
    assert x.nbytes >= data.SPARSE_MIN_BYTES
    runs = {}
    for mode in ("sparse", "dense"):
        if mode == "dense":
            monkeypatch.setattr(data, "SPARSE_MIN_BYTES", 1 << 40)
        model = imdb_model()
        keras.backend.set_random_seed(7)
        history = model.fit(x, y, batch_size=64, epochs=3, shuffle=shuffle, validation_data=(xv, yv), verbose=0)
        runs[mode] = (model, history)
    (sparse, h_sparse), (dense, h_dense) = runs["sparse"], runs["dense"]
    assert input_types(sparse) == {SparseRows} and input_types(dense) == {np.ndarray}
    for a, b in zip(sparse.get_weights(), dense.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        np.testing.assert_allclose(h_sparse.history[key], h_dense.history[key], rtol=1e-5)
    assert h_sparse.history["loss"][-1] < h_sparse.history["loss"][0]
    np.testing.assert_allclose(sparse.predict(xv, verbose=0), dense.predict(xv, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(sparse.evaluate(x, y, verbose=0), dense.evaluate(x, y, verbose=0), rtol=1e-5)


@fast
def test_inputs_stay_dense_when_sparse_rows_would_not_serve():
    x, y = imdb_like()
    model = imdb_model()
    assert isinstance(model._prepare_x(x, "fit"), SparseRows)
    assert isinstance(model._prepare_x(x[:100], "fit"), np.ndarray)  # 0.4 MB: too small to gain
    assert isinstance(model._prepare_x(np.ascontiguousarray(x[:, ::-1])[:, ::-1], "fit"), np.ndarray)  # not C order
    assert isinstance(imdb_model()._prepare_x(x + 0.5, "fit"), np.ndarray)  # mostly nonzero
    dropout_first = imdb_model(first=layers.Dropout(0.5))
    assert isinstance(dropout_first._prepare_x(x, "fit"), np.ndarray)  # only a Dense may read SparseRows
    model64 = keras.Sequential([layers.Input((1000,), dtype="float64"), layers.Dense(4, dtype="float64")])
    assert isinstance(model64._prepare_x(x, "predict"), np.ndarray)  # cast to float64 on the way: dense


def test_numpy_kernels_keep_inputs_dense(monkeypatch):
    monkeypatch.setattr(backend, "_kernels", "numpy")
    monkeypatch.setattr(backend, "_numba", None)
    x, y = imdb_like()
    model = imdb_model()
    model.fit(x, y, batch_size=64, epochs=1, verbose=0)
    assert input_types(model) == {np.ndarray}


@fast
def test_bad_values_are_reported_as_for_dense_inputs():
    x, y = imdb_like()
    x[123, 999] = np.nan
    with pytest.raises(ValueError, match=r"`x` contains 1 NaN and 0 infinite value\(s\) \(first in sample 123\)"):
        imdb_model().fit(x, y, verbose=0)


@fast
def test_a_tensor_of_sparse_rows_shows_and_converts():
    x = multi_hot(10, 70, 0.1)
    t = as_tensor(SparseRows.from_dense(x, x.size))
    assert t.shape == (10, 70) and t.dtype == np.float32 and len(t) == 10
    np.testing.assert_array_equal(t.numpy(), x)
    assert repr(t).startswith("Tensor(SparseRows(shape=(10, 70), dtype=float32, nonzeros=")


@fast
def test_dense_conversion_refuses_to_pretend_it_is_no_copy():
    rows = SparseRows.from_dense(multi_hot(5, 64, 0.2), 320)
    assert np.asarray(rows, dtype="float64").dtype == np.float64
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(rows, copy=False)


def test_sparse_rows_name_the_fast_kernels_when_numpy_ones_run(monkeypatch):
    monkeypatch.setattr(backend, "_kernels", "numpy")
    monkeypatch.setattr(backend, "_numba", None)
    with pytest.raises(RuntimeError, match=r"SparseRows need the fast kernels.*glassnet\[fast\]"):
        SparseRows.from_dense(multi_hot(5, 64, 0.2), 320)
