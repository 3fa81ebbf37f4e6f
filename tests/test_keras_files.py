"""Keras 3 ``.keras`` files both ways: models trained in Keras predict the same in glassnet and the reverse (to
1e-6), and a file holding anything glassnet does not know (a Lambda, a custom class, a tampered config) is refused."""

import json
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras .keras files need the 'keras-files' extra (h5py)")

import glassnet as gk  # noqa: E402
from glassnet import keras_format  # noqa: E402
from glassnet.saving import ModelFileError  # noqa: E402

TOLERANCE = {"rtol": 1e-6, "atol": 1e-6}


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 2, 3)).astype("float32")
    labels = (x[:, 0, 0] > 0).astype(int) + (x[:, 1, 2] > 0.5)
    return x, labels


def glassnet_model() -> gk.Sequential:
    gk.utils.set_random_seed(0)
    model = gk.Sequential([
        gk.Input((2, 3)), gk.layers.Flatten(),
        gk.layers.Dense(16, activation="relu", kernel_regularizer=gk.regularizers.L2(1e-3),
                        kernel_initializer="he_normal"),
        gk.layers.Dropout(0.1), gk.layers.Dense(8), gk.layers.LeakyReLU(0.1), gk.layers.Dense(6, activation="tanh"),
        gk.layers.Activation("elu"), gk.layers.Dense(3, activation="softmax", name="probabilities"),
    ])
    model.compile(optimizer=gk.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


# ----- Keras → glassnet --------------------------------------------------------------------------------------------
def test_model_trained_in_keras_predicts_the_same_in_glassnet(keras, data, tmp_path):
    x, y = data
    keras.utils.set_random_seed(0)
    km = keras.Sequential([
        keras.Input((2, 3)), keras.layers.Flatten(),
        keras.layers.Dense(16, activation="relu", kernel_regularizer=keras.regularizers.L1L2(1e-4, 1e-3)),
        keras.layers.Dropout(0.2), keras.layers.Dense(8, kernel_initializer="lecun_normal"), keras.layers.ReLU(),
        keras.layers.Dense(8, activation="sigmoid"), keras.layers.Activation("tanh"),
        keras.layers.Dense(3, activation="softmax"),
    ])
    km.compile(optimizer=keras.optimizers.RMSprop(0.005), loss="sparse_categorical_crossentropy",
               metrics=["accuracy"])
    km.fit(x, y, epochs=5, batch_size=16, verbose=0)
    path = tmp_path / "trained_in_keras.keras"
    km.save(path)

    gm = gk.models.load_model(path)
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **TOLERANCE)
    assert [layer.name for layer in gm.layers] == [layer.name for layer in km.layers]
    for gw, kw in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_array_equal(gw, kw)
    assert type(gm.optimizer).__name__ == "RMSprop"
    assert gm.optimizer.learning_rate == pytest.approx(0.005)
    assert gm.loss == "sparse_categorical_crossentropy"
    dense = gm.layers[1]
    assert (dense.kernel_regularizer.l1, dense.kernel_regularizer.l2) == pytest.approx((1e-4, 1e-3))
    assert gm.evaluate(x, y, verbose=0)[0] == pytest.approx(km.evaluate(x, y, verbose=0)[0], rel=1e-5)


