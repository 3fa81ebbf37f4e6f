"""LayerNormalization, the training-only noise layers (GaussianNoise, GaussianDropout, SpatialDropout1D/2D),
ActivityRegularization and Rescaling: the same program in Keras 3 and glassnet from identical weights (outputs,
parameter counts, shapes, summary rows, configs), gradients in float64, the statistics of the noise over a large
draw, seeds, Keras files both ways, and the errors a user meets."""


import numpy as np
import pytest

import glassnet as gk
from glassnet import layers, ops
from glassnet.autodiff import Tensor, Variable, gradcheck, ops_nn
from tests.layers.keras_peer import round_trips, same_layer

RNG = np.random.default_rng(16)
X_FLAT = (3 * RNG.normal(size=(4, 6)) + 1).astype("float32")
X_SEQ = RNG.normal(size=(3, 4, 5)).astype("float32")
X_IMG = RNG.normal(size=(2, 5, 6, 3)).astype("float32")

CASES = {
    "layer-norm": ((6,), "LayerNormalization", {}, X_FLAT),
    "layer-norm-epsilon": ((6,), "LayerNormalization", {"epsilon": 0.5}, X_FLAT),
    "layer-norm-sequence": ((4, 5), "LayerNormalization", {}, X_SEQ),
    "layer-norm-two-axes": ((4, 5), "LayerNormalization", {"axis": [1, 2]}, X_SEQ),
    "layer-norm-image-axes": ((5, 6, 3), "LayerNormalization", {"axis": (-3, -1)}, X_IMG),
    "layer-norm-no-center": ((6,), "LayerNormalization", {"center": False}, X_FLAT),
    "layer-norm-no-scale": ((6,), "LayerNormalization", {"scale": False}, X_FLAT),
    "layer-norm-neither": ((6,), "LayerNormalization", {"center": False, "scale": False}, X_FLAT),
    "layer-norm-initializers": ((6,), "LayerNormalization", {"beta_initializer": "ones",
                                                              "gamma_initializer": "zeros"}, X_FLAT),
    "gaussian-noise": ((6,), "GaussianNoise", {"stddev": 0.3}, X_FLAT),
    "gaussian-noise-seeded": ((6,), "GaussianNoise", {"stddev": 0.3, "seed": 4}, X_FLAT),
    "gaussian-dropout": ((6,), "GaussianDropout", {"rate": 0.4, "seed": 2}, X_FLAT),
    "spatial-dropout-1d": ((4, 5), "SpatialDropout1D", {"rate": 0.5}, X_SEQ),
    "spatial-dropout-2d": ((5, 6, 3), "SpatialDropout2D", {"rate": 0.25, "seed": 1}, X_IMG),
    "activity-regularization": ((6,), "ActivityRegularization", {"l1": 0.01, "l2": 0.02}, X_FLAT),
    "activity-regularization-default": ((6,), "ActivityRegularization", {}, X_FLAT),
    "rescaling": ((5, 6, 3), "Rescaling", {"scale": 1 / 255}, X_IMG),
    "rescaling-offset": ((5, 6, 3), "Rescaling", {"scale": 1 / 127.5, "offset": -1.0}, X_IMG),
    "rescaling-per-channel": ((5, 6, 3), "Rescaling", {"scale": [1.0, 0.5, 2.0], "offset": [0.0, 1.0, -1.0]},
                              X_IMG),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_layer_is_the_keras_layer_at_inference(keras, case):
    input_shape, name, config, x = CASES[case]
    same_layer(keras, input_shape, name, config, x)


def test_layer_normalization_weights_are_keras_weights(keras):
    km, gm = same_layer(keras, (4, 5), "LayerNormalization", {"axis": [2, 1]}, X_SEQ)
    assert [w.name for w in gm.weights] == ["layer_normalization/gamma", "layer_normalization/beta"]
    assert km.layers[0].get_config()["axis"] == gm.layers[0].get_config()["axis"] == [1, 2]


@pytest.mark.parametrize("axis", [-1, 1, (1, 2)], ids=["last", "middle", "two-axes"])
def test_layer_normalization_follows_its_formula(axis):
    """z = γ·(x − μ)/√(σ² + ε) + β over the normalized axes. (A middle axis alone is checked here only: Keras on
    torch hands it to torch's layer_norm, which normalizes trailing axes and refuses it.)"""
    layer = layers.LayerNormalization(axis=axis, epsilon=1e-3, dtype="float64")
    x = np.random.default_rng(0).normal(size=(3, 4, 5))
    layer.build(x.shape)
    axes = (axis % 3,) if isinstance(axis, int) else axis
    shape = [x.shape[a] if a in axes else 1 for a in range(3)]
    gamma, beta = (np.random.default_rng(1).normal(size=w.shape) for w in layer.get_weights())
    layer.set_weights([gamma, beta])
    mu, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    expected = gamma.reshape(shape) * (x - mu) / np.sqrt(var + 1e-3) + beta.reshape(shape)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-12)


