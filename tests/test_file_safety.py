"""Loading stays safe and bounded, saving never leaves a broken or stray file: zip bombs refused before they expand,
malformed values named, unsafe archive names and HDF5 links refused, files made with the umask's mode, temporaries
of killed saves cleaned up, and a save killed with SIGKILL at random moments always leaves the previous file."""

import io
import json
import os
import random
import signal
import struct
import time
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest

h5py = pytest.importorskip("h5py", reason="Keras files need the 'keras-files' extra (h5py)")

import glassnet as gk  # noqa: E402
from glassnet.saving import ModelFileError  # noqa: E402

GIB = 1 << 30


def small_model():
    model = gk.Sequential([gk.Input((4,)), gk.layers.Dense(3, activation="relu"), gk.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def members_of(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_members(path, members: dict) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)


def zeros_deflated(size: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``size`` zero bytes (a 1 MiB block repeated, each one ~1 KiB), and its CRC-32."""
    block_size = 1 << 20
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(bytes(block_size)) + compressor.flush(zlib.Z_FULL_FLUSH)
    crc = zlib.crc32(bytes(block_size))
    stream = block * (size // block_size) + compressor.flush()
    return stream, crc  # the CRC is one block's: a bomb need not be honest, and the loader must not read that far


def zip_with_raw_member(path, stored: dict, name: str, raw: bytes, crc: int, declared_size: int) -> None:
    """A zip holding ``stored`` members and ``name`` as the deflate stream ``raw`` claiming ``declared_size``."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for member, data in stored.items():
            zf.writestr(member, data)
    entries = buffer.getvalue()
    end = entries.rindex(b"PK\x05\x06")
    central_start = struct.unpack("<I", entries[end + 16:end + 20])[0]
    local, central = entries[:central_start], entries[central_start:end]
    count = struct.unpack("<H", entries[end + 10:end + 12])[0]
    encoded = name.encode()
    header = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), declared_size, len(encoded), 0)
    central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), declared_size,
                           len(encoded), 0, 0, 0, 0, 0, len(local)) + encoded
    local += header + encoded + raw
    tail = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, count + 1, count + 1, len(central), len(local), 0)
    path.write_bytes(local + central + tail)


# ----- bounded reading ----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("honest", [True, False], ids=["declares-3GiB", "declares-1KiB"])
def test_zip_bomb_is_refused_within_100MB_and_a_second(tmp_path, honest):
    small_model().save(tmp_path / "good.keras")
    stored = {k: v for k, v in members_of(tmp_path / "good.keras").items() if k != "model.weights.h5"}
    raw, crc = zeros_deflated(3 * GIB)
    bomb = tmp_path / "bomb.keras"
    zip_with_raw_member(bomb, stored, "model.weights.h5", raw, crc, 3 * GIB if honest else 1024)
    assert bomb.stat().st_size < 4_000_000
    model = small_model()
    tracemalloc.start()
    started = time.process_time()
    for load in (lambda: gk.models.load_model(bomb), lambda: model.load_weights(bomb)):
        with pytest.raises(ModelFileError, match="model.weights.h5"):
            load()
    seconds = time.process_time() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert seconds < 1.0 and peak < 100_000_000, (seconds, peak)


def test_npz_bomb_in_a_glassnet_file_is_refused(tmp_path):
    small_model().save(tmp_path / "good.glassnet")
    stored = {k: v for k, v in members_of(tmp_path / "good.glassnet").items() if k != "weights.npz"}
    raw, crc = zeros_deflated(GIB)
    zip_with_raw_member(tmp_path / "bomb.glassnet", stored, "weights.npz", raw, crc, GIB)
    started = time.process_time()
    with pytest.raises(ModelFileError, match="member 'weights.npz' expands to 1073741824 bytes"):
        gk.models.load_model(tmp_path / "bomb.glassnet")
    assert time.process_time() - started < 1.0


# ----- malformed values ---------------------------------------------------------------------------------------------
def edit_keras_config(path, edit) -> None:
    members = members_of(path)
    config = json.loads(members["config.json"])
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    write_members(path, members)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c.update(config=None), r"config.json key 'config': holds None; expected a dict"),
    (lambda c: c["config"]["layers"][1]["config"].update(units=10**12),
     r"config.json key 'layers\[1\] \(Dense 'dense\w*'\).units': 1000000000000 is more than the weights"),
    (lambda c: c["config"]["layers"][1]["config"].update(units="3"),
     r"key 'layers\[1\] \(Dense 'dense\w*'\).units': holds '3'; expected a int"),
    (lambda c: c["config"].update(layers={"a": 1}), r"key 'config.layers': holds \{'a': 1\}; expected a list"),
    (lambda c: c["config"]["layers"].__setitem__(1, 7), r"key 'layers\[1\]': holds 7; expected a serialized Keras"),
    (lambda c: c["compile_config"].update(optimizer=None), r"key 'compile_config.optimizer': holds None"),
    (lambda c: c["compile_config"].update(metrics="mae"), r"key 'compile_config.metrics': holds 'mae'"),
])
def test_malformed_values_name_the_member_and_key(tmp_path, edit, message):
    path = tmp_path / "m.keras"
    small_model().save(path)
    edit_keras_config(path, edit)
    with pytest.raises(ModelFileError, match=message):
        gk.models.load_model(path)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda c: c.update(config=None), r"config.json key 'config': holds None; expected a dict"),
    (lambda c: c["config"]["layers"][1]["config"].update(units=10**12),
     r"config.json key 'config.layers\[1\] \(Dense\).units': 1000000000000 is more than the weights"),
    (lambda c: c["config"]["layers"].__setitem__(1, None), r"key 'config.layers\[1\]': holds None; expected a dict"),
])
def test_malformed_values_in_a_glassnet_file_name_the_key(tmp_path, edit, message):
    path = tmp_path / "m.glassnet"
    small_model().save(path)
    edit_keras_config(path, edit)
    with pytest.raises(ModelFileError, match=message):
        gk.models.load_model(path)


