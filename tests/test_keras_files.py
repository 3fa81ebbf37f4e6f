"""Keras 3's files are glassnet's defaults, proven against Keras itself: a model saved by one library loads in the
other with the same predictions (1e-6) and parameter counts, and one more epoch on the same batches in both ends at
the same weights (1e-5), which holds only if the optimizer's variables came across. Files holding anything glassnet
does not know (a Lambda, a custom class, a tampered config) are refused."""

import json
import zipfile

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras files need the 'keras-files' extra (h5py)")

import glassnet as gk  # noqa: E402
from glassnet import callbacks, keras_format  # noqa: E402
from glassnet.keras_format import h5_layout  # noqa: E402
from glassnet.saving import ModelFileError  # noqa: E402

PREDICTIONS = {"rtol": 1e-6, "atol": 1e-6}
WEIGHTS = {"rtol": 1e-5, "atol": 1e-5}


def mlp(lib):
    return lib.Sequential([
        lib.Input((2, 3)), lib.layers.Flatten(),
        lib.layers.Dense(16, activation="relu", kernel_regularizer=lib.regularizers.L2(1e-3)),
        lib.layers.Dropout(0.0), lib.layers.Dense(8, activation="tanh"), lib.layers.Dense(3, activation="softmax"),
    ])


def convnet(lib):
    return lib.Sequential([
        lib.Input((6, 6, 1)), lib.layers.Conv2D(4, 3, activation="relu", padding="same"),
        lib.layers.BatchNormalization(), lib.layers.MaxPooling2D(2), lib.layers.Conv2D(3, 2, activation="relu"),
        lib.layers.AveragePooling2D(2), lib.layers.Flatten(), lib.layers.Dense(3, activation="softmax"),
    ])


def recurrent(lib):
    return lib.Sequential([lib.Input((7,), dtype="int32"), lib.layers.Embedding(20, 4), lib.layers.LSTM(5),
                           lib.layers.Dense(3, activation="softmax")])


def two_inputs(lib):
    a, b = lib.Input((2, 3), name="a"), lib.Input((4,), name="b")
    h = lib.layers.Concatenate()([lib.layers.Flatten()(a), lib.layers.Dense(5, activation="relu")(b)])
    return lib.Model([a, b], lib.layers.Dense(3, activation="softmax")(h))


ARCHITECTURES = {"mlp": mlp, "convnet": convnet, "recurrent": recurrent, "two-inputs": two_inputs}


def data(kind: str):
    """48 samples for the architecture ``kind`` and labels 0, 1, 2 that depend on them."""
    rng = np.random.default_rng(0)
    if kind == "recurrent":
        words = rng.integers(0, 20, size=(48, 7)).astype("int32")
        return words, (words[:, 0] > 7).astype(int) + (words[:, 1] > 13)
    shape = {"convnet": (6, 6, 1)}.get(kind, (2, 3))
    x = rng.normal(size=(48, *shape)).astype("float32")
    flat = x.reshape(48, -1)
    y = (flat[:, 0] > 0).astype(int) + (flat[:, 1] > 0.5)
    return ([x, rng.normal(size=(48, 4)).astype("float32")] if kind == "two-inputs" else x), y


def compiled(lib, kind: str):
    model = ARCHITECTURES[kind](lib)
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def one_more_epoch(model, x, y):
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)


def assert_same_model(gm, km, x):
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **PREDICTIONS)
    assert gm.count_params() == km.count_params()
    assert int(gm.optimizer.iterations) == int(km.optimizer.iterations) == 6  # 2 epochs of 3 batches
    keras_order = h5_layout.optimizer_variables(gm.optimizer)  # iterations, learning rate, slots
    assert len(keras_order) == len(km.optimizer.variables)
    for gv, kv in zip(keras_order, km.optimizer.variables):
        np.testing.assert_allclose(gv, kv.numpy(), **PREDICTIONS)


def assert_same_after_an_epoch(gm, km, x, y):
    one_more_epoch(gm, x, y)
    one_more_epoch(km, x, y)
    for gw, kw in zip(gm.get_weights(), km.get_weights()):
        np.testing.assert_allclose(gw, kw, **WEIGHTS)


