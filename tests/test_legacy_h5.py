"""Keras 2's ``.h5`` files: what Keras 3 writes for ``model.save("x.h5")`` and what tf.keras 2.x wrote (made here
with h5py in tf.keras 2's layout: ``model_config``/``training_config`` attributes, ``model_weights/<layer>/<layer>/
kernel:0`` datasets listed in ``weight_names``) load in glassnet with Keras's predictions, and glassnet's ``.h5``
loads in Keras."""

import json

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras files need the 'keras-files' extra (h5py)")

import glassnet as gk  # noqa: E402
from glassnet.saving import ModelFileError  # noqa: E402

PREDICTIONS = {"rtol": 1e-6, "atol": 1e-6}


def convnet(lib):
    return lib.Sequential([lib.Input((6, 6, 1)), lib.layers.Conv2D(4, 3, activation="relu"),
                           lib.layers.MaxPooling2D(2), lib.layers.Flatten(), lib.layers.Dense(3, activation="softmax")])


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 6, 6, 1)).astype("float32")
    return x, (x[:, 0, 0, 0] > 0).astype(int) + (x[:, 1, 1, 0] > 0.5)


# tf.keras 2.x's configs (no "module" keys, dtype as a string, batch_input_shape, groups, Custom>Adam, wrapped metrics)
KERAS2_LAYERS = [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 6, 6, 1], "dtype": "float32",
                                            "sparse": False, "ragged": False, "name": "conv2d_input"}},
    {"class_name": "Conv2D", "config": {
        "name": "conv2d", "trainable": True, "dtype": "float32", "batch_input_shape": [None, 6, 6, 1], "filters": 4,
        "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid", "data_format": "channels_last",
        "dilation_rate": [1, 1], "groups": 1, "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
    {"class_name": "MaxPooling2D", "config": {"name": "max_pooling2d", "trainable": True, "dtype": "float32",
                                              "pool_size": [2, 2], "padding": "valid", "strides": [2, 2],
                                              "data_format": "channels_last"}},
    {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True, "dtype": "float32",
                                         "data_format": "channels_last"}},
    {"class_name": "Dense", "config": {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 3, "activation": "softmax", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}}, "kernel_regularizer": None,
        "bias_regularizer": None, "activity_regularizer": None, "kernel_constraint": None, "bias_constraint": None}},
]
KERAS2_TRAINING = {
    "loss": "sparse_categorical_crossentropy", "loss_weights": None, "weighted_metrics": None,
    "metrics": [[{"class_name": "MeanMetricWrapper", "config": {"name": "accuracy", "dtype": "float32",
                                                                 "fn": "sparse_categorical_accuracy"}}]],
    "optimizer_config": {"class_name": "Custom>Adam", "config": {
        "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None, "clipvalue": None,
        "use_ema": False, "ema_momentum": 0.99, "ema_overwrite_frequency": None, "jit_compile": True,
        "is_legacy_optimizer": False, "learning_rate": 0.002, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-07,
        "amsgrad": False}},
}


def write_keras2_file(path, weights: list[np.ndarray], with_model: bool = True) -> None:
    """What tf.keras 2.x's ``model.save("x.h5")`` (or, without the model, ``save_weights("x.h5")``) wrote."""
    names = {"conv2d": ["kernel:0", "bias:0"], "max_pooling2d": [], "flatten": [], "dense": ["kernel:0", "bias:0"]}
    arrays = iter(weights)
    with h5py.File(path, "w") as f:
        root = f.create_group("model_weights") if with_model else f
        if with_model:
            f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
                "name": "sequential", "layers": KERAS2_LAYERS}}).encode()
            f.attrs["training_config"] = json.dumps(KERAS2_TRAINING).encode()
        for group in (f, root):
            group.attrs["keras_version"], group.attrs["backend"] = b"2.13.1", b"tensorflow"
        root.attrs["layer_names"] = [name.encode() for name in names]
        for layer, weight_names in names.items():
            group = root.create_group(layer)
            group.attrs["weight_names"] = [f"{layer}/{n}".encode() for n in weight_names]
            for n in weight_names:
                group[f"{layer}/{n}"] = next(arrays)