def json_paths(value, path=()):
    """Every position inside a JSON value, as the keys and indices that reach it."""
    if path:
        yield path
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else []
    for key, item in items:
        yield from json_paths(item, (*path, key))


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")  # a tampered `trainable`, as Keras
@pytest.mark.parametrize("extension", [".keras", ".glassnet"])
def test_any_value_replaced_anywhere_loads_or_raises_model_file_error(tmp_path, extension):
    """120 random tamperings of config.json (a value anywhere replaced by null, a huge number, a string, a list,
    a dict naming os.system, ...): each file loads or raises ModelFileError, never another exception."""
    model = gk.Sequential([gk.Input((6, 6, 1)), gk.layers.Conv2D(2, 3, activation="relu"),
                           gk.layers.BatchNormalization(), gk.layers.MaxPooling2D(2), gk.layers.Flatten(),
                           gk.layers.Dense(3, kernel_regularizer="l2"), gk.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.save(tmp_path / f"good{extension}")
    members = members_of(tmp_path / f"good{extension}")
    config = json.loads(members["config.json"])
    positions = list(json_paths(config))
    rng = random.Random(0)
    replacements = [None, -1, 0, 10**12, "x", [], {}, [1, 2], {"class_name": "os.system"}, 1.5, True]
    for _ in range(120):
        tampered = json.loads(members["config.json"])
        *parents, last = rng.choice(positions)
        target = tampered
        for key in parents:
            target = target[key]
        target[last] = rng.choice(replacements)
        write_members(tmp_path / f"bad{extension}", {**members, "config.json": json.dumps(tampered)})
        try:
            gk.models.load_model(tmp_path / f"bad{extension}")
        except ModelFileError:
            pass


def tamper_h5(f, name: str, how: str) -> None:
    """One change to the object ``name`` of an open HDF5 file, as an attacker or a broken writer might make."""
    if how == "group":
        del f[name]
        f.create_group(name)
    elif how == "bytes":
        del f[name]
        f[name] = np.array([b"a", b"b"])
    elif how == "shape":
        del f[name]
        f[name] = np.zeros((2, 7), np.float32)
    elif how == "soft link":
        del f[name]
        f[name] = h5py.SoftLink("/vars")
    elif how == "renamed":
        f.move(name, f"{name}q")
    else:  # "deleted"
        del f[name]


@pytest.mark.filterwarnings("ignore:Skipping variable loading for optimizer")
def test_any_object_of_a_weights_file_tampered_loads_or_raises_model_file_error(tmp_path):
    model = gk.Sequential([gk.Input((5, 3)), gk.layers.LSTM(3), gk.layers.BatchNormalization(), gk.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((8, 5, 3), np.float32), np.zeros((8, 2), np.float32), verbose=0)
    model.save_weights(tmp_path / "good.weights.h5")
    names = []
    with h5py.File(tmp_path / "good.weights.h5") as f:
        f.visit(names.append)
    rng = random.Random(0)
    for _ in range(100):
        bad = tmp_path / "bad.weights.h5"
        bad.write_bytes((tmp_path / "good.weights.h5").read_bytes())
        with h5py.File(bad, "a") as f:
            tamper_h5(f, rng.choice(names), rng.choice(["group", "bytes", "shape", "soft link", "renamed", "deleted"]))
        try:
            model.load_weights(bad)
        except ModelFileError:
            pass


def test_raw_bytes_members_are_refused_by_name(tmp_path):
    small_model().save(tmp_path / "m.keras")
    write_members(tmp_path / "m.keras", {**members_of(tmp_path / "m.keras"), "model.weights.h5": b"\x00" * 64})
    with pytest.raises(ModelFileError, match=r"\(model.weights.h5\) is not a readable HDF5 file"):
        gk.models.load_model(tmp_path / "m.keras")
    small_model().save(tmp_path / "m.glassnet")
    write_members(tmp_path / "m.glassnet", {**members_of(tmp_path / "m.glassnet"), "weights.npz": b"\x93NUMPY" * 9})
    with pytest.raises(ModelFileError, match=r"\(weights.npz\) is not a valid zip archive"):
        gk.models.load_model(tmp_path / "m.glassnet")


def test_custom_objects_reach_the_compile_settings(tmp_path):
    def doubled_error(y_true, y_pred):
        return 2 * gk.ops.mean((y_true - y_pred) ** 2, axis=-1)

    model = gk.Sequential([gk.Input((3,)), gk.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=doubled_error)
    model.save(tmp_path / "m.keras")
    with pytest.raises(ModelFileError, match="compile_config.*custom_objects"):
        gk.models.load_model(tmp_path / "m.keras")
    restored = gk.models.load_model(tmp_path / "m.keras", custom_objects={"doubled_error": doubled_error})
    x, y = np.ones((4, 3), np.float32), np.zeros((4, 1), np.float32)
    assert restored.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))


# ----- archive names and HDF5 links ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["../evil.txt", "/etc/evil", "assets/../../evil", "C:/evil"])
def test_member_paths_outside_the_archive_are_refused(tmp_path, name):
    small_model().save(tmp_path / "m.keras")
    write_members(tmp_path / "m.keras", {**members_of(tmp_path / "m.keras"), name: b"x"})
    with pytest.raises(ModelFileError, match="absolute path or '..'"):
        gk.models.load_model(tmp_path / "m.keras")


def test_hdf5_external_links_object_dtypes_and_shapes_are_refused(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    with h5py.File(tmp_path / "elsewhere.h5", "w") as f:
        f["kernel"] = np.zeros((4, 3), np.float32)
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(tmp_path / "elsewhere.h5"), "kernel")
    with pytest.raises(ModelFileError, match="layers/dense/vars/0 is a ExternalLink"):
        model.load_weights(path)
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/0"]
        f.create_dataset("layers/dense/vars/0", data=np.array(["a"] * 12, dtype=object).reshape(4, 3),
                         dtype=h5py.string_dtype())
    with pytest.raises(ModelFileError, match=r"vars \(layer 'dense\w*', weight '\S*kernel'\)/0: dtype object"):
        model.load_weights(path)
    with h5py.File(path, "a") as f:
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = np.zeros((5, 3), np.float32)
    with pytest.raises(ModelFileError, match=r"layer 'dense\w*'.*shape \(5, 3\) in the file; the model's config "
                                             r"expects \(4, 3\)"):
        model.load_weights(path)


# ----- files on disk ------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_saved_files_get_the_umask_mode(tmp_path, umask):
    model = small_model()
    previous = os.umask(umask)
    try:
        for name in ("m.keras", "m.glassnet", "m.h5"):
            model.save(tmp_path / name)
        model.save_weights(tmp_path / "m.weights.h5")
    finally:
        os.umask(previous)
    for path in tmp_path.iterdir():
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask, path.name


def test_stale_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    stale = [tmp_path / ".m.keras.abc123.tmp", tmp_path / ".m.keras.zz9.tmp"]
    unrelated = [tmp_path / ".other.keras.abc.tmp", tmp_path / "m.keras.tmp"]
    for path in stale + unrelated:
        path.write_bytes(b"x" * 100)
    small_model().save(tmp_path / "m.keras")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.keras", *(p.name for p in unrelated)])


def test_a_failed_save_leaves_no_temporary(tmp_path):
    model = small_model()
    model.save(tmp_path / "m.keras")
    before = (tmp_path / "m.keras").read_bytes()
    model.layers[0].activation = lambda z: z  # a custom activation: refused before anything is written
    with pytest.raises(ValueError, match="custom activation"):
        model.save(tmp_path / "m.keras")
    assert (tmp_path / "m.keras").read_bytes() == before and len(list(tmp_path.iterdir())) == 1


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_saves_killed_at_random_moments_leave_the_previous_file(tmp_path):
    """A child process saves (model files, checkpoints' weights files) in a loop, alternating two sets of
    weights; it is killed with SIGKILL at random moments. Each time the file on disk loads and holds one of the
    two sets, and the next save leaves no temporary behind."""
    model = gk.Sequential([gk.Input((64,)), gk.layers.Dense(256), gk.layers.Dense(64)])
    model.compile(optimizer="adam", loss="mse")
    sets = [model.get_weights(), [w + 1 for w in model.get_weights()]]
    rng = random.Random(0)
    caught_mid_write = 0
    for path in (tmp_path / "m.keras", tmp_path / "m.weights.h5"):
        save = model.save if path.suffix == ".keras" else model.save_weights
        save(path)
        for _ in range(10):
            pid = os.fork()
            if pid == 0:  # the child: save forever
                try:
                    for i in range(10**9):
                        model.set_weights(sets[i % 2])
                        save(path)
                finally:
                    os._exit(0)
            time.sleep(rng.uniform(0.03, 0.15))
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            loaded = gk.models.load_model(path) if path.suffix == ".keras" else model
            if path.suffix == ".h5":
                model.load_weights(path)
            assert any(all(np.array_equal(a, b) for a, b in zip(loaded.get_weights(), s)) for s in sets)
            caught_mid_write += bool(list(tmp_path.glob(f".{path.name}.*.tmp")))
        save(path)
        assert not list(tmp_path.glob(f".{path.name}.*.tmp"))
    assert caught_mid_write > 0  # some kills landed mid-write (about 3 in 10 do), and still the file loaded
