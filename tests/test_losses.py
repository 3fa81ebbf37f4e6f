"""Losses against closed forms written here, the fused A − Y gradient, Keras 3 weighting, and label errors."""

import warnings

import numpy as np
import pytest

from glassnet import losses, ops
from glassnet.autodiff.tensor import Variable

EPS = 1e-7


def f64(x):
    return np.asarray(x, dtype=np.float64)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# ----- values against closed forms -----------------------------------------------------------------------------
def test_binary_crossentropy_closed_form_with_clipping_edges():
    y = f64([[1, 0], [0, 1], [1, 1]])
    p = f64([[0.0, 1.0], [0.3, 0.8], [1.0, 0.5]])  # p = 0 and p = 1 are clipped to ε and 1 − ε
    q = np.clip(p, EPS, 1 - EPS)
    expected = -(y * np.log(q) + (1 - y) * np.log(1 - q)).mean(axis=-1)
    np.testing.assert_allclose(losses.binary_crossentropy(y, p).data, expected, rtol=1e-12)
    assert losses.binary_crossentropy(f64([[1.0]]), f64([[0.0]])).item() == pytest.approx(-np.log(EPS), rel=1e-12)
    np.testing.assert_allclose(losses.BinaryCrossentropy()(y, p).item(), expected.mean(), rtol=1e-12)


def test_binary_crossentropy_label_smoothing():
    y, p = f64([[1.0], [0.0]]), f64([[0.9], [0.2]])
    ys = y * 0.8 + 0.5 * 0.2
    expected = -(ys * np.log(p) + (1 - ys) * np.log(1 - p)).mean()
    assert losses.BinaryCrossentropy(label_smoothing=0.2)(y, p).item() == pytest.approx(expected, rel=1e-12)


def test_categorical_crossentropy_normalizes_then_clips():
    y = f64([[0, 1, 0], [1, 0, 0]])
    p = f64([[0.2, 0.6, 0.2], [0.0, 2.0, 2.0]])  # second row: sums to 4, true class has probability 0
    q = np.clip(p / p.sum(axis=-1, keepdims=True), EPS, 1 - EPS)
    expected = -(y * np.log(q)).sum(axis=-1)
    np.testing.assert_allclose(losses.categorical_crossentropy(y, p).data, expected, rtol=1e-12)
    ls = 0.1
    ys = y * (1 - ls) + ls / 3
    expected_smooth = -(ys * np.log(q)).sum(axis=-1).mean()
    assert losses.CategoricalCrossentropy(label_smoothing=ls)(y, p).item() == pytest.approx(expected_smooth, rel=1e-12)


def test_sparse_categorical_crossentropy_matches_one_hot_and_ignore_class():
    p = f64([[0.1, 0.7, 0.2], [0.5, 0.25, 0.25], [0.0, 0.0, 1.0], [0.3, 0.3, 0.4]])
    labels = np.array([1, 0, 0, 2])
    q = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    expected = -np.log(q[np.arange(4), labels])
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels, p).data, expected, rtol=1e-12)
    np.testing.assert_allclose(losses.sparse_categorical_crossentropy(labels[:, None], p).data, expected, rtol=1e-12)
    # ignore_class: those samples count neither in the sum nor in the divisor (up to Keras's ε in the count)
    loss = losses.SparseCategoricalCrossentropy(ignore_class=0)(labels, p).item()
    kept = labels != 0
    assert loss == pytest.approx(expected[kept].sum() * 4 / (kept.sum() + EPS) / 4, rel=1e-12)


def test_regression_losses_closed_form():
    y = f64([[1.0, 2.0], [0.0, -1.0]])
    p = f64([[1.5, 0.0], [3.0, -1.0]])
    e = p - y
    np.testing.assert_allclose(losses.mean_squared_error(y, p).data, (e ** 2).mean(-1), rtol=1e-12)
    np.testing.assert_allclose(losses.mean_absolute_error(y, p).data, np.abs(e).mean(-1), rtol=1e-12)
    d = 1.0
    hub = np.where(np.abs(e) <= d, 0.5 * e ** 2, d * np.abs(e) - 0.5 * d * d)
    np.testing.assert_allclose(losses.huber(y, p).data, hub.mean(-1), rtol=1e-12)
    np.testing.assert_allclose(losses.Huber(delta=2.0)(y, p).item(),
                               np.where(np.abs(e) <= 2, 0.5 * e ** 2, 2 * np.abs(e) - 2).mean(), rtol=1e-12)