@pytest.mark.parametrize("config, shape", [
    ({}, (3, 5)), ({"axis": [1, 2]}, (2, 3, 4)), ({"axis": 1}, (2, 3, 4)), ({"center": False}, (3, 4)),
], ids=["last", "two-axes", "middle", "no-center"])
def test_layer_normalization_gradcheck(config, shape):
    layer = layers.LayerNormalization(dtype="float64", **config)
    rng = np.random.default_rng(1)
    x = rng.normal(size=shape)
    layer.build(shape)
    weights = [rng.normal(size=w.shape) for w in layer.get_weights()]

    def f(x, *ws):
        """The layer on x with gamma and beta taken from ws, so the check covers dx, dγ and dβ."""
        for name, w in zip(names, ws):
            setattr(layer, name, w)
        return layer(x)

    names = [w.name.rsplit("/", 1)[-1] for w in layer.weights]
    assert gradcheck(f, [x, *weights])


# ----- noise: identity at inference, statistics in training, seeds, gradients ----------------------------------
def test_noise_layers_are_the_identity_at_inference():
    x = np.random.default_rng(2).normal(size=(4, 3, 5)).astype("float32")
    for layer in (layers.GaussianNoise(0.5), layers.GaussianDropout(0.5), layers.SpatialDropout1D(0.5),
                  layers.ActivityRegularization(l1=0.1)):
        np.testing.assert_array_equal(layer(x).numpy(), x)
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x)
    image = np.random.default_rng(3).normal(size=(2, 4, 4, 3)).astype("float32")
    np.testing.assert_array_equal(layers.SpatialDropout2D(0.5)(image).numpy(), image)


def test_gaussian_noise_statistics():
    out = layers.GaussianNoise(0.5, seed=0)(np.zeros((1000, 100), dtype="float32"), training=True).numpy()
    assert out.shape == (1000, 100) and out.dtype == np.float32
    # 100 000 draws: the mean's standard error is 0.5 / 316 ≈ 0.0016, the standard deviation's ≈ 0.0011
    assert abs(out.mean()) < 0.01
    assert abs(out.std() - 0.5) < 0.01


def test_gaussian_dropout_statistics():
    rate = 0.2
    out = layers.GaussianDropout(rate, seed=0)(np.ones((1000, 100), dtype="float32"), training=True).numpy()
    assert out.shape == (1000, 100)
    # ε ~ N(1, rate / (1 − rate)): mean 1, standard deviation 0.5 (standard errors ≈ 0.0016 and 0.0011)
    assert abs(out.mean() - 1) < 0.01
    assert abs(out.std() - np.sqrt(rate / (1 - rate))) < 0.01


