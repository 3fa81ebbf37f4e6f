"""Regularizers: penalty values against closed forms, their gradients, get/config, and layer.losses."""

import numpy as np
import pytest

from glassnet import regularizers
from glassnet.autodiff import Variable
from glassnet.layers import Dense

W = np.array([[0.5, -1.5, 2.0], [-0.25, 0.0, 3.0]])


def test_defaults_match_keras():
    assert regularizers.L1().l1 == 0.01 and regularizers.L2().l2 == 0.01
    assert (regularizers.L1L2().l1, regularizers.L1L2().l2) == (0.0, 0.0)


def test_values_are_the_closed_forms():
    assert regularizers.L2(0.1)(W).item() == pytest.approx(0.1 * np.sum(W**2))
    assert regularizers.L1(0.3)(W).item() == pytest.approx(0.3 * np.sum(np.abs(W)))
    assert regularizers.L1L2(0.3, 0.1)(W).item() == pytest.approx(0.3 * np.sum(np.abs(W)) + 0.1 * np.sum(W**2))
    assert regularizers.L1L2()(W).item() == 0.0
    assert regularizers.l2(0.5)(W).item() == pytest.approx(0.5 * np.sum(W**2))  # lower-case alias


def test_l2_gradient_is_weight_decay():
    """d(λ Σ w²)/dw = 2λw: the course's weight decay term."""
    w = Variable(W, dtype="float64")
    regularizers.L2(0.1)(w).backward()
    np.testing.assert_allclose(w.grad, 2 * 0.1 * W)


def test_get_and_config():
    by_name = regularizers.get("l2")
    assert type(by_name) is regularizers.L2 and by_name.get_config() == {"l2": 0.01}  # Keras's default factor
    assert type(regularizers.get("L1L2")) is regularizers.L1L2
    assert regularizers.get("l1")(W).item() == pytest.approx(0.01 * np.sum(np.abs(W)))
    reg = regularizers.get({"class_name": "L1L2", "config": {"l1": 0.2, "l2": 0.3}})
    assert reg.get_config() == {"l1": 0.2, "l2": 0.3}
    assert regularizers.deserialize(regularizers.serialize(reg)).get_config() == reg.get_config()
    assert regularizers.get(None) is None
    inst = regularizers.L2(0.4)
    assert regularizers.get(inst) is inst
    with pytest.raises(ValueError, match="Unknown regularizer"):
        regularizers.get("l3")
    with pytest.raises(ValueError, match=r"non-negative.*l2=-1"):
        regularizers.L2(-1)


def test_dense_weight_penalties_in_losses_follow_the_weights():
    layer = Dense(3, kernel_regularizer=regularizers.L2(0.1), bias_regularizer="l1", bias_initializer="ones")
    layer(np.ones((4, 2), dtype=np.float32))
    kernel, bias = layer.get_weights()
    penalties = [p.item() for p in layer.losses]
    assert penalties == pytest.approx([0.1 * np.sum(kernel**2), 0.01 * np.sum(np.abs(bias))], rel=1e-6)
    layer.kernel.assign(np.zeros_like(kernel))  # recomputed from the current value, like Keras 3
    assert layer.losses[0].item() == 0.0
    layer.losses[1].backward()
    np.testing.assert_allclose(layer.bias.grad, 0.01 * np.sign(bias))
    layer.trainable = False
    assert layer.losses == []


def test_activity_regularizer_is_averaged_over_the_batch():
    layer = Dense(2, activity_regularizer=regularizers.L1(0.5), kernel_initializer="ones")
    x = np.array([[1.0, -2.0], [3.0, 0.5], [0.0, 1.0]], dtype=np.float32)
    out = layer(x).numpy()
    (penalty,) = layer.losses
    assert penalty.item() == pytest.approx(0.5 * np.sum(np.abs(out)) / 3)
    layer(x[:1])
    assert len(layer.losses) == 1  # the last call's only
