"""glassnet.ops against keras.ops (Keras 3 on torch) for the functions of issue 15's ``keras.ops`` list: the values,
dtypes and shapes of the same calls, the new tensors and index results that carry no gradient, and the errors
for bad arguments (each naming what was received). The gradients of the differentiable ones are checked against
PyTorch in test_ops_reference.py."""

from __future__ import annotations

import numpy as np
import pytest

from glassnet import ops
from glassnet.autodiff import Tensor

RNG = np.random.default_rng(15)
X = RNG.standard_normal((3, 4)).astype("float32")  # distinct values: no ties in sorts and arg-reductions
X3 = RNG.standard_normal((2, 3, 4)).astype("float32")
Y = RNG.standard_normal((4, 5)).astype("float32")
V = RNG.standard_normal(4).astype("float32")
I = RNG.integers(-5, 5, size=(2, 3)).astype("int32")
IDX = np.array([[2, 0, 1, 0], [1, 1, 0, 2]])
P = RNG.uniform(0.0, 1.0, size=(3, 4)).astype("float32")  # probabilities (0 and 1 hit the clipping)
P[0, :2] = 0.0, 1.0
T = (RNG.random((3, 4)) < 0.5).astype("float32")
LABELS = np.array([3, 0, 2])


@pytest.fixture(scope="module")
def kops(keras):
    """keras.ops on the torch backend, as an optional peer."""
    return keras.ops


