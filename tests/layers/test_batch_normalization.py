"""BatchNormalization: the same layer as Keras 3 at inference and in training (outputs, moving statistics, weights
and their order, configs, parameter counts, summary rows), the same training run through fit's replayed step, its
ops against PyTorch and central differences, Keras files both ways, and the errors a user meets."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import glassnet as gk
from glassnet import layers
from glassnet.autodiff import Tensor, Variable, gradcheck, ops_norm
from glassnet.layers.batch_normalization import BatchNormalization
from tests.layers.keras_peer import TOLERANCE, comparable, round_trips, summary_text

RNG = np.random.default_rng(17)
X_FLAT = (3 * RNG.normal(size=(8, 6)) + 1).astype("float32")
X_SEQ = (2 * RNG.normal(size=(4, 5, 3)) - 1).astype("float32")
X_IMG = RNG.normal(size=(3, 4, 5, 2)).astype("float32")

CASES = {
    "flat": ((6,), {}, X_FLAT),
    "sequence": ((5, 3), {}, X_SEQ),
    "image": ((4, 5, 2), {}, X_IMG),
    "middle-axis": ((5, 3), {"axis": 1}, X_SEQ),
    "negative-axis": ((4, 5, 2), {"axis": -3}, X_IMG),
    "momentum-epsilon": ((6,), {"momentum": 0.5, "epsilon": 0.1}, X_FLAT),
    "no-center": ((6,), {"center": False}, X_FLAT),
    "no-scale": ((6,), {"scale": False}, X_FLAT),
    "neither": ((5, 3), {"center": False, "scale": False}, X_SEQ),
    "initializers": ((6,), {"beta_initializer": "ones", "gamma_initializer": "zeros",
                            "moving_mean_initializer": "ones", "moving_variance_initializer": "zeros"}, X_FLAT),
    "regularizers": ((6,), {"gamma_regularizer": "l2", "beta_regularizer": {"class_name": "L1",
                                                                             "config": {"l1": 0.5}}}, X_FLAT),
    "constraints": ((6,), {"gamma_constraint": "non_neg", "beta_constraint": {"class_name": "MaxNorm",
                                                                              "config": {"max_value": 2.0}}}, X_FLAT),
}


def random_statistics(weights: list[np.ndarray], names: list[str]) -> list[np.ndarray]:
    """Random values for the weights, a positive one for the moving variance."""
    rng = np.random.default_rng(5)
    values = [rng.normal(size=w.shape).astype("float32") for w in weights]
    return [np.abs(v) + 0.1 if name.endswith("moving_variance") else v for v, name in zip(values, names)]


def same_batch_norm(keras, input_shape, config, x):
    """A BatchNormalization after an Input, in Keras and glassnet from the same random weights: the same outputs
    at inference and in training, the same moving statistics after the training call, weight names, config,
    parameter counts and summary."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = keras.Sequential([keras.Input(input_shape), keras.layers.BatchNormalization(**config)])
    gm = gk.Sequential([gk.Input(input_shape), BatchNormalization(**config)])
    weights = random_statistics(km.get_weights(), [w.path for w in km.weights])
    km.set_weights(weights)
    gm.set_weights(weights)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]
    assert [w.trainable for w in gm.weights] == [w.trainable for w in km.weights]
    for training in (False, True):
        expected = keras.ops.convert_to_numpy(km(x, training=training))
        np.testing.assert_allclose(gm(x, training=training).numpy(), expected, **TOLERANCE)
    for got, expected in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert gm.count_params() == km.count_params()
    assert summary_text(gm) == summary_text(km)
    k_config, g_config = comparable(km.layers[0].get_config()), comparable(gm.layers[0].get_config())
    assert {k: g_config.get(k, "missing") for k in k_config} == k_config
    rebuilt = layers.deserialize({"class_name": "BatchNormalization", "config": gm.layers[0].get_config()})
    assert rebuilt.get_config() == gm.layers[0].get_config()
    return km, gm


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_layer_is_the_keras_layer(keras, case):
    input_shape, config, x = CASES[case]
    same_batch_norm(keras, input_shape, config, x)