# ----- both ways ---------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
def test_keras_model_file_resumes_training_in_glassnet(keras, tmp_path, kind):
    x, y = data(kind)
    keras.utils.set_random_seed(0)
    km = compiled(keras, kind)
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    km.save(tmp_path / "from_keras.keras")
    gm = gk.models.load_model(tmp_path / "from_keras.keras")
    assert type(gm.optimizer).__name__ == "Adam" and gm.loss == "sparse_categorical_crossentropy"
    assert [layer.name for layer in gm.layers] == [layer.name for layer in km.layers]
    assert_same_model(gm, km, x)
    assert_same_after_an_epoch(gm, km, x, y)


@pytest.mark.parametrize("kind", sorted(ARCHITECTURES))
def test_glassnet_model_file_resumes_training_in_keras(keras, tmp_path, kind):
    x, y = data(kind)
    gk.utils.set_random_seed(0)
    gm = compiled(gk, kind)
    gm.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    gm.save(tmp_path / "from_glassnet.keras")  # the default: Keras 3's format, the optimizer's variables included
    km = keras.models.load_model(tmp_path / "from_glassnet.keras")
    assert type(km.optimizer).__name__ == "Adam" and float(km.optimizer.learning_rate) == pytest.approx(0.01)
    assert [layer.name for layer in gm.layers] == [layer.name for layer in km.layers]
    assert_same_model(gm, km, x)
    assert_same_after_an_epoch(gm, km, x, y)


def test_weights_files_carry_the_optimizer_both_ways(keras, tmp_path):
    x, y = data("mlp")
    keras.utils.set_random_seed(0)
    km, gm = compiled(keras, "mlp"), compiled(gk, "mlp")
    km.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    km.save_weights(tmp_path / "k.weights.h5")
    gm.load_weights(tmp_path / "k.weights.h5")  # a real Keras weights file: no "pickled object" message
    assert_same_model(gm, km, x)
    assert_same_after_an_epoch(gm, km, x, y)
    gm.save_weights(tmp_path / "g.weights.h5")
    fresh = compiled(keras, "mlp")
    fresh.optimizer.build(fresh.trainable_variables)
    fresh.load_weights(tmp_path / "g.weights.h5")
    np.testing.assert_allclose(fresh.predict(x, verbose=0), gm.predict(x, verbose=0), **PREDICTIONS)
    assert int(fresh.optimizer.iterations) == 9


def test_learning_rate_changed_during_training_comes_back(keras, tmp_path):
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    gm.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    gm.optimizer.learning_rate = 0.003
    gm.save(tmp_path / "m.keras")
    assert float(keras.models.load_model(tmp_path / "m.keras").optimizer.learning_rate) == pytest.approx(0.003)
    assert gk.models.load_model(tmp_path / "m.keras").optimizer.learning_rate == pytest.approx(0.003)


# ----- the extension chooses the format, as in Keras -----------------------------------------------------------------
def test_files_follow_keras_layout(tmp_path):
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    gm.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    gm.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert sorted(zf.namelist()) == ["config.json", "metadata.json", "model.weights.h5"]
        config = json.loads(zf.read("config.json"))
        with h5py.File(zf.open("model.weights.h5")) as f:
            assert sorted(f["layers"]) == ["dense", "dense_1", "dense_2", "dropout", "flatten"]
            np.testing.assert_array_equal(f["layers/dense_2/vars/0"][()], gm.layers[-1].kernel.numpy())
            assert f["optimizer/vars"].attrs["name"] == "adam" and len(f["optimizer/vars"]) == 2 + 2 * 6
            assert f["optimizer/vars/0"][()] == 3 and f["optimizer/vars/1"][()] == np.float32(0.01)
            np.testing.assert_array_equal(f["optimizer/vars/3"][()], gm.optimizer.variables[2])  # kernel velocity
    assert config["class_name"] == "Sequential" and config["compile_config"]["optimizer"]["class_name"] == "Adam"
    dense = config["config"]["layers"][2]
    assert dense["module"] == "keras.layers" and dense["build_config"] == {"input_shape": [None, 6]}
    assert keras_format.is_keras_file(tmp_path / "m.keras")


def test_include_optimizer_false_leaves_the_training_out(keras, tmp_path):
    gm = compiled(gk, "mlp")
    gm.save(tmp_path / "m.keras", include_optimizer=False)
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        assert json.loads(zf.read("config.json"))["compile_config"] is None
        with h5py.File(zf.open("model.weights.h5")) as f:
            assert "optimizer" not in f
    assert getattr(keras.models.load_model(tmp_path / "m.keras"), "optimizer", None) is None  # never compiled
    assert gk.models.load_model(tmp_path / "m.keras").optimizer is None