def test_hinge_converts_zero_one_labels():
    y01, y_pm = f64([[0, 1, 1]]), f64([[-1, 1, 1]])
    p = f64([[0.3, 0.4, -2.0]])
    expected = np.maximum(1 - y_pm * p, 0).mean(-1)
    np.testing.assert_allclose(losses.hinge(y01, p).data, expected, rtol=1e-12)
    np.testing.assert_allclose(losses.hinge(y_pm, p).data, expected, rtol=1e-12)


def test_rank_one_labels_against_column_predictions():
    y, p = f64([1.0, 2.0, 4.0]), f64([[1.0], [0.0], [2.0]])
    assert losses.MeanSquaredError()(y, p).item() == pytest.approx((0 + 4 + 4) / 3)


# ----- reduction and sample weights (Keras 3: divide by the number of losses, not by Σw) ------------------------
def test_sample_weight_sum_over_batch_size_divides_by_count():
    y, p = f64([[1.0], [2.0], [3.0], [4.0]]), f64([[0.0], [0.0], [0.0], [0.0]])
    w = f64([1.0, 0.0, 2.0, 0.5])
    per_sample = y[:, 0] ** 2
    assert losses.MeanSquaredError()(y, p, sample_weight=w).item() == pytest.approx((w * per_sample).sum() / 4)
    assert losses.MeanSquaredError(reduction="sum")(y, p, w).item() == pytest.approx((w * per_sample).sum())
    assert losses.MeanSquaredError(reduction="mean_with_sample_weight")(y, p, w).item() == pytest.approx(
        (w * per_sample).sum() / w.sum())
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y, p, w).data, w * per_sample)
    # a (m, 1) weight against (m,) losses: Keras expands the losses to (m, 1)
    np.testing.assert_allclose(losses.MeanSquaredError(reduction="none")(y, p, w[:, None]).data,
                               (w * per_sample)[:, None])


# ----- the fused gradient: dZ = (A − Y)/m ----------------------------------------------------------------------
def test_sigmoid_output_gradient_is_a_minus_y_over_m():
    rng = np.random.default_rng(0)
    m = 7
    z = Variable(rng.normal(size=(m, 1)) * 3, dtype="float64")
    y = rng.integers(0, 2, size=(m, 1)).astype(np.float64)
    a = ops.sigmoid(z)
    losses.BinaryCrossentropy()(y, a).backward()
    np.testing.assert_allclose(z.grad, (sigmoid(z.value) - y) / m, atol=1e-12, rtol=0)


def test_softmax_output_gradient_is_a_minus_y_over_m_categorical_and_sparse():
    rng = np.random.default_rng(1)
    m, k = 6, 4
    labels = rng.integers(0, k, size=m)
    y = np.eye(k)[labels]
    for loss, target in ((losses.CategoricalCrossentropy(), y), (losses.SparseCategoricalCrossentropy(), labels)):
        z = Variable(rng.normal(size=(m, k)) * 3, dtype="float64")
        loss(target, ops.softmax(z)).backward()
        np.testing.assert_allclose(z.grad, (softmax(z.value) - y) / m, atol=1e-12, rtol=0)


def test_fused_path_even_for_saturated_outputs():
    """σ(40) rounds to 1 in float64: the clipped formula would stop the gradient, the fused one gives A − Y."""
    z = Variable(f64([[40.0], [-40.0]]), dtype="float64")
    y = f64([[0.0], [1.0]])
    losses.BinaryCrossentropy()(y, ops.sigmoid(z)).backward()
    np.testing.assert_allclose(z.grad, (sigmoid(z.value) - y) / 2, atol=1e-12)


