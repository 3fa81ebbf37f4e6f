"""The regression, hinge and probabilistic losses (Huber, LogCosh, KLDivergence, Poisson, CosineSimilarity, Hinge,
SquaredHinge, CategoricalHinge) against Keras 3 on torch: values with every reduction and sample weights, the
gradient with respect to y_pred (torch's autograd through Keras), float64 central differences, names, configs; and
a custom ``keras.losses.Loss`` subclass trained with compile/fit/evaluate as in Keras."""

import numpy as np
import pytest

import glassnet
from glassnet import losses
from glassnet.autodiff import Tensor, gradcheck

REDUCTIONS = ["sum_over_batch_size", "sum", "mean_with_sample_weight", "none"]


def data(name: str, shape=(6, 4), seed=0):
    """(y_true, y_pred) in each loss's domain, float32; no element sits on a kink of the loss."""
    rng = np.random.default_rng(seed)
    logits = rng.standard_normal(shape)
    if name in ("KLDivergence", "kl_divergence"):
        y = np.exp(rng.standard_normal(shape))
        y[0, 0] = 0.0  # clipped to ε
        return (y / y.sum(-1, keepdims=True)).astype("float32"), (np.exp(logits) / np.exp(logits).sum(
            -1, keepdims=True)).astype("float32")
    if name == "Poisson":
        return rng.poisson(2.0, shape).astype("float32"), np.exp(logits).astype("float32")
    if name in ("Hinge", "SquaredHinge"):
        return rng.integers(0, 2, shape).astype("float32"), logits.astype("float32")
    if name == "CategoricalHinge":
        return np.eye(shape[-1], dtype="float32")[rng.integers(0, shape[-1], shape[:-1])], logits.astype("float32")
    return rng.standard_normal(shape).astype("float32"), (logits * 2).astype("float32")


CASES = [("Huber", {}), ("Huber", {"delta": 0.5}), ("LogCosh", {}), ("KLDivergence", {}), ("Poisson", {}),
         ("CosineSimilarity", {}), ("CosineSimilarity", {"axis": 1}), ("Hinge", {}), ("SquaredHinge", {}),
         ("CategoricalHinge", {})]


def keras_value_and_grad(keras, loss, y, p, sample_weight=None):
    import torch

    tp = torch.tensor(p, requires_grad=True)
    value = loss(torch.tensor(y), tp, sample_weight=None if sample_weight is None else torch.tensor(sample_weight))
    value.sum().backward()
    return value.detach().numpy(), tp.grad.numpy()


def glassnet_value_and_grad(loss, y, p, sample_weight=None):
    tp = Tensor(p, requires_grad=True)
    value = loss(y, tp, sample_weight=sample_weight)
    value.sum().backward()
    return value.numpy(), tp.grad