# (function, positional arguments, keyword arguments): called the same way in glassnet.ops and keras.ops
CALLS = [
    ("zeros", ((2, 3),), {}), ("zeros", ((2,), "int32"), {}), ("zeros", (4,), {}),
    ("ones", ((3,),), {}), ("ones", ((2, 2), "float64"), {}), ("ones", ((),), {}),
    ("full", ((2, 3), 7), {}), ("full", ((2,), 2.5, "float64"), {}), ("full", ((2,), 3, "int32"), {}),
    ("zeros_like", (X,), {}), ("zeros_like", (I,), {}), ("ones_like", (X3,), {}),
    ("ones_like", (X,), {"dtype": "int32"}), ("full_like", (X, 2.0), {}), ("full_like", (I, 3), {}),
    ("arange", (5,), {}), ("arange", (1, 7, 2), {}), ("arange", (0.0, 1.0, 0.25), {}),
    ("arange", (5,), {"dtype": "float32"}), ("arange", (2.5,), {}), ("arange", (5, 0, -1), {}),
    ("eye", (3,), {}), ("eye", (3, 4), {}), ("eye", (4, 3, -1), {}), ("eye", (3,), {"dtype": "int32"}),
    ("argmax", (X,), {}), ("argmax", (X,), {"axis": 0}), ("argmax", (X3,), {"axis": -1, "keepdims": True}),
    ("argmin", (X,), {}), ("argmin", (X3,), {"axis": 1}), ("argmin", (X,), {"axis": 0, "keepdims": True}),
    ("argsort", (X,), {}), ("argsort", (X3,), {"axis": 0}), ("argsort", (X,), {"axis": None}),
    ("sort", (X,), {}), ("sort", (X3,), {"axis": 1}),
    ("top_k", (X, 2), {}), ("top_k", (X3, 4), {}), ("top_k", (V, 1), {}),
    ("split", (X, 2), {"axis": 1}), ("split", (X, [1, 3]), {"axis": 1}), ("split", (X3, 2), {}),
    ("take", (X, [0, 2]), {"axis": 1}), ("take", (X, IDX), {}), ("take", (X3, [-1, 0]), {"axis": -1}),
    ("take_along_axis", (X, IDX[:, :4]), {"axis": 0}), ("take_along_axis", (X, IDX[:1, :3] + 1), {"axis": 1}),
    ("tile", (X, 2), {}), ("tile", (X, (2, 1, 3)), {}), ("tile", (X3, (2, 1)), {}),
    ("repeat", (X, 2), {}), ("repeat", (X, np.array([1, 0, 2])), {"axis": 0}), ("repeat", (X3, 3), {"axis": -1}),
    ("pad", (X, ((1, 1), (1, 1))), {}), ("pad", (X, ((1, 0), (2, 1))), {"constant_values": 2.0}),
    ("pad", (X, ((1, 2), (2, 1))), {"mode": "reflect"}),
    ("prod", (X,), {}), ("prod", (X3,), {"axis": 1}), ("prod", (X,), {"axis": 0, "keepdims": True}),
    ("var", (X,), {}), ("var", (X3,), {"axis": (0, 2)}), ("std", (X,), {"axis": 0, "keepdims": True}),
    ("std", (X3,), {}), ("cumsum", (X,), {}), ("cumsum", (X3,), {"axis": 1}), ("cumsum", (X,), {"axis": -1}),
    ("norm", (X,), {}), ("norm", (X3,), {}), ("norm", (X,), {"ord": 1}), ("norm", (X,), {"ord": "fro"}),
    ("norm", (X,), {"ord": np.inf}), ("norm", (X3,), {"ord": 3, "axis": 1, "keepdims": True}),
    ("norm", (X3,), {"ord": 0, "axis": -1}), ("norm", (X3,), {"ord": -np.inf, "axis": (2, 0)}),
    ("norm", (V,), {"ord": 1}), ("dot", (X, Y), {}), ("dot", (V, V), {}), ("dot", (X, V), {}),
    ("dot", (2.0, X), {}),
    ("binary_crossentropy", (T, P), {}), ("binary_crossentropy", (T, X), {"from_logits": True}),
    ("categorical_crossentropy", (T, P), {}), ("categorical_crossentropy", (T, X), {"from_logits": True}),
    ("categorical_crossentropy", (T.T, X.T), {"from_logits": True, "axis": 0}),
    ("sparse_categorical_crossentropy", (LABELS, P), {}),
    ("sparse_categorical_crossentropy", (LABELS[:, None], X), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (np.array([1, 0, 0, 1]), X3[0, :2]), {"from_logits": True, "axis": 0}),
    ("einsum", ("ij,jk->ik", X, Y), {}), ("einsum", ("bij,jk", X3, Y), {}), ("einsum", ("ij->", X), {}),
    ("einsum", ("i,j->ij", V, V), {}),
    # the functions of the list that glassnet.ops had before: the same calls agree too
    ("convert_to_tensor", (X,), {}), ("cast", (X, "float64"), {}), ("reshape", (X, (2, 6)), {}),
    ("transpose", (X3, (2, 0, 1)), {}), ("expand_dims", (X, 1), {}), ("squeeze", (X[None],), {}),
    ("concatenate", ([X, X],), {"axis": 1}), ("stack", ([X, X],), {}), ("where", (X > 0, X, 0.0), {}),
    ("clip", (X, -0.5, 0.5), {}), ("abs", (X,), {}), ("exp", (X,), {}), ("log", (P + 0.5,), {}),
    ("sqrt", (P,), {}), ("square", (X,), {}), ("power", (P, 1.5), {}), ("maximum", (X, 0.1), {}),
    ("minimum", (X, X[:, :1]), {}), ("sum", (X,), {"axis": 1}), ("mean", (X3,), {"axis": (0, 2), "keepdims": True}),
    ("max", (X,), {}), ("min", (X,), {"axis": 0}), ("one_hot", (LABELS, 4), {}), ("matmul", (X, Y), {}),
    ("sigmoid", (X,), {}), ("tanh", (X,), {}), ("softmax", (X,), {}), ("log_softmax", (X,), {"axis": 0}),
    ("logsumexp", (X,), {"axis": -1}),
]


def as_list(value, kops) -> list[np.ndarray]:
    items = value if isinstance(value, (list, tuple)) else [value]
    return [kops.convert_to_numpy(v) if not isinstance(v, Tensor) else ops.convert_to_numpy(v) for v in items]


