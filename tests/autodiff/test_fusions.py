"""Fusions (autodiff/fusions.py): the cross-entropies read the logits behind a sigmoid or softmax, with or without
a recorded gradient, so evaluate's loss is fit's; a softmax over another axis is not fused."""

import contextlib

import numpy as np
import pytest

from glassnet import losses, no_grad, ops
from glassnet.autodiff import Tensor, Variable
from glassnet.autodiff.fusions import logits_behind


@pytest.mark.parametrize("recording", [True, False])
def test_sigmoid_and_softmax_lead_back_to_their_logits(recording):
    z = Variable(np.array([[30.0, -2.0, 0.5]]), dtype="float64")
    with contextlib.nullcontext() if recording else no_grad():
        assert logits_behind(ops.sigmoid(z), "sigmoid") is z
        assert logits_behind(ops.softmax(z), "softmax") is z
        assert logits_behind(ops.softmax(z, axis=0), "softmax") is None  # not the class axis
        assert logits_behind(ops.sigmoid(z), "softmax") is None and logits_behind(ops.tanh(z), "sigmoid") is None


def test_binary_crossentropy_of_a_saturated_sigmoid_is_exact_under_no_grad():
    """σ(30) rounds to 1 in float64's last bits; clipping it would give −ln(1e-7) = 16.118 for y = 0. Fused, the loss
    is max(z, 0) − z·y + ln(1 + e^−|z|) = 30 + 9.4e-14."""
    z = Tensor(np.array([[30.0]]))
    with no_grad():
        fused = losses.binary_crossentropy(np.array([[0.0]]), ops.sigmoid(z))
    assert fused.item() == pytest.approx(30.0 + np.log1p(np.exp(-30.0)), rel=1e-15)
    clipped = losses.binary_crossentropy(np.array([[0.0]]), Tensor(np.array([[1.0]])))
    assert clipped.item() == pytest.approx(-np.log(1e-7), rel=1e-6)


@pytest.mark.parametrize("rank, pool_size, strides", [(2, 2, None), (2, 3, 1), (2, (2, 3), (1, 2)), (1, 2, None),
                                                      (1, 3, 2)])
def test_max_pooling_of_a_relu_runs_the_relu_after_it_with_pytorchs_values_and_gradients(rank, pool_size, strides):
    """maxpool(relu(z)) runs as one op reading z, relu(maxpool(z)) (fusions.relu_behind): the same values, and the
    gradient reaches the same inputs as PyTorch's relu then max_pool, on data full of ties, zeros and all-negative
    windows."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(rank)
    shape = (2, 7, 6, 3) if rank == 2 else (2, 9, 3)
    z_values = rng.integers(-2, 3, size=shape).astype("float64")
    upstream = rng.normal(size=ops.max_pool(z_values, pool_size, strides).shape)
    z = Variable(z_values, dtype="float64")
    pooled = ops.max_pool(ops.relu(z), pool_size, strides)
    assert type(pooled.op).__name__ == f"MaxPoolRelu{rank}d" and pooled.op.inputs[0] is z
    (pooled * Tensor(upstream)).sum().backward()

    reference = torch.tensor(np.moveaxis(z_values, -1, 1), requires_grad=True)
    pool = torch.nn.functional.max_pool2d if rank == 2 else torch.nn.functional.max_pool1d
    expected = pool(torch.relu(reference), pool_size, strides or pool_size)
    expected.backward(torch.tensor(np.moveaxis(upstream, -1, 1)))
    np.testing.assert_array_equal(pooled.numpy(), np.moveaxis(expected.detach().numpy(), 1, -1))
    # overlapping windows add their shares in another order than PyTorch's: equal up to float64 rounding
    np.testing.assert_allclose(z.grad, np.moveaxis(reference.grad.numpy(), 1, -1), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("sum_first", [True, False])
def test_slices_add_their_gradients_in_place_into_the_paths_sum_with_pytorchs_values(sum_first):
    """A tensor cut into slices (an LSTM's four gates, its timesteps): the first slice's backward makes x's gradient,
    the others add into it in place (GetItem.backward_into); a gradient another tensor shares (an addition passes
    its dz to both inputs) is never written into. Values and gradients as PyTorch's."""
    import torch

    from glassnet.autodiff.graph import backward

    rng = np.random.default_rng(3)
    a0, b0, c0 = rng.normal(size=(3, 4, 8))
    fancy = np.array([0, 2, 2, 5])

    def run(lib, a, b, c):
        t = a * b
        if sum_first:  # the walk reaches t's slices first
            s = t + b
        slices = [t[:, 0:2], t[:, 2:4], t[:, 4:8], t[:, fancy]]
        if not sum_first:  # t's first gradient comes from s = t + b, the same array as b's
            s = t + b
        weights = [c[:, 0:2], c[:, 2:4], 2 * c[:, 4:8], c[:, :4]]
        total = (s * c).sum() + sum((lib.tanh(p) * w).sum() for p, w in zip(slices, weights))
        return total

    tensors = [Variable(v, dtype="float64") for v in (a0, b0, c0)]
    visits = []
    loss = run(ops, *tensors)
    backward(loss, visits=visits)
    reference = [torch.tensor(v, requires_grad=True) for v in (a0, b0, c0)]
    expected = run(torch, *reference)
    expected.backward()
    assert loss.item() == pytest.approx(expected.item(), rel=1e-12)
    for mine, theirs in zip(tensors, reference):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), rtol=1e-12, atol=1e-12)
    in_place = [v for v in visits if v.received[0] is not None and v.received[0].into]
    assert len(in_place) == 3  # the first slice's backward (or the shared sum's copy) makes the array the rest add into