def test_weights_are_keras_weights_in_keras_order(keras):
    km, gm = same_batch_norm(keras, (5, 3), {}, X_SEQ)
    layer = gm.layers[0]
    assert [w.name for w in layer.weights] == ["batch_normalization/gamma", "batch_normalization/beta",
                                               "batch_normalization/moving_mean", "batch_normalization/moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["batch_normalization/gamma", "batch_normalization/beta"]
    assert [w.shape for w in layer.weights] == [(3,)] * 4
    assert gm.count_params() == km.count_params() == 12
    assert len(km.non_trainable_weights) == len(gm.non_trainable_weights) == 2


def test_training_follows_the_formula_and_the_moving_average():
    """z = γ·(x − μ)/√(σ² + ε) + β with the batch's μ and biased σ² (Keras 3's, not the unbiased one), and
    moving ← moving·momentum + batch·(1 − momentum)."""
    layer = BatchNormalization(momentum=0.75, epsilon=0.01, dtype="float64")
    x = np.random.default_rng(1).normal(size=(6, 4, 3)) * 2 + 1
    layer.build(x.shape)
    gamma, beta, mean, variance = random_statistics(layer.get_weights(), [w.name for w in layer.weights])
    layer.set_weights([gamma, beta, mean, variance])
    mu, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))  # ddof=0: divided by N
    np.testing.assert_allclose(layer(x, training=True).numpy(), gamma * (x - mu) / np.sqrt(var + 0.01) + beta,
                               rtol=1e-12)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.75 * mean + 0.25 * mu, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.75 * variance + 0.25 * var, rtol=1e-6)
    inference = layer(x, training=False).numpy()
    np.testing.assert_allclose(inference, gamma * (x - layer.moving_mean.numpy())
                               / np.sqrt(layer.moving_variance.numpy() + 0.01) + beta, rtol=1e-12)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.75 * mean + 0.25 * mu, rtol=1e-6)  # inference: no update


def test_a_frozen_layer_runs_in_inference_mode(keras):
    """trainable=False: Keras normalizes with the moving statistics even in training, and leaves them alone."""
    km, gm = same_batch_norm(keras, (6,), {}, X_FLAT)
    before = gm.get_weights()
    km.layers[0].trainable = gm.layers[0].trainable = False
    expected = keras.ops.convert_to_numpy(km(X_FLAT, training=True))
    np.testing.assert_allclose(gm(X_FLAT, training=True).numpy(), expected, **TOLERANCE)
    np.testing.assert_allclose(gm(X_FLAT, training=True).numpy(), gm(X_FLAT, training=False).numpy())
    for got, was in zip(gm.get_weights(), before):
        np.testing.assert_array_equal(got, was)
    assert gm.layers[0].trainable_weights == [] and len(gm.layers[0].non_trainable_weights) == 4


# ----- training through fit: the replayed step updates the moving statistics ----------------------------------
def two_models(keras, momentum=0.8):
    """Dense → BatchNormalization → Dense in Keras and glassnet, with the same weights, compiled with SGD."""
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4), keras.layers.BatchNormalization(momentum=momentum),
                           keras.layers.Dense(1)])
    gm = gk.Sequential([gk.Input((5,)), layers.Dense(4), BatchNormalization(momentum=momentum), layers.Dense(1)])
    gm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    gm.compile(optimizer=gk.optimizers.SGD(0.1), loss="mse")
    return km, gm


def assert_same_weights(km, gm) -> None:
    for variable, got, expected in zip(gm.weights, gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(got, expected, **TOLERANCE, err_msg=variable.name)


def test_train_on_batch_replays_the_moving_statistics(keras):
    """The same batch again and again: the first step is traced, the next ones replay its written-out step (no
    layer code runs), and the moving statistics still move exactly as Keras's."""
    km, gm = two_models(keras)
    rng = np.random.default_rng(2)
    x, y = (3 * rng.normal(size=(16, 5)) + 2).astype("float32"), rng.normal(size=(16, 1)).astype("float32")
    for _ in range(5):
        km.train_on_batch(x, y)
        gm.train_on_batch(x, y)
    (entry,) = gm._cached_step.plans.values()
    assert entry != "eager"
    assert_same_weights(km, gm)
    assert not np.allclose(gm.layers[1].moving_mean.numpy(), 0)


def test_fit_replays_the_moving_statistics(keras):
    """Several batches of fit (shuffle=False, SGD), from the same weights: weights and moving statistics equal to
    Keras's after 8 steps."""
    km, gm = two_models(keras)
    rng = np.random.default_rng(3)
    x, y = (3 * rng.normal(size=(64, 5)) + 2).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    (entry,) = gm._cached_step.plans.values()
    assert entry != "eager" and entry.verified
    assert_same_weights(km, gm)
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **TOLERANCE)


