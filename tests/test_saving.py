"""glassnet's own ``.glassnet`` files: save → load → identical predictions and optimizer state; corrupted,
incomplete or pickled files refused; atomic writes."""

import io
import json
import zipfile

import numpy as np
import pytest

import glassnet as gk
from glassnet import models, optimizers, saving
from glassnet.layers import Dense, Dropout
from glassnet.saving import ModelFileError


def trained_model():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 5)).astype(np.float32)
    y = (x.sum(axis=1) > 0).astype(np.float32)
    model = models.Sequential([Dense(8, activation="relu", input_shape=(5,)), Dropout(0.2),
                               Dense(1, activation="sigmoid")])
    model.compile(optimizer=optimizers.Adam(0.01), loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=2, verbose=0)
    return model, x, y


@pytest.fixture
def saved(tmp_path):
    """A trained model and the .glassnet file it was saved to."""
    model, _, _ = trained_model()
    path = tmp_path / "m.glassnet"
    model.save(path)
    return model, path


def test_save_load_predict_identical_and_compiled(tmp_path):
    model, x, y = trained_model()
    path = tmp_path / "model.glassnet"
    model.save(path)
    restored = models.load_model(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(layer).__name__ for layer in restored.layers] == ["Dense", "Dropout", "Dense"]
    assert restored.metrics_names == ["loss", "compile_metrics"] and type(restored.optimizer) is optimizers.Adam
    assert restored.optimizer.get_config() == model.optimizer.get_config()
    assert restored.optimizer.learning_rate == pytest.approx(0.01)
    assert restored.optimizer.iterations == model.optimizer.iterations
    for a, b in zip(restored.optimizer.get_state(), model.optimizer.get_state()):
        np.testing.assert_array_equal(a, b)
    assert restored.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    assert config["class_name"] == "Sequential" and config["compile_config"]["loss"] == "binary_crossentropy"
    uncompiled = models.load_model(path, compile=False)
    assert uncompiled.optimizer is None


def test_weights_of_a_glassnet_file_and_of_an_older_npz_load(tmp_path, saved):
    model, path = saved
    x = np.ones((2, 5), np.float32)
    other = models.Sequential([Dense(8, activation="relu", input_shape=(5,)), Dropout(0.2), Dense(1, "sigmoid")])
    other.load_weights(path)
    np.testing.assert_array_equal(other.predict(x, verbose=0), model.predict(x, verbose=0))
    np.savez(tmp_path / "old.weights.npz", *model.get_weights())  # what glassnet's save_weights wrote before
    other.load_weights(tmp_path / "old.weights.npz")
    wrong = models.Sequential([Dense(4, input_shape=(5,)), Dense(1)])
    with pytest.raises(ModelFileError, match=r"arr_0.npy' has shape \(5, 8\); the model expects \(5, 4\)"):
        wrong.load_weights(path)


def test_custom_objects_apply_to_the_compile_settings(tmp_path):
    def doubled_error(y_true, y_pred):
        return 2 * gk.ops.mean((y_true - y_pred) ** 2, axis=-1)

    model = models.Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer="sgd", loss=doubled_error)
    model.save(tmp_path / "custom.glassnet")
    with pytest.raises(ModelFileError, match="custom_objects"):
        models.load_model(tmp_path / "custom.glassnet")
    restored = models.load_model(tmp_path / "custom.glassnet", custom_objects={"doubled_error": doubled_error})
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


def test_truncated_file_is_refused(saved):
    _, path = saved
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelFileError, match="truncated or corrupted"):
        models.load_model(path)


def test_bit_flip_is_refused_by_the_crc_check(saved):
    _, path = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("weights.npz")
    data[info.header_offset + 30 + len(info.filename) + 200] ^= 0xFF  # inside the stored weights
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError, match="CRC"):
        models.load_model(path)


def rewrite(path, **members):
    with zipfile.ZipFile(path) as zf:
        contents = {name: zf.read(name) for name in zf.namelist()}
    contents.update(members)
    with zipfile.ZipFile(path, "w") as zf:
        for name, value in contents.items():
            if value is not None:
                zf.writestr(name, value)


def test_pickled_object_array_is_refused(tmp_path, saved):
    model, path = saved
    buffer = io.BytesIO()
    weights = [np.array([{"evil": "payload"}], dtype=object), *model.get_weights()[1:]]
    np.savez(buffer, *weights)  # np.savez pickles the object array
    rewrite(path, **{"weights.npz": buffer.getvalue()})
    with pytest.raises(ModelFileError, match="pickled Python object"):
        models.load_model(path)
    np.savez(tmp_path / "w.npz", *weights)
    with pytest.raises(ModelFileError, match="pickled Python object"):
        model.load_weights(tmp_path / "w.npz")


def test_missing_member_unknown_layer_and_wrong_shapes_are_refused(saved):
    model, path = saved
    original = path.read_bytes()
    rewrite(path, **{"weights.npz": None})
    with pytest.raises(ModelFileError, match="has no member 'weights.npz'"):
        models.load_model(path)
    path.write_bytes(original)
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    config["config"]["layers"][1]["class_name"] = "os.system"
    rewrite(path, **{"config.json": json.dumps(config)})
    with pytest.raises(ModelFileError, match="Unknown layer: 'os.system'"):
        models.load_model(path)
    path.write_bytes(original)
    buffer = io.BytesIO()
    np.savez(buffer, *[np.zeros((w.shape[0] + 1, *w.shape[1:]), np.float32) for w in model.get_weights()])
    rewrite(path, **{"weights.npz": buffer.getvalue()})
    with pytest.raises(ModelFileError, match=r"arr_0.npy' has shape \(6, 8\); the model expects \(5, 8\)"):
        models.load_model(path)
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match="not a valid glassnet model file"):
        models.load_model(path)


def test_a_crash_mid_save_leaves_the_previous_file_intact(tmp_path, saved, monkeypatch):
    model, path = saved
    before = path.read_bytes()
    model.set_weights([w + 1 for w in model.get_weights()])

    def crash(*args, **kwargs):
        raise OSError("disk full (simulated) while writing the weights")

    monkeypatch.setattr(saving.np, "savez", crash)
    with pytest.raises(OSError, match="simulated"):
        model.save(path)
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.glassnet"]
    monkeypatch.undo()

    real_writestr = zipfile.ZipFile.writestr

    def crash_after_config(self, name, data, *args, **kwargs):
        if name == "weights.npz":
            raise RuntimeError("power cut (simulated)")
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", crash_after_config)
    with pytest.raises(RuntimeError, match="power cut"):
        model.save(path)
    monkeypatch.undo()
    assert path.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["m.glassnet"]
    assert models.load_model(path).count_params() == model.count_params()


def test_overwrite_false(tmp_path):
    model, _, _ = trained_model()
    for name in ("m.glassnet", "m.keras", "m.h5"):
        model.save(tmp_path / name)
        with pytest.raises(FileExistsError):
            model.save(tmp_path / name, overwrite=False)