@pytest.mark.parametrize("name, kwargs", CASES)
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_values_and_gradients_equal_keras(keras, name, kwargs, reduction):
    shape = (6, 4, 3) if kwargs.get("axis") == 1 else (6, 4)
    y, p = data(name, shape)
    weights = np.random.default_rng(1).random((6, 1) if len(shape) == 3 else 6).astype("float32")  # Keras's shapes
    for sample_weight in (None, weights):
        ours = getattr(losses, name)(reduction=reduction, **kwargs)
        theirs = getattr(keras.losses, name)(reduction=reduction, **kwargs)
        value, grad = glassnet_value_and_grad(ours, y, p, sample_weight)
        k_value, k_grad = keras_value_and_grad(keras, theirs, y, p, sample_weight)
        assert value.shape == k_value.shape and value.dtype == k_value.dtype == np.float32
        np.testing.assert_allclose(value, k_value, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(grad, k_grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("fn", ["huber", "log_cosh", "kl_divergence", "poisson", "cosine_similarity", "hinge",
                                "squared_hinge", "categorical_hinge"])
def test_functions_equal_keras_and_pass_gradcheck(keras, fn):
    name = {"kl_divergence": "KLDivergence", "poisson": "Poisson", "hinge": "Hinge", "squared_hinge": "SquaredHinge",
            "categorical_hinge": "CategoricalHinge"}.get(fn, fn)
    y, p = data(name, seed=2)
    ours, theirs = getattr(losses, fn), getattr(keras.losses, fn)
    np.testing.assert_allclose(ours(y, p).numpy(), keras.ops.convert_to_numpy(theirs(y, p)), rtol=1e-5, atol=1e-6)
    gradcheck(lambda q: ours(y.astype("float64"), q), [p.astype("float64")], atol=1e-6, rtol=1e-5)


def test_names_configs_and_get_as_keras(keras):
    for name, kwargs in CASES:
        ours, theirs = getattr(losses, name)(**kwargs), getattr(keras.losses, name)(**kwargs)
        k_config = theirs.get_config()
        assert {k: ours.get_config().get(k, "missing") for k in k_config if k != "dtype"} == {
            k: v for k, v in k_config.items() if k != "dtype"}
        again = losses.deserialize(losses.serialize(ours))
        assert type(again) is type(ours) and again.get_config() == ours.get_config()
    for identifier in ("huber", "log_cosh", "kl_divergence", "kld", "KLD", "poisson", "cosine_similarity",
                       "squared_hinge", "categorical_hinge", "LogCosh", "KLDivergence", "CategoricalHinge"):
        kind = "KLDivergence" if identifier.lower().startswith("k") else "Poisson" if "poisson" in identifier else ""
        y, p = data(kind, seed=3)
        ours, theirs = losses.get(identifier), keras.losses.get(identifier)  # glassnet wraps a function in a Loss
        expected = keras.ops.convert_to_numpy(theirs(y, p)).mean()  # (Keras returns it: per-sample values)
        np.testing.assert_allclose(ours(y, p).numpy(), expected, rtol=1e-5, err_msg=identifier)
    assert losses.kld is losses.KLD is losses.kl_divergence
    with pytest.raises(ValueError, match="Could not interpret loss identifier: 'logcosh'"):
        losses.get("logcosh")  # Keras 3 keeps it as a legacy alias only


def test_shape_mismatches_are_named():
    with pytest.raises(ValueError, match=r"kl_divergence expects y_true and y_pred of the same shape.*\(4, 3\).*"
                                         r"\(4, 2\)"):
        losses.kl_divergence(np.ones((4, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match=r"categorical_hinge expects y_true and y_pred of the same shape"):
        losses.CategoricalHinge()(np.ones((4, 3)), np.ones((5, 3)))


def custom_loss_class(lib):
    class ScaledSquaredError(lib.losses.Loss):
        """A Keras-style Loss subclass: call(y_true, y_pred) gives per-sample losses, the base class reduces."""

        def __init__(self, scale=2.0, name="scaled_squared_error", **kwargs):
            super().__init__(name=name, **kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            return self.scale * lib.ops.mean(lib.ops.square(y_true - y_pred), axis=-1)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    return ScaledSquaredError


@pytest.mark.parametrize("loss", ["custom", "log_cosh", "Poisson", "KLDivergence"])
def test_compile_fit_evaluate_equal_keras(keras, loss):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((48, 5)).astype("float32")
    y = (np.abs(x[:, :2]) + 0.1).astype("float32")
    y = y / y.sum(-1, keepdims=True) if loss == "KLDivergence" else y
    results = []
    for lib in (keras, glassnet):
        lib.utils.set_random_seed(0)
        last = "softmax" if loss == "KLDivergence" else "softplus" if loss == "Poisson" else None
        model = lib.Sequential([lib.layers.Input((5,)), lib.layers.Dense(4, activation="tanh"),
                                lib.layers.Dense(2, activation=last)])
        if results:
            model.set_weights(results[0][0])
        fn = custom_loss_class(lib)(scale=3.0) if loss == "custom" else (
            getattr(lib.losses, loss)() if loss[0].isupper() else loss)
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss=fn)
        start = model.get_weights()
        history = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
        results.append((start, model.get_weights(), history.history["loss"], model.evaluate(x, y, verbose=0)))
    (_, k_weights, k_losses, k_eval), (_, g_weights, g_losses, g_eval) = results
    np.testing.assert_allclose(g_losses, k_losses, rtol=1e-5)
    assert g_eval == pytest.approx(k_eval, rel=1e-5)
    for a, b in zip(g_weights, k_weights):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