def test_eager_fit_is_keras_fit(keras):
    """compile(run_eagerly=True): every batch runs the layer's code; 8 steps equal Keras's, moving statistics too."""
    km, gm = two_models(keras, momentum=0.7)
    gm.compile(optimizer=gk.optimizers.SGD(0.1), loss="mse", run_eagerly=True)
    rng = np.random.default_rng(3)
    x, y = (3 * rng.normal(size=(64, 5)) + 2).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    gm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert_same_weights(km, gm)
    assert not np.allclose(gm.layers[1].moving_variance.numpy(), 1)


def test_step_source_shows_the_batch_norm_with_its_equations(keras):
    km, gm = two_models(keras)
    x = np.random.default_rng(4).normal(size=(8, 5)).astype("float32")
    gm.train_on_batch(x, np.zeros((8, 1), dtype="float32"))
    source = gm.step_source()
    forward_line = next(line for line in source.splitlines() if "batch_norm.forward" in line)
    assert forward_line.split("#")[1].strip() == "Z[2] = gamma[2]·(Z[1] − μ)/√(σ² + ε) + beta[2]"
    backward_line = next(line for line in source.splitlines() if "batch_norm.backward" in line)
    assert backward_line.split("#")[1].strip() == (
        "dZ[1] = gamma[2]·(dZ[2] − mean(dZ[2]) − ẑ·mean(dZ[2]·ẑ))/√(σ² + ε); dgamma[2] = Σ dZ[2]·ẑ; "
        "dbeta[2] = Σ dZ[2]")
    assert "gamma2 = batch_normalization/gamma" in source and "dgamma2, dbeta2" in source