@pytest.mark.parametrize("layer, shape", [
    (lambda: layers.SpatialDropout1D(0.3, seed=0), (200, 10, 50)),
    (lambda: layers.SpatialDropout2D(0.3, seed=0), (100, 4, 5, 100)),
], ids=["1d", "2d"])
def test_spatial_dropout_drops_whole_channels(layer, shape):
    out = layer()(np.ones(shape, dtype="float32"), training=True).numpy()
    assert out.shape == shape
    spatial = tuple(range(1, len(shape) - 1))
    # one value per (sample, channel), shared by every step or pixel: 0 or 1 / (1 − rate)
    np.testing.assert_array_equal(out, np.broadcast_to(out[(slice(None), *(slice(0, 1),) * len(spatial))], shape))
    values = np.unique(out)
    np.testing.assert_allclose(values, [0, 1 / 0.7], rtol=1e-6)
    # 10 000 (sample, channel) pairs: the dropped fraction's standard error is √(0.21 / 10 000) ≈ 0.0046
    dropped = np.mean(out[(slice(None), *(0,) * len(spatial))] == 0)
    assert abs(dropped - 0.3) < 0.03


@pytest.mark.parametrize("make", [
    lambda seed: layers.GaussianNoise(0.3, seed=seed), lambda seed: layers.GaussianDropout(0.3, seed=seed),
    lambda seed: layers.SpatialDropout1D(0.5, seed=seed),
], ids=["gaussian-noise", "gaussian-dropout", "spatial-dropout"])
def test_a_fixed_seed_gives_the_same_draws_and_each_call_draws_anew(make):
    x = np.ones((8, 6, 5), dtype="float32")
    first, second = make(7), make(7)
    a1, a2 = first(x, training=True).numpy(), first(x, training=True).numpy()
    np.testing.assert_array_equal(second(x, training=True).numpy(), a1)
    np.testing.assert_array_equal(second(x, training=True).numpy(), a2)
    assert not np.array_equal(a1, a2)
    assert not np.array_equal(make(8)(x, training=True).numpy(), a1)


def test_noise_gradients_follow_their_equations():
    x = Variable(np.random.default_rng(4).normal(size=(5, 4)))
    ops.sum(ops_nn.GaussianNoise.apply(x, stddev=0.5, rng=np.random.default_rng(0))).backward()
    np.testing.assert_array_equal(x.grad, np.ones((5, 4)))  # dz = da
    x = Variable(np.ones((5, 4)))
    out = ops_nn.GaussianDropout.apply(x, rate=0.3, rng=np.random.default_rng(0))
    ops.sum(out).backward()
    np.testing.assert_allclose(x.grad, out.numpy())  # dz = da · ε, and ε = a / z with z = 1


def test_noise_ops_keep_the_dtype():
    for op, params in ((ops_nn.GaussianNoise, {"stddev": 0.1}), (ops_nn.GaussianDropout, {"rate": 0.1})):
        out = op.apply(Tensor(np.ones((3, 2), dtype="float32")), rng=np.random.default_rng(0), **params)
        assert out.dtype == np.float32


def test_a_noisy_model_trains_and_replays_new_noise():
    """fit replays a recorded step: the noise ops draw anew on every batch, and the step checks out against the
    eager one (same draws)."""
    rng = np.random.default_rng(6)
    x, y = rng.normal(size=(64, 4, 6)).astype("float32"), rng.normal(size=(64, 1)).astype("float32")
    model = gk.Sequential([gk.Input((4, 6)), layers.GaussianNoise(0.1, seed=0), layers.SpatialDropout1D(0.2, seed=1),
                           layers.LayerNormalization(), layers.Flatten(), layers.GaussianDropout(0.2, seed=2),
                           layers.ActivityRegularization(l2=0.01), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    # the recorded step passed its check against the eager one (the generators rewound) and is replayed
    (entry,) = model._cached_step.plans.values()
    assert entry != "eager" and entry.verified
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))


def test_activity_regularization_is_the_keras_penalty(keras):
    x = X_FLAT
    km = keras.Sequential([keras.Input((6,)), keras.layers.ActivityRegularization(l1=0.01, l2=0.02)])
    gm = gk.Sequential([gk.Input((6,)), layers.ActivityRegularization(l1=0.01, l2=0.02)])
    km(x)
    gm(x)
    expected = sum(float(keras.ops.convert_to_numpy(loss)) for loss in km.losses)
    assert sum(float(loss.numpy()) for loss in gm.losses) == pytest.approx(expected, rel=1e-6)
    assert expected == pytest.approx((0.01 * np.abs(x).sum() + 0.02 * (x**2).sum()) / len(x), rel=1e-5)