def test_from_logits_matches_probabilities():
    rng = np.random.default_rng(2)
    z = rng.normal(size=(5, 3))
    y = rng.integers(0, 2, size=(5, 3)).astype(np.float64)
    from_logits = losses.BinaryCrossentropy(from_logits=True)(y, z).item()
    from_probs = losses.BinaryCrossentropy()(y, sigmoid(z)).item()  # plain array: the clipped formula
    fused = losses.BinaryCrossentropy()(y, ops.sigmoid(Variable(z, dtype="float64"))).item()
    assert from_logits == pytest.approx(from_probs, rel=1e-10)
    assert fused == pytest.approx(from_probs, rel=1e-10)
    labels = rng.integers(0, 3, size=5)
    assert losses.SparseCategoricalCrossentropy(from_logits=True)(labels, z).item() == pytest.approx(
        losses.SparseCategoricalCrossentropy()(labels, softmax(z)).item(), rel=1e-10)
    assert losses.CategoricalCrossentropy(from_logits=True)(np.eye(3)[labels], z).item() == pytest.approx(
        losses.CategoricalCrossentropy()(np.eye(3)[labels], softmax(z)).item(), rel=1e-10)


def test_from_logits_true_on_a_sigmoid_output_warns():
    a = ops.sigmoid(Variable(f64([[0.5]]), dtype="float64"))
    with pytest.warns(UserWarning, match="from_logits=True"):
        loss = losses.BinaryCrossentropy(from_logits=True)(f64([[1.0]]), a)
    # as Keras: a warning, then the probabilities are read as logits: −ln σ(σ(0.5)) = ln(1 + e^−σ(0.5))
    assert loss.item() == pytest.approx(np.log1p(np.exp(-sigmoid(0.5))), rel=1e-12)


# ----- lookup --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name, fn", [("mse", losses.mean_squared_error), ("MSE", losses.mean_squared_error),
                                      ("mae", losses.mean_absolute_error), ("MAE", losses.mean_absolute_error),
                                      ("bce", losses.binary_crossentropy), ("hinge", losses.hinge),
                                      ("sparse_categorical_crossentropy", losses.sparse_categorical_crossentropy)])
def test_get_strings_and_aliases(name, fn):
    loss = losses.get(name)
    assert isinstance(loss, losses.Loss) and loss.fn is fn


def test_get_classes_instances_and_callables():
    assert isinstance(losses.get("BinaryCrossentropy"), losses.BinaryCrossentropy)
    inst = losses.Huber(delta=3.0)
    assert losses.get(inst) is inst

    def custom(y_true, y_pred):
        return ops.mean(ops.abs(y_pred - y_true) * 2.0, axis=-1)

    assert losses.get(custom)(f64([[1.0], [3.0]]), f64([[0.0], [0.0]])).item() == pytest.approx(4.0)
    with pytest.raises(ValueError, match="Could not interpret loss identifier"):
        losses.get("msee")
    with pytest.raises(TypeError, match="must return a glassnet Tensor"):
        losses.get(lambda y, p: np.zeros(len(y)))(f64([1.0]), f64([1.0]))


def test_serialize_round_trip():
    for loss in (losses.CategoricalCrossentropy(label_smoothing=0.1), losses.get("mse"), losses.Huber(delta=2.5)):
        again = losses.deserialize(losses.serialize(loss))
        assert type(again) is type(loss) and again.get_config() == loss.get_config()


# ----- label errors --------------------------------------------------------------------------------------------
def test_one_hot_labels_to_sparse_loss_error():
    with pytest.raises(ValueError) as err:
        losses.get("sparse_categorical_crossentropy")(np.eye(10)[np.arange(32) % 10], np.full((32, 10), 0.1))
    assert str(err.value) == (
        "received y_true of shape (32, 10): sparse_categorical_crossentropy expects integer class indices of "
        "shape (32,) or (32, 1); use categorical_crossentropy for one-hot labels")


def test_integer_labels_to_categorical_loss_error():
    with pytest.raises(ValueError, match=r"received y_true of shape \(32,\): categorical_crossentropy expects "
                                         r"one-hot labels of shape \(32, 10\); use sparse_categorical_crossentropy"):
        losses.CategoricalCrossentropy()(np.arange(32) % 10, np.full((32, 10), 0.1))