@pytest.mark.parametrize("name, args, kwargs", CALLS, ids=[f"{c[0]}-{i}" for i, c in enumerate(CALLS)])
def test_matches_keras_ops(kops, name, args, kwargs):
    ours = getattr(ops, name)(*args, **kwargs)
    theirs = getattr(kops, name)(*args, **kwargs)
    if isinstance(theirs, (list, tuple)):  # split's list, top_k's pair (torch's named tuple in Keras)
        assert isinstance(ours, list) == isinstance(theirs, list), f"{name}: {type(ours)} vs {type(theirs)}"
    else:
        assert isinstance(ours, Tensor), f"{name}: {type(ours)}"
    ours_list, theirs_list = as_list(ours, kops), as_list(theirs, kops)
    assert len(ours_list) == len(theirs_list)
    for a, b in zip(ours_list, theirs_list):
        assert a.shape == b.shape, f"{name}{args}: shape {a.shape}, keras {b.shape}"
        assert a.dtype == b.dtype, f"{name}{args}: dtype {a.dtype}, keras {b.dtype}"
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6, err_msg=f"{name}{args} {kwargs}")


def test_dot_of_n_d_arrays_follows_numpy():
    """Keras's documentation gives NumPy's rule (its torch backend runs matmul, which refuses these shapes)."""
    x, y = RNG.standard_normal((2, 3, 4)), RNG.standard_normal((5, 4, 6))
    np.testing.assert_allclose(ops.dot(x, y).numpy(), np.dot(x, y), rtol=1e-12)
    np.testing.assert_allclose(ops.dot(x, Y.astype("float64")).numpy(), np.dot(x, Y), rtol=1e-12)


@pytest.mark.parametrize("pad_width, mode", [(1, "constant"), ((2,), "constant"), (((1, 2), (0, 3)), "symmetric"),
                                             (((2, 0), (1, 3)), "edge"), (((3, 1), (4, 2)), "wrap")])
def test_pad_follows_numpy_where_keras_torch_differs(pad_width, mode):
    """Keras's documentation gives NumPy's rule; its torch backend pads an int pad_width on the last axis only and
    pads 'symmetric' as 'edge' (Keras 3.15), so np.pad is the reference for these."""
    np.testing.assert_array_equal(ops.pad(X, pad_width, mode=mode).numpy(), np.pad(X, pad_width, mode=mode))


def test_shape_and_convert_to_numpy(kops):
    for value in (X, X3, np.float32(2.0), ops.ones((2, 0, 3))):
        assert ops.shape(value) == tuple(kops.shape(ops.convert_to_numpy(value)))
        assert all(type(n) is int for n in ops.shape(value))
    out = ops.convert_to_numpy(ops.cast(X, "float64"))
    assert type(out) is np.ndarray and out.dtype == np.float64 and out.flags.writeable
    np.testing.assert_array_equal(out, X.astype("float64"))
    np.testing.assert_array_equal(ops.convert_to_numpy([1, 2]), kops.convert_to_numpy([1, 2]))


def test_new_tensors_and_indices_carry_no_gradient():
    x = Tensor(X, requires_grad=True)
    made = [ops.zeros((2,)), ops.ones_like(x), ops.full_like(x, 3.0), ops.arange(3), ops.eye(2), ops.argmax(x),
            ops.argmin(x, axis=0), ops.argsort(x), ops.top_k(x, 2)[1]]
    for t in made:
        assert isinstance(t, Tensor) and t.op is None and not t.requires_grad
    values = ops.top_k(x, 2)[0]
    assert values.requires_grad  # the values are differentiable (gradients: test_ops_reference.py)


def test_split_and_top_k_return_python_containers(kops):
    assert isinstance(ops.split(X, 2, axis=1), list) and isinstance(kops.split(X, 2, axis=1), list)
    values, indices = ops.top_k(X, 3)
    np.testing.assert_array_equal(np.take_along_axis(X, indices.numpy(), -1), values.numpy())


def test_relu_of_negative_values_is_positive_zero_like_keras(kops):
    z = np.array([-0.0, -1.0, 0.0, 2.0], dtype="float32")
    ours, theirs = ops.relu(z).numpy(), kops.convert_to_numpy(kops.relu(z))
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