@pytest.mark.parametrize("name", ["model", "model.txt", "model.npz"])
def test_unknown_extensions_get_keras_messages(tmp_path, name):
    gm = compiled(gk, "mlp")
    with pytest.raises(ValueError, match="Invalid filepath extension for saving"):
        gm.save(tmp_path / name)
    with pytest.raises(ValueError, match="The filename must end in `.weights.h5`"):
        gm.save_weights(tmp_path / name)
    (tmp_path / name).write_bytes(b"x")
    with pytest.raises(ValueError, match="File format not supported"):
        gk.models.load_model(tmp_path / name)
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_format_argument_must_agree_with_the_extension(tmp_path):
    gm = compiled(gk, "mlp")
    gm.save(tmp_path / "m.keras", format="keras")
    with pytest.raises(ValueError, match="does not match the file's extension"):
        gm.save(tmp_path / "x.keras", format="glassnet")
    with pytest.raises(ValueError, match=r"not supported: \['zipped_badly'\]"):
        gm.save(tmp_path / "x.keras", zipped_badly=True)


def test_checkpoints_are_keras_files(keras, tmp_path):
    """ModelCheckpoint writes .keras / .weights.h5 files Keras loads; EarlyStopping restores the epoch the best
    checkpoint holds."""
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    best = callbacks.ModelCheckpoint(tmp_path / "best.keras", monitor="loss", save_best_only=True)
    weights = callbacks.ModelCheckpoint(tmp_path / "w-{epoch}.weights.h5", save_weights_only=True)
    stop = callbacks.EarlyStopping(monitor="loss", patience=1, restore_best_weights=True)
    gm.fit(x, y, batch_size=16, epochs=4, shuffle=False, verbose=0, callbacks=[best, weights, stop])
    km = keras.models.load_model(tmp_path / "best.keras")
    np.testing.assert_allclose(km.predict(x, verbose=0), gm.predict(x, verbose=0), **PREDICTIONS)
    last = compiled(keras, "mlp")
    last.optimizer.build(last.trainable_variables)
    last.load_weights(tmp_path / "w-4.weights.h5")
    assert int(last.optimizer.iterations) == 12  # the 4th epoch's checkpoint, its optimizer's variables included
    assert sorted(p.name for p in tmp_path.iterdir()) == ["best.keras", *[f"w-{i}.weights.h5" for i in (1, 2, 3, 4)]]
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        callbacks.ModelCheckpoint(tmp_path / "w.npz", save_weights_only=True)
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        callbacks.ModelCheckpoint(tmp_path / "m.ckpt")


def test_checkpoints_every_n_batches_are_named_as_keras_names_them(keras, tmp_path):
    x, y = data("mlp")
    for lib in (keras, gk):
        folder = tmp_path / lib.__name__
        model = compiled(lib, "mlp")
        checkpoint = lib.callbacks.ModelCheckpoint(str(folder / "w-{epoch}-{batch}.weights.h5"), save_freq=2,
                                                   save_weights_only=True)
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0, callbacks=[checkpoint])
    assert sorted(p.name for p in (tmp_path / "glassnet").iterdir()) == sorted(
        p.name for p in (tmp_path / "keras").iterdir()) == ["w-1-2.weights.h5", "w-2-1.weights.h5", "w-2-3.weights.h5"]
    with pytest.raises(ValueError, match="Unrecognized save_freq: often"):
        callbacks.ModelCheckpoint(tmp_path / "m.keras", save_freq="often")


# ----- files glassnet must refuse ------------------------------------------------------------------------------------
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


def set_lora(config):
    config["config"]["layers"][2]["config"]["lora_rank"] = 4


@pytest.mark.parametrize(("edit", "message"), [
    (set_units, r"layers/dense/vars \(layer 'dense\w*', weight '\S*kernel'\)/0: shape \(6, 16\) in the file; the "
                r"model's config expects \(6, 17\)"),
    (set_module, "outside Keras"), (set_class, "Could not locate class 'MultiHeadAttention'"),
    (set_initializer, "outside Keras"), (set_lora, "lora_rank"),
])
def test_tampered_config_is_refused(tmp_path, edit, message):
    path = tmp_path / "tampered.keras"
    compiled(gk, "mlp").save(path)
    rewrite_config(path, edit)
    with pytest.raises(ModelFileError, match=message):
        gk.models.load_model(path)


