"""Tensors are immutable, Variables change only through assign*, graphs free after backward, bad input is refused."""

import copy
import pickle

import numpy as np
import pytest

from glassnet import Tensor, Variable, backend, no_grad, ops
from glassnet.autodiff import FreedGraphError, ImmutableTensorError


def test_writing_into_a_tensor_raises_a_clear_error():
    t = Tensor([1.0, 2.0, 3.0])
    with pytest.raises(ImmutableTensorError, match="immutable.*Variable.assign"):
        t[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        t.numpy()[0] = 5.0
    with pytest.raises(ValueError, match="read-only"):
        (t * 2).numpy()[...] = 0
    assert t.tolist() == [1.0, 2.0, 3.0]


def test_tensor_made_from_an_array_does_not_write_it():
    source = np.arange(3.0)
    t = Tensor(source)
    source_still_writable = source.flags.writeable
    assert source_still_writable and not t.numpy().flags.writeable


def test_variable_changes_only_through_assign():
    v = Variable(np.zeros((2, 3)), name="w")
    with pytest.raises(ImmutableTensorError):
        v[0, 0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        v.value[0, 0] = 1.0
    v.assign(np.ones((2, 3)))
    v.assign_add(np.full((2, 3), 2.0))
    v.assign_sub(np.full((2, 3), 0.5))
    assert np.array_equal(v.numpy(), np.full((2, 3), 2.5))
    assert v.dtype == np.float32


def test_variable_assign_with_a_wrong_shape_names_both_shapes():
    v = Variable(np.zeros((2, 3)), name="kernel")
    with pytest.raises(ValueError, match=r"'kernel'.*shape \(2, 3\).*received shape \(3, 2\)"):
        v.assign(np.zeros((3, 2)))
    with pytest.raises(ValueError, match=r"assign_sub expects a value of shape \(2, 3\)"):
        v.assign_sub(np.zeros(3))


def test_float32_by_default_and_float64_on_request():
    assert Tensor([1, 2]).dtype == np.float32
    assert Tensor(np.array([1.0])).dtype == np.float64  # NumPy float arrays keep their dtype
    assert Tensor([1.0], dtype="float64").dtype == np.float64
    x = Tensor([1.0, 2.0])
    assert (x * 2.5).dtype == np.float32 and ops.exp(x).dtype == np.float32
    assert (x + np.array([1.0, 1.0])).dtype == np.float32  # constants take the tensor's float type
    previous = backend.floatx()
    backend.set_floatx("float64")
    try:
        assert Tensor([1, 2]).dtype == np.float64
    finally:
        backend.set_floatx(previous)


def test_gradients_accumulate_and_graph_is_freed_after_backward():
    w = Variable([1.0, 2.0])
    loss = (w * w).sum()
    loss.backward()
    assert np.array_equal(w.grad, [2.0, 4.0])
    with pytest.raises(FreedGraphError, match="retain_graph=True"):
        loss.backward()
    loss2 = (w * 3).sum()
    loss2.backward(retain_graph=True)
    loss2.backward()
    assert np.array_equal(w.grad, [2.0 + 6.0, 4.0 + 6.0])  # accumulated over three backward calls


def test_a_walk_without_intermediate_gradients_gives_the_leaves_the_same_ones():
    """Tensor.backward() leaves .grad on every tensor (to look at); a training step's walk keeps only the leaves'."""
    from glassnet.autodiff import backward

    def run(intermediate_grads):
        w = Variable([1.0, -2.0, 0.5])
        h = ops.tanh(w * 3)
        loss = (h * h).sum()
        backward(loss, intermediate_grads=intermediate_grads)
        return w.grad, h.grad

    (w_all, h_all), (w_leaves, h_leaves) = run(True), run(False)
    np.testing.assert_array_equal(w_leaves, w_all)
    np.testing.assert_allclose(h_all, 2 * np.tanh([3.0, -6.0, 1.5]))
    assert h_leaves is None


def test_no_grad_records_nothing():
    w = Variable([1.0, 2.0])
    with no_grad():
        y = (w * w).sum()
    assert y.op is None and not y.requires_grad
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        y.backward()


def test_non_trainable_variable_gets_no_gradient():
    frozen = Variable([1.0, 2.0], trainable=False)
    w = Variable([3.0, 4.0])
    (frozen * w).sum().backward()
    assert frozen.grad is None and np.array_equal(w.grad, [1.0, 2.0])


def test_backward_of_a_non_scalar_needs_a_grad():
    w = Variable([1.0, 2.0])
    y = w * 3
    with pytest.raises(ValueError, match="scalar"):
        y.backward()
    y.backward(grad=np.array([1.0, 10.0]))
    assert np.array_equal(w.grad, [3.0, 30.0])


def test_matmul_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(32, 100\) and \(784, 512\)"):
        ops.matmul(np.zeros((32, 100)), np.zeros((784, 512)))


def test_non_numeric_input_is_refused():
    with pytest.raises(TypeError, match="numeric.*dtype <U"):
        Tensor(["a", "b"])
    with pytest.raises(TypeError, match="numeric.*object"):
        Tensor(np.array([{}, 1], dtype=object))


def test_python_operators_map_to_ops():
    a = Variable([1.0, 2.0])
    b = Tensor([3.0, 4.0])
    out = (-(a * b) + a / b - 2 ** a + a**2 - 1) @ b
    out.backward()
    expected = -b.numpy() + 1 / b.numpy() - np.log(2) * 2 ** a.numpy() + 2 * a.numpy()
    assert np.allclose(a.grad, expected * b.numpy())
    assert abs(Tensor([-1.5])).tolist() == [1.5]
    assert (b > 3.5).tolist() == [False, True]


def test_no_grad_in_one_thread_does_not_affect_another():
    import threading

    w = Variable([1.0, 2.0])
    inside, release = threading.Event(), threading.Event()
    recorded_there = []

    def hold_no_grad():
        with no_grad():
            inside.set()
            release.wait(5)
            recorded_there.append((w * w).sum().requires_grad)  # still inside no_grad() in that thread

    t = threading.Thread(target=hold_no_grad)
    t.start()
    assert inside.wait(5)
    try:
        y = (w * w).sum()  # this thread still records while the other sits in no_grad()
        assert y.requires_grad
    finally:
        release.set()
        t.join()
    assert recorded_there == [False]  # the other thread's no_grad() was in force all along
    y.backward()
    np.testing.assert_array_equal(w.grad, [2.0, 4.0])  # d(Σ w²)/dw = 2w: the graph was recorded in full


@pytest.mark.parametrize("copier", [copy.deepcopy, lambda v: pickle.loads(pickle.dumps(v))], ids=["deepcopy", "pickle"])
def test_a_copied_variable_still_shows_its_assignments(copier):
    """The read-only value is a view of the writable buffer; a copy must rebuild that view, not copy it apart."""
    original = Variable(np.ones(3), name="w")
    copied = copier(original)
    copied.assign_sub(np.ones(3))
    np.testing.assert_array_equal(copied.value, 0.0)
    np.testing.assert_array_equal(original.value, 1.0)
    assert copied.name == "w" and copied.trainable