# ----- glassnet → Keras --------------------------------------------------------------------------------------------
@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # no optimizer state is written
def test_model_trained_in_glassnet_predicts_the_same_in_keras(keras, data, tmp_path):
    x, y = data
    gm = glassnet_model()
    gm.fit(x, y, epochs=5, batch_size=16, verbose=0)
    path = tmp_path / "trained_in_glassnet.keras"
    gm.save(path, format="keras")

    km = keras.models.load_model(path)  # warns that the file carries no optimizer state
    np.testing.assert_allclose(km.predict(x, verbose=0), gm.predict(x, verbose=0), **TOLERANCE)
    assert [layer.name for layer in km.layers] == [layer.name for layer in gm.layers]
    assert type(km.optimizer).__name__ == "Adam" and float(km.optimizer.learning_rate) == pytest.approx(0.01)
    assert km.layers[1].kernel_regularizer.l2 == pytest.approx(1e-3)
    # Keras's evaluate of the file equals glassnet's, and both equal the loss by hand: the mean cross-entropy of
    # the predicted probabilities plus the L2 penalty 1e-3·Σ W² of the first Dense; and the accuracy
    p = gm.predict(x, verbose=0).astype(np.float64)
    by_hand = -np.mean(np.log(p[np.arange(len(y)), y])) + 1e-3 * np.sum(gm.layers[1].kernel.numpy() ** 2.0)
    keras_loss, keras_accuracy = km.evaluate(x, y, verbose=0)
    glassnet_loss, glassnet_accuracy = gm.evaluate(x, y, verbose=0)
    assert keras_loss == pytest.approx(by_hand, rel=1e-5) and glassnet_loss == pytest.approx(by_hand, rel=1e-5)
    assert keras_accuracy == pytest.approx(np.mean(p.argmax(axis=1) == y)) == glassnet_accuracy
    history = km.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)  # Keras can keep training it
    assert int(km.optimizer.iterations) == 3 and np.isfinite(history.history["loss"][0])  # 96 samples / 32


# ----- training: glassnet's fit takes Keras's steps ------------------------------------------------------------------
def same_model(lib, units: int, activation: str):
    """The same architecture in Keras (lib = keras) or glassnet (lib = glassnet): an L2-penalized ReLU layer."""
    return lib.Sequential([lib.Input((2, 3)), lib.layers.Flatten(),
                           lib.layers.Dense(16, activation="relu", kernel_regularizer=lib.regularizers.L2(1e-3)),
                           lib.layers.Dense(8, activation="tanh"), lib.layers.Dense(units, activation=activation)])


@pytest.mark.parametrize("case", ["adam-softmax-sparse", "rmsprop-momentum-sigmoid-binary"])
def test_fit_from_the_same_weights_follows_keras_step_by_step(keras, data, case):
    """Keras 3 and glassnet start from the same weights and take the same 18 mini-batch steps (no shuffling, no
    dropout): the epoch losses and accuracies, and the weights they end at, agree to float32 rounding."""
    x, labels = data
    if case == "adam-softmax-sparse":
        y, units, activation, loss = labels, 3, "softmax", "sparse_categorical_crossentropy"
        optimizer = {"class_name": "Adam", "config": {"learning_rate": 0.01}}
    else:
        y, units, activation, loss = (labels > 0).astype("float32"), 1, "sigmoid", "binary_crossentropy"
        optimizer = {"class_name": "RMSprop", "config": {"learning_rate": 0.01, "momentum": 0.5}}
    keras.utils.set_random_seed(0)
    km, gm = same_model(keras, units, activation), same_model(gk, units, activation)
    gm.set_weights(km.get_weights())
    km.compile(optimizer=keras.optimizers.get(optimizer), loss=loss, metrics=["accuracy"])
    gm.compile(optimizer=gk.optimizers.get(optimizer), loss=loss, metrics=["accuracy"])
    k_history = km.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    g_history = gm.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history
    np.testing.assert_allclose(g_history["loss"], k_history["loss"], rtol=1e-5)
    np.testing.assert_allclose(g_history["accuracy"], k_history["accuracy"], rtol=1e-6)
    for gw, kw in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(gw, kw, rtol=1e-4, atol=1e-5)
    assert g_history["loss"][-1] < 0.9 * g_history["loss"][0]  # 18 steps from random weights: it did train