def test_custom_activation_cannot_be_saved_for_keras(tmp_path):
    def swish_like(z):
        return z * gk.ops.sigmoid(z)

    model = gk.Sequential([gk.Input((3,)), gk.layers.Dense(2, activation=swish_like)])
    with pytest.raises(ValueError, match="custom activation 'swish_like'"):
        model.save(tmp_path / "custom.keras")
    assert not list(tmp_path.iterdir())


def test_lambda_layer_is_not_written_into_a_keras_file(tmp_path):
    model = gk.Sequential([gk.Input((3,)), gk.layers.Lambda(lambda t: t * 2), gk.layers.Dense(2)])
    for name in ("m.keras", "m.h5"):
        with pytest.raises(ValueError, match=r"are Lambda layers, whose Python code glassnet never writes"):
            model.save(tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_lambda_layer_is_refused_with_keras_message(keras, tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda t: t * 2), keras.layers.Dense(2)])
    model.save(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="Requested the deserialization of a `Lambda` layer"):
        gk.models.load_model(tmp_path / "lambda.keras")
    with pytest.raises(ModelFileError, match="never runs"):
        gk.models.load_model(tmp_path / "lambda.keras", safe_mode=False)


def test_custom_keras_class_is_refused_unless_passed(keras, tmp_path):
    @keras.saving.register_keras_serializable(package="Custom")
    class Doubling(keras.layers.Layer):
        def call(self, x):
            return x * 2

    model = keras.Sequential([keras.Input((3,)), Doubling(), keras.layers.Dense(2)])
    model.save(tmp_path / "custom.keras")
    with pytest.raises(ModelFileError, match=r"Could not locate class 'Custom>Doubling'.*custom_objects"):
        gk.models.load_model(tmp_path / "custom.keras")

    class Doubling(gk.layers.Layer):  # noqa: F811 - glassnet's twin of the Keras class
        def call(self, x):
            return x * 2

    loaded = gk.models.load_model(tmp_path / "custom.keras", custom_objects={"Custom>Doubling": Doubling})
    x = np.arange(6, dtype="float32").reshape(2, 3)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0), **PREDICTIONS)


class Interrupt(gk.callbacks.Callback):
    """Stops fit with an exception when epoch ``at`` begins (a crash, as far as the callbacks can tell)."""

    def __init__(self, at: int):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("interrupted")