def test_predict_and_evaluate_use_the_moving_statistics():
    model = gk.Sequential([gk.Input((3,)), BatchNormalization()])
    x = np.random.default_rng(6).normal(size=(10, 3)).astype("float32") * 4 + 5
    np.testing.assert_allclose(model.predict(x, verbose=0), x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(model.layers[0].moving_mean.numpy(), np.zeros(3))


# ----- masks ---------------------------------------------------------------------------------------------------
def test_masked_batch_statistics_are_keras_ones(keras):
    """Under a mask, only the timesteps that count enter μ and σ² (and the moving statistics)."""
    x = X_SEQ
    mask = np.array([[1, 1, 0, 1, 0], [1, 0, 0, 0, 0], [1, 1, 1, 1, 1], [0, 1, 1, 0, 0]], dtype=bool)
    kl, gl = keras.layers.BatchNormalization(momentum=0.6), BatchNormalization(momentum=0.6)
    kl.build(x.shape)
    gl.build(x.shape)
    weights = random_statistics(kl.get_weights(), [w.path for w in kl.weights])
    kl.set_weights(weights)
    gl.set_weights(weights)
    expected = keras.ops.convert_to_numpy(kl(x, training=True, mask=mask))
    np.testing.assert_allclose(gl(x, training=True, mask=mask).numpy(), expected, **TOLERANCE)
    for got, want in zip(gl.get_weights(), kl.get_weights()):
        np.testing.assert_allclose(got, want, **TOLERANCE)
    kept = x[mask]
    np.testing.assert_allclose(gl.moving_mean.numpy(), 0.6 * weights[2] + 0.4 * kept.mean(axis=0), rtol=1e-5)


def test_a_mask_of_the_wrong_rank_is_refused():
    layer = BatchNormalization()
    with pytest.raises(ValueError, match=r"The mask provided should be one dimension less than the inputs. "
                                         r"Received: mask.shape=\(4, 5, 3\), inputs.shape=\(4, 5, 3\)"):
        layer(X_SEQ, training=True, mask=np.ones(X_SEQ.shape, dtype=bool))


# ----- the ops: PyTorch and central differences ----------------------------------------------------------------
@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)], ids=["float64", "float32"])
@pytest.mark.parametrize("shape", [(7, 3), (4, 5, 2), (2, 3, 4, 3)], ids=["2d", "3d", "4d"])
def test_batch_norm_op_is_torch_batch_norm(shape, dtype, tolerance):
    """Forward, every gradient and the moving mean against torch.nn.functional.batch_norm (channels last here,
    second in torch). The moving variance is not compared: torch averages the unbiased variance, Keras (and
    glassnet) the biased one, checked above."""
    rng = np.random.default_rng(len(shape))
    x = (rng.normal(size=shape) * 2 + 1).astype(dtype)
    gamma, beta, dy = rng.normal(size=shape[-1]), rng.normal(size=shape[-1]), rng.normal(size=shape).astype(dtype)
    mean, variance = Variable(np.zeros(shape[-1]), dtype=dtype), Variable(np.ones(shape[-1]), dtype=dtype)
    xs = [Variable(v, dtype=dtype) for v in (x, gamma, beta)]
    y = ops_norm.BatchNorm.apply(*xs, moving_mean=mean, moving_variance=variance, momentum=0.9, epsilon=1e-3)
    y.backward(dy)

    def channels_second(a):
        return torch.tensor(np.moveaxis(a, -1, 1), requires_grad=True)

    tx, tg, tb = channels_second(x), torch.tensor(gamma, requires_grad=True), torch.tensor(beta, requires_grad=True)
    tg.data, tb.data = tg.data.to(tx.dtype), tb.data.to(tx.dtype)
    running_mean = torch.zeros(shape[-1], dtype=tx.dtype)
    ty = F.batch_norm(tx, running_mean, torch.ones(shape[-1], dtype=tx.dtype), tg, tb, training=True, momentum=0.1,
                      eps=1e-3)
    ty.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    tol = {"rtol": tolerance, "atol": tolerance}
    np.testing.assert_allclose(y.numpy(), np.moveaxis(ty.detach().numpy(), 1, -1), **tol)
    np.testing.assert_allclose(xs[0].grad, np.moveaxis(tx.grad.numpy(), 1, -1), **tol)
    np.testing.assert_allclose(xs[1].grad, tg.grad.numpy(), **tol)
    np.testing.assert_allclose(xs[2].grad, tb.grad.numpy(), **tol)
    np.testing.assert_allclose(mean.numpy(), running_mean.numpy(), **tol)
    assert y.dtype == dtype and xs[0].grad.dtype == dtype


@pytest.mark.parametrize("dtype, tolerance", [(np.float64, 1e-10), (np.float32, 1e-5)], ids=["float64", "float32"])
def test_batch_norm_inference_op_is_torch_batch_norm(dtype, tolerance):
    """The inference op against torch's batch_norm with given statistics, forward and the gradients of x, γ, β
    (torch gives none to the statistics; theirs are checked by central differences below)."""
    rng = np.random.default_rng(8)
    x, dy = rng.normal(size=(5, 4, 3)).astype(dtype), rng.normal(size=(5, 4, 3)).astype(dtype)
    m, v, gamma, beta = rng.normal(size=3), rng.uniform(0.5, 2, size=3), rng.normal(size=3), rng.normal(size=3)
    xs = [Variable(a, dtype=dtype) for a in (x, m, v, gamma, beta)]
    y = ops_norm.BatchNormInference.apply(*xs, epsilon=1e-3)
    y.backward(dy)
    tx = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    tg, tb = (torch.tensor(a.astype(dtype), requires_grad=True) for a in (gamma, beta))
    ty = F.batch_norm(tx, torch.tensor(m.astype(dtype)), torch.tensor(v.astype(dtype)), tg, tb, training=False,
                      eps=1e-3)
    ty.backward(torch.tensor(np.moveaxis(dy, -1, 1)))
    tol = {"rtol": tolerance, "atol": tolerance}
    np.testing.assert_allclose(y.numpy(), np.moveaxis(ty.detach().numpy(), 1, -1), **tol)
    np.testing.assert_allclose(xs[0].grad, np.moveaxis(tx.grad.numpy(), 1, -1), **tol)
    np.testing.assert_allclose(xs[3].grad, tg.grad.numpy(), **tol)
    np.testing.assert_allclose(xs[4].grad, tb.grad.numpy(), **tol)


