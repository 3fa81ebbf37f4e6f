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