class WeightsAtStart(gk.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.weights, self.iterations = self.model.get_weights(), int(self.model.optimizer.iterations)


def test_backup_and_restore_writes_keras_files_and_restores_them(keras, tmp_path):
    """An interrupted fit leaves Keras's backup (latest.weights.h5 + training_metadata.json); the next fit starts
    from its weights and optimizer state; a Keras backup restores in glassnet the same way."""
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    backup = callbacks.BackupAndRestore(tmp_path / "backup")
    with pytest.raises(RuntimeError, match="interrupted"):
        gm.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=[backup, Interrupt(2)])
    assert sorted(p.name for p in (tmp_path / "backup").iterdir()) == ["latest.weights.h5", "training_metadata.json"]
    assert json.loads((tmp_path / "backup/training_metadata.json").read_text())["epoch"] == 2
    km = compiled(keras, "mlp")
    km.optimizer.build(km.trainable_variables)
    km.load_weights(tmp_path / "backup/latest.weights.h5")
    np.testing.assert_allclose(km.predict(x, verbose=0), gm.predict(x, verbose=0), **PREDICTIONS)
    assert int(km.optimizer.iterations) == 6

    fresh, probe = compiled(gk, "mlp"), WeightsAtStart()
    fresh.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path / "backup"), probe])
    for a, b in zip(probe.weights, gm.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert probe.iterations == 6 and not (tmp_path / "backup").exists()  # a finished fit deletes its backup

    keras.utils.set_random_seed(0)
    km = compiled(keras, "mlp")
    with pytest.raises(RuntimeError, match="interrupted"):
        km.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0,
               callbacks=[keras.callbacks.BackupAndRestore(str(tmp_path / "keras_backup")), KerasInterrupt(keras, 2)])
    fresh, probe = compiled(gk, "mlp"), WeightsAtStart()
    fresh.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path / "keras_backup"), probe])
    for a, b in zip(probe.weights, km.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert probe.iterations == 6


def KerasInterrupt(keras, at: int):  # noqa: N802 - builds a Keras callback class
    class Stop(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            if epoch == at:
                raise RuntimeError("interrupted")

    return Stop()


def test_backup_and_restore_falls_back_to_the_previous_backup(tmp_path):
    """double_checkpoint keeps the previous backup as *.bkp; a latest backup that cannot be read is replaced by it."""
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    backup = callbacks.BackupAndRestore(tmp_path / "b", double_checkpoint=True)
    with pytest.raises(RuntimeError, match="interrupted"):
        gm.fit(x, y, batch_size=16, epochs=5, shuffle=False, verbose=0, callbacks=[backup, Interrupt(2)])
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "latest.weights.h5", "latest.weights.h5.bkp", "training_metadata.json", "training_metadata.json.bkp"]
    previous = compiled(gk, "mlp")
    (tmp_path / "previous.weights.h5").write_bytes((tmp_path / "b/latest.weights.h5.bkp").read_bytes())
    previous.load_weights(tmp_path / "previous.weights.h5")  # the end of the first epoch
    (tmp_path / "b/latest.weights.h5").write_bytes(b"torn")
    fresh, probe = compiled(gk, "mlp"), WeightsAtStart()
    fresh.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
              callbacks=[callbacks.BackupAndRestore(tmp_path / "b", double_checkpoint=True), probe])
    assert probe.iterations == 3
    for a, b in zip(probe.weights, previous.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_backup_and_restore_resumes_at_the_interrupted_epoch(tmp_path):
    x, y = data("mlp")
    gm = compiled(gk, "mlp")
    with pytest.raises(RuntimeError, match="interrupted"):
        gm.fit(x, y, batch_size=16, epochs=5, verbose=0,
               callbacks=[callbacks.BackupAndRestore(tmp_path / "b"), Interrupt(2)])
    history = gm.fit(x, y, batch_size=16, epochs=5, verbose=0, callbacks=[callbacks.BackupAndRestore(tmp_path / "b")])
    assert len(history.history["loss"]) == 3  # epochs 2, 3 and 4, as in Keras


@gk.saving.register_keras_serializable(package="Issue17")
class Scale(gk.layers.Layer):
    """A custom layer with a weight: x·s, one s per feature."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, x):
        return x * self.scale


def keras_scale(keras):
    """Keras's twin of glassnet's Scale, registered under the same name."""
    @keras.saving.register_keras_serializable(package="Issue17")
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

        def call(self, x):
            return x * self.scale

    return Scale


def test_registered_custom_layer_moves_both_ways(keras, tmp_path):
    x, y = data("mlp")
    for lib, scale, load in ((gk, Scale, keras.models.load_model), (keras, keras_scale(keras), gk.models.load_model)):
        model = lib.Sequential([lib.Input((2, 3)), lib.layers.Flatten(), lib.layers.Dense(4), scale(),
                                lib.layers.Dense(3, activation="softmax")])
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        model.save(tmp_path / "custom.keras")
        other = load(tmp_path / "custom.keras")  # found by its registered name, no custom_objects
        assert type(other.layers[2]).__name__ == "Scale" and other.count_params() == model.count_params()
        np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), **PREDICTIONS)
        assert int(other.optimizer.iterations) == 6
    other.save(tmp_path / "custom.glassnet")  # glassnet's own format finds registered classes too
    np.testing.assert_array_equal(gk.models.load_model(tmp_path / "custom.glassnet").predict(x, verbose=0),
                                  other.predict(x, verbose=0))


def wrappers(lib):
    return lib.Sequential([lib.Input((5, 3)), lib.layers.TimeDistributed(lib.layers.Dense(4)),
                           lib.layers.Bidirectional(lib.layers.LSTM(3, return_sequences=True)),
                           lib.layers.GRU(2), lib.layers.Dense(3, activation="softmax")])


def test_wrapped_and_recurrent_layers_move_both_ways(keras, tmp_path):
    """Bidirectional and TimeDistributed hold the layers they wrap (Keras: layers/bidirectional/forward_layer/
    cell/vars, ...); GRU keeps its (2, 3·units) bias."""
    x = np.random.default_rng(0).normal(size=(16, 5, 3)).astype("float32")
    y = (x[:, 0, 0] > 0).astype(int)
    for lib, load in ((gk, keras.models.load_model), (keras, gk.models.load_model)):
        model = wrappers(lib)
        model.compile(optimizer=lib.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        model.save(tmp_path / "wrappers.keras")
        other = load(tmp_path / "wrappers.keras")
        np.testing.assert_allclose(other.predict(x, verbose=0), model.predict(x, verbose=0), **PREDICTIONS)
        assert other.count_params() == model.count_params() and int(other.optimizer.iterations) == 2


OPTIMIZERS = [("SGD", {}), ("SGD", {"momentum": 0.9}), ("RMSprop", {}), ("RMSprop", {"momentum": 0.9}),
              ("RMSprop", {"momentum": 0.5, "centered": True}), ("Adam", {}), ("Adam", {"amsgrad": True}),
              ("AdamW", {"amsgrad": True}), ("Adagrad", {}), ("Adadelta", {}), ("Adamax", {}), ("Nadam", {}),
              ("Ftrl", {}), ("Lion", {})]


@pytest.mark.parametrize(("name", "arguments"), OPTIMIZERS, ids=[f"{n}{a or ''}" for n, a in OPTIMIZERS])
def test_every_optimizer_state_resumes_both_ways(keras, tmp_path, name, arguments):
    """Keras keeps slots in calls of add_optimizer_variables (RMSprop: one per slot; AMSGrad's velocity_hat last):
    each optimizer's file resumes in the other library to the same weights."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x[:, :1] - x[:, 1:2]
    km = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(1)])
    km.compile(optimizer=getattr(keras.optimizers, name)(learning_rate=0.05, **arguments), loss="mse")
    km.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    km.save(tmp_path / "k.keras")
    gm = gk.models.load_model(tmp_path / "k.keras")
    gm.save(tmp_path / "g.keras")
    back = keras.models.load_model(tmp_path / "g.keras")
    for model in (km, gm, back):
        model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for kw, gw, bw in zip(km.get_weights(), gm.get_weights(), back.get_weights()):
        np.testing.assert_allclose(gw, kw, **WEIGHTS)
        np.testing.assert_allclose(bw, gw, **WEIGHTS)


