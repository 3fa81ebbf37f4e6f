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


def _gru_steps(lib, gates, state, xw_steps, hu_steps, h0):
    """h after each step: with glassnet's two ops, or PyTorch's sigmoid, tanh and products gate by gate."""
    h, hs = h0, []
    for xw, hu in zip(xw_steps, hu_steps):
        if gates is None:
            z, r = lib.sigmoid(xw[:, :3] + hu[:, :3]), lib.sigmoid(xw[:, 3:6] + hu[:, 3:6])
            h_tilde = lib.tanh(xw[:, 6:] + r * hu[:, 6:])
            h = z * h + (1 - z) * h_tilde
        else:
            h = state.apply(gates.apply(hu, xw), h)
        hs.append(h)
    return hs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_gru_steps_two_ops_give_pytorchs_values_and_gradients(dtype):
    """a = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)], h = z ⊙ h_prev + (1 − z) ⊙ h̃ over three steps
    sharing h (each state's gradient sums two paths), against PyTorch gate by gate: every input part's, recurrent
    part's and h⟨0⟩'s gradient, saturated gates included."""
    import torch

    from glassnet.autodiff.ops_recurrent import GruGates, GruState

    rng = np.random.default_rng(17)
    xw_values = [rng.normal(scale=2.0, size=(4, 9)) for _ in range(3)]
    hu_values = [rng.normal(scale=2.0, size=(4, 9)) for _ in range(3)]
    xw_values[0][0, :] = [40, -40, 0, -40, 40, 0, 20, -20, 0]
    h0_value, weights = rng.normal(size=(4, 3)), [rng.normal(size=(4, 3)) for _ in range(3)]
    xws, hus = [Variable(v, dtype=dtype) for v in xw_values], [Variable(v, dtype=dtype) for v in hu_values]
    h0 = Variable(h0_value, dtype=dtype)
    hs = _gru_steps(ops, GruGates, GruState, xws, hus, h0)
    loss = sum((h * Tensor(w.astype(dtype))).sum() for h, w in zip(hs, weights))
    loss.backward()
    as_torch = [[torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in values]
                for values in (xw_values, hu_values, [h0_value])]
    ths = _gru_steps(torch, None, None, *as_torch[:2], as_torch[2][0])
    expected = sum((h * torch.tensor(w, dtype=h.dtype)).sum() for h, w in zip(ths, weights))
    expected.backward()
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(loss.item(), expected.item(), **tolerance)
    for h, th in zip(hs, ths):
        np.testing.assert_allclose(h.numpy(), th.detach().numpy(), **tolerance)
    for mine, theirs in zip([*xws, *hus, h0], [t for group in as_torch for t in group]):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tolerance)


def test_a_gru_steps_two_ops_pass_central_differences():
    from glassnet.autodiff import gradcheck
    from glassnet.autodiff.ops_recurrent import GruGates, GruState

    rng = np.random.default_rng(18)

    def step(xw, hu, h_prev):
        return GruState.apply(GruGates.apply(hu, xw), h_prev) * 2 + h_prev

    gradcheck(step, [rng.normal(scale=2.0, size=(3, 6)), rng.normal(scale=2.0, size=(3, 6)), rng.normal(size=(3, 2))])


@pytest.mark.parametrize("reset_after", [True, False])
def test_a_gru_cell_uses_the_two_ops_for_its_defaults_only_and_every_way_agrees(reset_after):
    """GRUCell writes its default step (sigmoid, tanh, reset_after=True) as GruGates and GruState; with another
    recurrent activation (a sigmoid that is not glassnet's own function) each gate is its own op, as it is for
    reset_after=False. Same weights, same values and gradients."""
    from glassnet import layers

    def gru(recurrent_activation):
        return layers.GRU(6, recurrent_activation=recurrent_activation, reset_after=reset_after,
                          return_sequences=True, bias_initializer="random_normal", dtype="float64")

    fused_kinds, gate_kinds = _fused_and_gate_by_gate_agree(gru, seed=19)
    assert ({"GruGates", "GruState"} <= fused_kinds) is reset_after and ("Sigmoid" in fused_kinds) is not reset_after
    assert "GruGates" not in gate_kinds and "Sigmoid" in gate_kinds


def _fused_and_gate_by_gate_agree(make_layer, seed: int) -> tuple[set[str], set[str]]:
    """Run the layer ``make_layer(recurrent_activation)`` with glassnet's sigmoid and with a sigmoid that is not
    glassnet's own function (so each gate is its own op), from the same weights, on the same sequences; assert the
    values and gradients agree and return the op kinds each way wrote."""
    import glassnet as keras

    x = np.random.default_rng(seed).normal(size=(5, 4, 3))
    runs = []
    for recurrent_activation in ("sigmoid", lambda t: ops.sigmoid(t)):
        keras.utils.set_random_seed(1)
        layer = make_layer(recurrent_activation)
        inputs = Variable(x, dtype="float64")
        out = layer(inputs)
        kinds = {type(t.op).__name__ for t in keras.autodiff.topological_order(out)}
        (out * out).sum().backward()
        runs.append((out.numpy(), inputs.grad, [w.grad for w in layer.trainable_weights], kinds))
    (fused, dx_fused, dw_fused, fused_kinds), (gates, dx_gates, dw_gates, gate_kinds) = runs
    np.testing.assert_allclose(fused, gates, rtol=1e-12, atol=1e-14)
    for got, expected in zip([dx_fused, *dw_fused], [dx_gates, *dw_gates]):
        np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-12)
    return fused_kinds, gate_kinds


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