def test_rescaling_casts_integer_pixels():
    pixels = np.arange(12, dtype="uint8").reshape(1, 2, 2, 3)
    out = layers.Rescaling(1 / 255)(pixels)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out.numpy(), pixels / 255, rtol=1e-6)


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # no optimizer state is written
def test_model_round_trips_through_keras_files(keras, tmp_path):
    pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")
    x = X_SEQ
    model = gk.Sequential([gk.Input((4, 5)), layers.Rescaling(0.5, offset=0.1), layers.GaussianNoise(0.2),
                           layers.SpatialDropout1D(0.1), layers.LayerNormalization(axis=[1, 2]),
                           layers.GaussianDropout(0.3), layers.ActivityRegularization(l1=0.01), layers.Flatten(),
                           layers.Dense(2)])
    ln = model.layers[3]
    ln.set_weights([np.random.default_rng(9).normal(size=w.shape) for w in ln.get_weights()])
    round_trips(keras, model, x, tmp_path)


# ----- errors ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.LayerNormalization(axis="a"), TypeError, "Expected an int or a list/tuple of ints for the "
                                                             "argument 'axis', but received: 'a'"),
    (lambda: layers.LayerNormalization(epsilon=-1), ValueError, "`epsilon` must be a non-negative float"),
    (lambda: layers.LayerNormalization(rms_scaling=True), NotImplementedError, "rms_scaling"),
    (lambda: layers.LayerNormalization(gamma_constraint="non_neg"), NotImplementedError, "constraints"),
    (lambda: layers.GaussianNoise(-1), ValueError, "Invalid value received for argument `stddev`. Expected a float "
                                                   "value between 0 and 1. Received: stddev=-1"),
    (lambda: layers.GaussianDropout(1.5), ValueError, "Invalid value received for argument `rate`. Expected a "
                                                      "float value between 0 and 1"),
    (lambda: layers.GaussianDropout(1), ValueError, "between 0 and 1 \\(exclusive\\). Received: rate=1"),
    (lambda: layers.SpatialDropout2D(1.5), ValueError, "Invalid value received for argument `rate`"),
    (lambda: layers.SpatialDropout2D(0.5, data_format="channels_first"), NotImplementedError, "channels_last"),
    (lambda: layers.ActivityRegularization(l1=-1), ValueError, "Invalid value for argument l1: expected a "
                                                               "non-negative float. Received: l1=-1"),
    (lambda: layers.Rescaling("half"), ValueError, "`scale` must be a number or a list of numbers"),
])
def test_bad_arguments_are_refused(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("layer, shape, message", [
    (lambda: layers.LayerNormalization(axis=3), (2, 3), r"LayerNormalization 'layer_normalization': axis 3 is out "
                                                        r"of bounds for inputs of rank 2. Received: axis=3"),
    (lambda: layers.LayerNormalization(axis=0), (2, 3), r"axis 0 \(the batch\) cannot be normalized over"),
    (lambda: layers.SpatialDropout1D(0.5), (2, 3), r"SpatialDropout1D 'spatial_dropout1d' expects inputs of rank 3 "
                                                   r"\(batch, steps, channels\), received shape \(2, 3\)"),
    (lambda: layers.SpatialDropout2D(0.5), (2, 3, 4), r"SpatialDropout2D 'spatial_dropout2d' expects inputs of "
                                                      r"rank 4 \(batch, height, width, channels\)"),
])
def test_wrong_inputs_are_refused(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer()(np.zeros(shape, dtype="float32"), training=True)


def test_layer_normalization_refuses_features_it_was_not_built_for():
    layer = layers.LayerNormalization()
    layer(np.zeros((2, 6), dtype="float32"))
    with pytest.raises(ValueError, match=r"LayerNormalization 'layer_normalization' expects inputs with last "
                                         r"dimension 6, received shape \(2, 7\)"):
        layer(np.zeros((2, 7), dtype="float32"))
    layer(np.zeros((2, 3, 6), dtype="float32"))  # any rank, as long as the normalized axis has the same size