# ----- glassnet's own writer and reader (h5py only) ------------------------------------------------------------------
def test_weights_follow_keras_layout_and_round_trip(data, tmp_path):
    x, _ = data
    gm = glassnet_model()
    path = tmp_path / "m.keras"
    gm.save(path, format="keras")
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        with h5py.File(zf.open("model.weights.h5")) as f:
            # Keras names weight groups by class (dense, dense_1, ...), not by the layers' own names
            assert sorted(f["layers"]) == ["activation", "dense", "dense_1", "dense_2", "dense_3", "dropout",
                                           "flatten", "leaky_re_lu"]
            assert f["layers/dense_3/vars"].attrs["name"] == "probabilities"
            np.testing.assert_array_equal(f["layers/dense_3/vars/0"][()], gm.layers[-1].kernel.numpy())
            np.testing.assert_array_equal(f["layers/dense_3/vars/1"][()], gm.layers[-1].bias.numpy())
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    dense = config["config"]["layers"][2]
    assert dense["module"] == "keras.layers" and dense["build_config"] == {"input_shape": [None, 6]}
    assert dense["config"]["kernel_initializer"]["module"] == "keras.initializers"
    assert dense["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
                                        "registered_name": None}  # as Keras writes it (not keras.regularizers)
    assert config["compile_config"]["optimizer"]["class_name"] == "Adam"

    assert keras_format.is_keras_file(path)
    loaded = gk.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), gm.predict(x, verbose=0))


def test_glassnet_files_still_load_as_glassnet_files(data, tmp_path):
    x, _ = data
    gm = glassnet_model()
    path = tmp_path / "native.keras"
    gm.save(path)  # the default is glassnet's own format, whatever the extension
    assert not keras_format.is_keras_file(path)
    np.testing.assert_array_equal(gk.models.load_model(path).predict(x, verbose=0), gm.predict(x, verbose=0))
    with pytest.raises(ValueError, match="format"):
        gm.save(tmp_path / "x.keras", format="h5")


def rewrite_config(path, edit) -> None:
    """Rewrite ``config.json`` inside a .keras zip with ``edit(config)`` (what a tampered file looks like)."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content)


def set_units(config):
    config["config"]["layers"][2]["config"]["units"] = 17


def set_module(config):
    config["config"]["layers"][2]["module"] = "os"


def set_class(config):
    config["config"]["layers"][2]["class_name"] = "MultiHeadAttention"  # a Keras layer glassnet does not build


def set_initializer(config):
    config["config"]["layers"][2]["config"]["kernel_initializer"]["module"] = "my_package.initializers"


def set_constraint(config):
    config["config"]["layers"][2]["config"]["kernel_constraint"] = {"module": "keras.constraints",
                                                                     "class_name": "NonNeg", "config": {}}


@pytest.mark.parametrize(("edit", "message"), [
    (set_units, "shape"), (set_module, "outside Keras"), (set_class, "unknown layer class 'MultiHeadAttention'"),
    (set_initializer, "outside Keras"), (set_constraint, "kernel_constraint"),
])
def test_tampered_config_is_refused(tmp_path, edit, message):
    path = tmp_path / "tampered.keras"
    glassnet_model().save(path, format="keras")
    rewrite_config(path, edit)
    with pytest.raises(ModelFileError, match=message):
        gk.models.load_model(path)


def test_config_that_is_not_json_is_refused(tmp_path):
    path = tmp_path / "broken.keras"
    glassnet_model().save(path, format="keras")
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in members.items():
            zf.writestr(name, content[:-40] if name == "config.json" else content)
    with pytest.raises(ModelFileError, match="not valid JSON"):
        gk.models.load_model(path)


def test_custom_activation_cannot_be_saved_for_keras(tmp_path):
    def swish_like(z):
        return z * gk.ops.sigmoid(z)

    model = gk.Sequential([gk.Input((3,)), gk.layers.Dense(2, activation=swish_like)])
    with pytest.raises(ValueError, match="custom activation 'swish_like'"):
        model.save(tmp_path / "custom.keras", format="keras")


# ----- files from Keras that glassnet must refuse -------------------------------------------------------------------
def test_lambda_layer_is_refused_without_running_it(keras, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(2)])
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="unknown layer class 'Lambda'"):
        gk.models.load_model(path)


def test_custom_keras_class_is_refused(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="Custom")
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([keras.Input((3,)), Doubling(), keras.layers.Dense(2)])
    path = tmp_path / "custom.keras"
    model.save(path)
    with pytest.raises(ModelFileError, match="Doubling"):
        gk.models.load_model(path)