def test_tf_keras_2_model_file_loads_with_keras_predictions(keras, data, tmp_path):
    x, y = data
    keras.utils.set_random_seed(0)
    km = convnet(keras)
    write_keras2_file(tmp_path / "tf2.h5", km.get_weights())
    gm = gk.models.load_model(tmp_path / "tf2.h5")
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **PREDICTIONS)
    assert gm.count_params() == km.count_params()
    assert [layer.name for layer in gm.layers] == ["conv2d", "max_pooling2d", "flatten", "dense"]
    assert type(gm.optimizer).__name__ == "Adam" and gm.optimizer.learning_rate == pytest.approx(0.002)
    assert gm.metrics_names == ["loss", "compile_metrics"]
    assert np.isfinite(gm.fit(x, y, epochs=1, verbose=0).history["loss"][0])


def test_tf_keras_2_weights_file_loads_into_a_model(keras, data, tmp_path):
    x, _ = data
    keras.utils.set_random_seed(1)
    km = convnet(keras)
    write_keras2_file(tmp_path / "w.h5", km.get_weights(), with_model=False)
    gm = convnet(gk)
    gm.load_weights(tmp_path / "w.h5")
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **PREDICTIONS)
    with pytest.raises(ModelFileError, match="No model config found"):
        gk.models.load_model(tmp_path / "w.h5")
    wrong = gk.Sequential([gk.Input((6, 6, 1)), gk.layers.Conv2D(5, 3), gk.layers.Flatten(), gk.layers.Dense(3)])
    with pytest.raises(ModelFileError, match=r"conv2d/kernel:0: shape \(3, 3, 1, 4\) in the file; the model's config "
                                             r"expects \(3, 3, 1, 5\)"):
        wrong.load_weights(tmp_path / "w.h5")


def test_keras_3_h5_file_resumes_training_in_glassnet(keras, data, tmp_path):
    x, y = data
    keras.utils.set_random_seed(0)
    km = convnet(keras)
    km.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    km.save(tmp_path / "k3.h5")
    gm = gk.models.load_model(tmp_path / "k3.h5")
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **PREDICTIONS)
    assert gm.optimizer.iterations == 4
    for m in (gm, km):
        m.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for gw, kw in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(gw, kw, rtol=1e-5, atol=1e-5)


def test_glassnet_h5_file_loads_in_keras(keras, data, tmp_path):
    x, y = data
    gm = convnet(gk)
    gm.compile(optimizer=gk.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    gm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    gm.save(tmp_path / "g.h5")
    km = keras.models.load_model(tmp_path / "g.h5")
    np.testing.assert_allclose(km.predict(x, verbose=0), gm.predict(x, verbose=0), **PREDICTIONS)
    assert int(km.optimizer.iterations) == 4 and float(km.optimizer.learning_rate) == pytest.approx(0.01)
    back = gk.models.load_model(tmp_path / "g.h5")
    np.testing.assert_array_equal(back.predict(x, verbose=0), gm.predict(x, verbose=0))


def test_external_links_in_an_h5_file_are_refused(data, tmp_path):
    gm = convnet(gk)
    gm.save(tmp_path / "g.h5")
    with h5py.File(tmp_path / "g.h5", "a") as f:
        f["model_weights/evil"] = h5py.ExternalLink("/etc/passwd", "/")
    with pytest.raises(ModelFileError, match="model_weights/evil is a ExternalLink"):
        gk.models.load_model(tmp_path / "g.h5")


def two_inputs(lib):
    a, b = lib.Input((3,), name="a"), lib.Input((2,), name="b")
    h = lib.layers.Concatenate()([lib.layers.Dense(4, activation="relu")(a), b])
    model = lib.Model([a, b], lib.layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="binary_crossentropy")
    return model


def test_functional_h5_files_both_ways(keras, tmp_path):
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(8, 3)).astype("float32"), rng.normal(size=(8, 2)).astype("float32")]
    y = (x[0][:, :1] > 0).astype("float32")
    for lib, load in ((keras, gk.models.load_model), (gk, keras.models.load_model)):
        model = two_inputs(lib)
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
        model.save(tmp_path / "f.h5")
        other = load(tmp_path / "f.h5")
        np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), **PREDICTIONS)
        assert int(other.optimizer.iterations) == 2 and other.count_params() == model.count_params()