def _lstm_steps(lib, gates, state, output, z_steps, c0):
    """c and h after each step of z: with glassnet's three ops, or PyTorch's sigmoid, tanh and products."""
    c, hs = c0, []
    for z in z_steps:
        if gates is None:  # PyTorch: the textbook equations, gate by gate
            i, f, c_tilde, o = lib.sigmoid(z[:, :3]), lib.sigmoid(z[:, 3:6]), lib.tanh(z[:, 6:9]), lib.sigmoid(z[:, 9:])
            c = f * c + i * c_tilde
            hs.append(o * lib.tanh(c))
        else:
            a = gates.apply(z)
            c = state.apply(a, c)
            hs.append(output.apply(a, c))
    return c, hs


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_an_lstm_steps_three_ops_give_pytorchs_values_and_gradients(dtype):
    """a = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)], c = f ⊙ c_prev + i ⊙ c̃, h = o ⊙ tanh(c) over three steps sharing
    c (so each state's gradient sums two paths), against PyTorch's gate-by-gate equations: every z's and c⟨0⟩'s
    gradient, saturated gates included."""
    import torch

    from glassnet.autodiff.ops_recurrent import LstmCellOutput, LstmCellState, LstmGates

    rng = np.random.default_rng(7)
    z_values = [rng.normal(scale=2.0, size=(4, 12)) for _ in range(3)]
    z_values[0][0, :] = [40, -40, 0, -40, 40, 0, 20, -20, 0, 40, -40, 0]
    c0_value, weights = rng.normal(size=(4, 3)), [rng.normal(size=(4, 3)) for _ in range(4)]
    zs = [Variable(v, dtype=dtype) for v in z_values]
    c0 = Variable(c0_value, dtype=dtype)
    c, hs = _lstm_steps(ops, LstmGates, LstmCellState, LstmCellOutput, zs, c0)
    loss = sum(((h * Tensor(w.astype(dtype))).sum() for h, w in zip(hs, weights)), (c * c).sum())
    loss.backward()
    torch_zs = [torch.tensor(v, dtype=getattr(torch, dtype), requires_grad=True) for v in z_values]
    torch_c0 = torch.tensor(c0_value, dtype=getattr(torch, dtype), requires_grad=True)
    tc, ths = _lstm_steps(torch, None, None, None, torch_zs, torch_c0)
    expected = sum(((h * torch.tensor(w, dtype=h.dtype)).sum() for h, w in zip(ths, weights)), (tc * tc).sum())
    expected.backward()
    tolerance = {"rtol": 1e-5, "atol": 1e-6} if dtype == "float32" else {"rtol": 1e-12, "atol": 1e-14}
    np.testing.assert_allclose(loss.item(), expected.item(), **tolerance)
    for h, th in zip(hs, ths):
        np.testing.assert_allclose(h.numpy(), th.detach().numpy(), **tolerance)
    for mine, theirs in zip([*zs, c0], [*torch_zs, torch_c0]):
        np.testing.assert_allclose(mine.grad, theirs.grad.numpy(), **tolerance)


def test_an_lstm_steps_three_ops_pass_central_differences():
    from glassnet.autodiff import gradcheck
    from glassnet.autodiff.ops_recurrent import LstmCellOutput, LstmCellState, LstmGates

    rng = np.random.default_rng(8)

    def step(z, c_prev):
        a = LstmGates.apply(z)
        c = LstmCellState.apply(a, c_prev)
        return LstmCellOutput.apply(a, c) * 2 + c

    gradcheck(step, [rng.normal(scale=2.0, size=(3, 8)), rng.normal(size=(3, 2))])


def test_an_lstm_cell_uses_the_three_ops_for_sigmoid_and_tanh_only_and_both_ways_agree():
    """LSTMCell writes its default step as LstmGates, LstmCellState and LstmCellOutput; with other activations
    (here a sigmoid that is not glassnet's own function) it writes each gate as its own op. Same weights, same
    values and gradients."""
    from glassnet import layers

    def lstm(recurrent_activation):
        return layers.LSTM(6, recurrent_activation=recurrent_activation, return_sequences=True, dtype="float64")

    fused_kinds, gate_kinds = _fused_and_gate_by_gate_agree(lstm, seed=9)
    assert {"LstmGates", "LstmCellState", "LstmCellOutput"} <= fused_kinds and "Sigmoid" not in fused_kinds
    assert "LstmGates" not in gate_kinds and "Sigmoid" in gate_kinds