def statistics_variables(channels: int) -> dict:
    return {"moving_mean": Variable(np.zeros(channels), dtype="float64"),
            "moving_variance": Variable(np.ones(channels), dtype="float64")}


@pytest.mark.parametrize("shape, axis", [((6, 3), -1), ((3, 4, 2), -1), ((3, 4, 2), 1)], ids=["2d", "3d", "axis-1"])
def test_batch_norm_gradcheck(shape, axis):
    rng = np.random.default_rng(9)
    channels = shape[axis]
    x, gamma, beta = rng.normal(size=shape), rng.normal(size=channels), rng.normal(size=channels)
    moving = statistics_variables(channels)
    assert gradcheck(lambda x, g, b: ops_norm.BatchNorm.apply(x, g, b, axis=axis, **moving), [x, gamma, beta])


def test_masked_batch_norm_gradcheck():
    rng = np.random.default_rng(10)
    x, gamma, beta = rng.normal(size=(3, 4, 2)), rng.normal(size=2), rng.normal(size=2)
    mask = Tensor(np.array([[1, 1, 0, 1], [0, 0, 0, 0], [1, 0, 1, 1]], dtype=bool))
    moving = statistics_variables(2)
    assert gradcheck(lambda x, g, b: ops_norm.MaskedBatchNorm.apply(mask, x, g, b, **moving), [x, gamma, beta])


def test_batch_norm_inference_gradcheck():
    rng = np.random.default_rng(11)
    inputs = [rng.normal(size=(4, 3, 2)), rng.normal(size=2), rng.uniform(0.5, 2, size=2), rng.normal(size=2),
              rng.normal(size=2)]
    assert gradcheck(lambda *xs: ops_norm.BatchNormInference.apply(*xs, epsilon=0.01), inputs)


def test_layer_gradcheck_in_training():
    layer = BatchNormalization(dtype="float64")
    rng = np.random.default_rng(12)
    x = rng.normal(size=(5, 3))
    layer.build(x.shape)
    assert gradcheck(lambda x: layer(x, training=True), [x])


# ----- files and errors ----------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_model_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    model = gk.Sequential([gk.Input((4, 5, 2)), layers.Conv2D(3, 2), BatchNormalization(momentum=0.9),
                           layers.Flatten(), layers.Dense(2), BatchNormalization(center=False, axis=1)])
    model.set_weights(random_statistics(model.get_weights(), [w.name for w in model.weights]))
    round_trips(keras, model, X_IMG, tmp_path)


@pytest.mark.parametrize("make, error, message", [
    (lambda: BatchNormalization(synchronized=True), ValueError,
     "Argument synchronized=True is only supported with the TensorFlow backend."),
    (lambda: BatchNormalization(renorm=True), NotImplementedError, "renorm=True"),
    (lambda: BatchNormalization(axis=[1, 2]), TypeError, r"`axis` must be an integer \(the channel axis\), "
                                                         r"received axis=\[1, 2\]"),
    (lambda: BatchNormalization(momentum=-0.1), ValueError, "`momentum` must be a non-negative float"),
    (lambda: BatchNormalization(epsilon="small"), ValueError, "`epsilon` must be a non-negative float"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("axis, shape, message", [
    (3, (2, 3), r"BatchNormalization 'batch_normalization': axis 3 is out of bounds for inputs of rank 2"),
    (0, (2, 3), r"axis 0 is the batch, which cannot be the channel axis"),
])
def test_wrong_axes_are_refused(axis, shape, message):
    with pytest.raises(ValueError, match=message):
        BatchNormalization(axis=axis)(np.zeros(shape, dtype="float32"))


def test_inputs_it_was_not_built_for_are_refused():
    layer = BatchNormalization()
    layer(np.zeros((2, 6), dtype="float32"))
    with pytest.raises(ValueError, match=r"BatchNormalization 'batch_normalization' expects inputs with last "
                                         r"dimension 6, received shape \(2, 7\)"):
        layer(np.zeros((2, 7), dtype="float32"))
    with pytest.raises(ValueError, match=r"expects inputs with 2 dimensions, received shape \(2, 3, 6\)"):
        layer(np.zeros((2, 3, 6), dtype="float32"))