def subclassed(lib):
    class Net(lib.Model):
        def __init__(self):
            super().__init__()
            self.hidden = lib.layers.Dense(4, activation="relu")
            self.out = lib.layers.Dense(1)

        def call(self, x):
            return self.out(self.hidden(x))

    model = Net()
    model(np.ones((1, 3), "float32"))
    model.compile(optimizer=lib.optimizers.Adam(0.01), loss="mse")
    return model


def test_subclassed_model_weights_files_both_ways(keras, tmp_path):
    """Keras saves a subclassed model's layers under their attribute names in name order, with the 'layers' list
    among them (hidden/vars, then layers/dense_1 for `out`): the weights and optimizer variables cross both ways."""
    x = np.random.default_rng(0).normal(size=(8, 3)).astype("float32")
    km, gm = subclassed(keras), subclassed(gk)
    km.fit(x, x[:, :1], batch_size=4, verbose=0, shuffle=False)
    km.save_weights(tmp_path / "k.weights.h5")
    with h5py.File(tmp_path / "k.weights.h5") as f:
        assert "hidden/vars/0" in f and "layers/dense_1/vars/0" in f
    gm.load_weights(tmp_path / "k.weights.h5")
    np.testing.assert_allclose(gm.predict(x, verbose=0), km.predict(x, verbose=0), **PREDICTIONS)
    assert gm.optimizer.iterations == 2
    gm.fit(x, x[:, :1], batch_size=4, verbose=0, shuffle=False)
    gm.save_weights(tmp_path / "g.weights.h5")
    km.load_weights(tmp_path / "g.weights.h5")
    np.testing.assert_allclose(km.predict(x, verbose=0), gm.predict(x, verbose=0), **PREDICTIONS)
    assert int(km.optimizer.iterations) == 4
    with pytest.raises(ValueError, match="a subclassed model's code cannot go in a file"):
        gm.save(tmp_path / "g.keras")