def test_sparse_labels_out_of_range_or_fractional():
    with pytest.raises(ValueError, match=r"class indices in \[0, 3\).*values from -1 to 2"):
        losses.sparse_categorical_crossentropy(np.array([0, 2, -1]), np.full((3, 3), 1 / 3))
    with pytest.raises(ValueError, match="expects integer class indices, received y_true containing 0.5"):
        losses.sparse_categorical_crossentropy(np.array([0.5, 1.0]), np.full((2, 3), 1 / 3))


def test_validate_targets_on_the_whole_dataset():
    y = np.arange(1000) % 10
    losses.validate_targets("sparse_categorical_crossentropy", y, (None, 10))
    losses.validate_targets("categorical_crossentropy", np.eye(10)[y], (None, 10))
    losses.validate_targets("binary_crossentropy", (y % 2)[:, None].astype(float), (None, 1))
    losses.validate_targets("mse", y.astype(float), (None, 1))
    with pytest.raises(ValueError, match=r"received y_true of shape \(None, 10\): sparse_categorical_crossentropy"):
        losses.validate_targets("sparse_categorical_crossentropy", np.eye(10)[y], (None, 10))
    with pytest.raises(ValueError, match=r"class indices in \[0, 9\)"):
        losses.validate_targets(losses.SparseCategoricalCrossentropy(), y, (None, 9))
    losses.validate_targets(losses.SparseCategoricalCrossentropy(ignore_class=-1), np.where(y == 9, -1, y), (None, 9))
    with pytest.raises(ValueError, match=r"categorical_crossentropy expects one-hot labels"):
        losses.validate_targets("categorical_crossentropy", y, (None, 10))
    with pytest.raises(ValueError, match=r"binary_crossentropy expects labels in \[0, 1\]"):
        losses.validate_targets("binary_crossentropy", y.astype(float), (None, 1))
    with pytest.raises(ValueError, match="NaN"):
        losses.validate_targets("mse", np.array([1.0, np.nan]), (None, 1))
    with pytest.raises(ValueError, match=r"mean_squared_error expects y_true and y_pred of the same shape"):
        losses.validate_targets("mse", np.zeros((5, 3)), (None, 2))


def test_float32_stays_float32_and_no_warning_on_normal_use():
    z = Variable(np.zeros((4, 1)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = losses.get("binary_crossentropy")(np.ones(4), ops.sigmoid(z))
        loss.backward()
    assert loss.dtype == np.float32 and z.grad.dtype == np.float32
    assert loss.item() == pytest.approx(np.log(2), rel=1e-6)  # σ(0) = ½ for every sample: −ln ½
    np.testing.assert_allclose(z.grad, np.full((4, 1), (0.5 - 1) / 4), rtol=1e-6)  # (A − Y) / m


def test_a_custom_loss_function_gets_labels_of_the_predictions_rank(keras):
    """Labels of shape (batch,) and predictions of shape (batch, 1): Keras's loss wrapper makes the ranks agree
    before calling a custom function, so it trains as the built-in loss does (broadcasting would have paired every
    label with every prediction and learned nothing)."""
    import glassnet as gk

    def hand_written_bce(k):
        def loss(y_true, y_pred):
            p = k.ops.clip(y_pred, 1e-7, 1 - 1e-7)
            return k.ops.mean(-(y_true * k.ops.log(p) + (1 - y_true) * k.ops.log(1 - p)), axis=-1)
        return loss

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("float32")  # shape (64,)
    weights = [rng.normal(size=(5, 1)).astype("float32"), np.zeros(1, "float32")]
    histories = []
    for k in (keras, gk):
        model = k.Sequential([k.Input((5,)), k.layers.Dense(1, activation="sigmoid")])
        model.set_weights(weights)
        model.compile(optimizer=k.optimizers.SGD(0.5), loss=hand_written_bce(k))
        histories.append(model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history["loss"])
    np.testing.assert_allclose(histories[1], histories[0], rtol=1e-5)