@pytest.mark.parametrize("call, error, received", [
    (lambda: ops.zeros((2, -1)), ValueError, r"received shape=\(2, -1\)"),
    (lambda: ops.full("ab", 1.0), ValueError, r"received shape='ab'"),
    (lambda: ops.arange(0, 5, 0), ValueError, "received step=0"),
    (lambda: ops.eye(-1), ValueError, "received N=-1"),
    (lambda: ops.eye(2, 2.5), ValueError, "received M=2.5"),
    (lambda: ops.split(np.ones(5), 2), ValueError, "size 5 cannot be cut into 2"),
    (lambda: ops.split(X, 2, axis=3), ValueError, "axis 3 is out of range"),
    (lambda: ops.top_k(X, 9), ValueError, r"received k=9 for shape \(3, 4\)"),
    (lambda: ops.take(X, [0.5]), TypeError, "received an array of dtype float64"),
    (lambda: ops.take_along_axis(X, np.array([0, 1]), axis=0), ValueError, r"received indices of shape \(2,\)"),
    (lambda: ops.tile(X, -1), ValueError, "received repeats=-1"),
    (lambda: ops.repeat(X, [1, 2], axis=0), ValueError, r"received repeats=\[1, 2\]"),
    (lambda: ops.pad(X, 1, mode="median"), ValueError, "received mode='median'"),
    (lambda: ops.pad(X, -1), ValueError, "received pad_width=-1"),
    (lambda: ops.pad(X, (1, 2, 3)), ValueError, r"received pad_width=\(1, 2, 3\)"),
    (lambda: ops.pad(X, 1, mode="edge", constant_values=1.0), ValueError, "received mode='edge'"),
    (lambda: ops.norm(X, ord="nuc"), NotImplementedError, "received ord='nuc'"),
    (lambda: ops.norm(X3, ord=1), ValueError, r"received shape \(2, 3, 4\)"),
    (lambda: ops.norm(X, axis=(0, 0)), ValueError, r"received axis=\(0, 0\)"),
    (lambda: ops.dot(X3, np.ones((2, 3, 5))), ValueError, r"received shapes \(2, 3, 4\) and \(2, 3, 5\)"),
    (lambda: ops.cumsum(X, axis=2), ValueError, "axis 2 is out of range"),
    (lambda: ops.einsum("ii->i", np.eye(2)), NotImplementedError, "received 'ii->i'"),
    (lambda: ops.einsum("...ij->ij", X), NotImplementedError, r"received '\.\.\.ij->ij'"),
    (lambda: ops.einsum("ij,jk->ik", X), ValueError, "name 2 operands, received 1"),
    (lambda: ops.einsum("ijk->i", X), ValueError, r"subscripts 'ijk' for an operand of shape \(3, 4\)"),
    (lambda: ops.binary_crossentropy(T[:2], P), ValueError, r"received target.shape=\(2, 4\), output.shape=\(3, 4\)"),
    (lambda: ops.categorical_crossentropy(T, P[:, :3]), ValueError, r"output.shape=\(3, 3\)"),
    (lambda: ops.sparse_categorical_crossentropy([0, 4, 1], P), ValueError, "received values from 0 to 4"),
    (lambda: ops.sparse_categorical_crossentropy([0, 1], P), ValueError, r"received target.shape=\(2,\)"),
])
def test_bad_arguments_name_what_was_received(call, error, received):
    with pytest.raises(error, match=received):
        call()


def test_where_without_values_gives_the_indices_like_keras(keras):
    """keras.ops.where(condition): the indices where it holds (Keras on torch stacks them, one row per axis)."""
    condition = np.array([[True, False, True], [False, True, False]])
    got = ops.where(condition)
    expected = keras.ops.convert_to_numpy(keras.ops.where(condition))
    np.testing.assert_array_equal(np.stack([index.numpy() for index in got]), expected)
    assert all(index.dtype == np.int64 for index in got)
    for k in (keras, None):
        with pytest.raises(ValueError, match="either both should be `None`"):
            (k.ops.where if k else ops.where)(condition, 1.0)
