"""Callbacks: progress output format, EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, CSVLogger,
LambdaCallback, and the hooks' order."""

import io
import re
import sys

import numpy as np
import pytest

from glassnet import callbacks, models, optimizers
from glassnet.callbacks.progbar import Progbar
from glassnet.layers import Dense


def data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype(np.float32)
    return x, (x @ np.array([1.0, -2.0, 0.5], dtype=np.float32))[:, None]


def regression_model(lr=0.05):
    model = models.Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", metrics=["mae"])
    return model


BAR = re.compile(r"^2/2 ━{20} \d+s \d+(us|ms|s)/step - loss: \d+\.\d{4} - mae: \d+\.\d{4}$")


def test_verbose_1_prints_epoch_lines_and_keras_bar(capsys):
    x, y = data()
    regression_model().fit(x, y, epochs=5, batch_size=32, verbose=1)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/5" and lines[-2] == "Epoch 5/5"
    assert len(lines) == 10 and all(BAR.match(line) for line in lines[1::2]), lines


def test_verbose_2_prints_one_line_per_epoch(capsys):
    x, y = data()
    regression_model().fit(x, y, epochs=2, batch_size=32, verbose=2, validation_split=0.25)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    pattern = r"^2/2 - \d+s - \d+(us|ms|s)/step - loss: \S+ - mae: \S+ - val_loss: \S+ - val_mae: \S+$"
    assert re.match(pattern, lines[1]), lines[1]
    assert len(lines) == 4


def test_single_epoch_has_no_epoch_line_and_verbose_0_is_silent(capsys):
    x, y = data()
    model = regression_model()
    model.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr().out == ""
    model.fit(x, y, epochs=1)  # verbose='auto' is 1
    assert capsys.readouterr().out.splitlines()[0].startswith("2/2 ━")
    model.evaluate(x, y)
    assert re.match(r"^2/2 ━{20} \d+s .*/step - loss: \S+ - mae: \S+$", capsys.readouterr().out.strip())


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def test_progbar_redraws_in_place_in_a_terminal():
    stream = FakeTerminal()
    bar = Progbar(4, stream=stream, interval=0.0)
    for step in range(1, 5):
        bar.update(step, [("loss", 0.5)])
    out = stream.getvalue()
    assert out.count("\r") == 4 and out.endswith("\n") and out.count("\n") == 1
    assert "\x1b[32m" + "━" * 10 + "\x1b[0m" in out  # half done: 10 green bar characters
    assert out.split("\r")[-1].startswith("\x1b[1m4/4\x1b[0m \x1b[32m" + "━" * 20)


def test_progbar_number_format():
    stream = io.StringIO()
    bar = Progbar(1, stream=stream, verbose=2)
    bar.update(1, [("loss", 0.25), ("tiny", 1e-5), ("neg", -3.0)])
    assert re.match(r"^1/1 - \d+s - \d+\w+/step - loss: 0\.2500 - tiny: 1\.0000e-05 - neg: -3\.0000\n$",
                    stream.getvalue())


def test_early_stopping_restores_best_weights():
    x, y = data()
    model = regression_model()
    values = iter([1.0, 0.5, 0.7, 0.8, 0.9, 0.95])
    snapshots = []

    class FakeMonitor(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)
            snapshots.append(self.model.get_weights())

    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, verbose=0, callbacks=[FakeMonitor(), stopper])
    assert history.epoch == [0, 1, 2, 3] and stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    for a, b in zip(model.get_weights(), snapshots[1]):
        assert np.array_equal(a, b)


def test_early_stopping_mode_and_unknown_metric():
    stopper = callbacks.EarlyStopping(monitor="val_accuracy")
    stopper.set_model(regression_model())
    stopper.on_train_begin()
    assert stopper._maximize
    with pytest.raises(ValueError, match="mode='max'"):
        callbacks.EarlyStopping(monitor="weird").on_train_begin()


def test_model_checkpoint_save_best_only(tmp_path):
    x, y = data()
    model = regression_model()
    values = iter([1.0, 2.0, 0.5])

    class FakeMonitor(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = next(values)

    path = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    ckpt = callbacks.ModelCheckpoint(path, save_best_only=True)
    model.fit(x, y, epochs=3, verbose=0, callbacks=[FakeMonitor(), ckpt])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt-01-1.00.keras", "ckpt-03-0.50.keras"]
    restored = models.load_model(tmp_path / "ckpt-03-0.50.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
    weights_only = callbacks.ModelCheckpoint(str(tmp_path / "w.weights.h5"), save_weights_only=True)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[weights_only])
    assert (tmp_path / "w.weights.h5").exists()


def test_reduce_lr_on_plateau_changes_learning_rate():
    x, y = data()
    model = models.Sequential([Dense(1, input_shape=(3,))])
    model.compile(optimizer=optimizers.SGD(1e-9), loss="mse")  # too small to improve the loss by min_delta
    reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[reduce])
    # epoch 0 sets the best value; epochs 1 and 2 do not improve on it by 1e-4: halve after each
    assert history.history["learning_rate"] == pytest.approx([1e-9, 1e-9, 5e-10])
    assert model.optimizer.learning_rate == pytest.approx(2.5e-10)
    with pytest.raises(ValueError, match="factor >= 1.0"):
        callbacks.ReduceLROnPlateau(factor=2)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_terminate_on_nan_stops_at_the_first_bad_batch(capsys):
    x, y = data()
    model = regression_model(lr=1e6)  # diverges to inf/NaN quickly
    history = model.fit(x, y, epochs=20, batch_size=8, verbose=0, callbacks=[callbacks.TerminateOnNaN()])
    assert "Invalid loss, terminating training" in capsys.readouterr().out
    assert len(history.epoch) < 20


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = data()
    path = tmp_path / "log.csv"
    history = regression_model().fit(x, y, epochs=3, verbose=0, callbacks=[callbacks.CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,loss,mae"
    for epoch, line in enumerate(lines[1:]):
        fields = line.split(",")
        assert int(fields[0]) == epoch
        assert float(fields[1]) == history.history["loss"][epoch] and float(fields[2]) == history.history["mae"][epoch]
    regression_model().fit(x, y, epochs=1, verbose=0, callbacks=[callbacks.CSVLogger(path, append=True)])
    assert len(path.read_text().splitlines()) == 5


def test_hook_order_and_params():
    x, y = data(40)
    events = []
    spy = callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append("train_begin"),
        on_epoch_begin=lambda e, logs: events.append(f"epoch_begin {e}"),
        on_train_batch_end=lambda b, logs: events.append(f"batch_end {b}"),
        on_epoch_end=lambda e, logs: events.append(f"epoch_end {e} {sorted(logs)}"),
        on_train_end=lambda logs: events.append("train_end"),
    )
    regression_model().fit(x, y, epochs=2, batch_size=32, verbose=0, callbacks=[spy], validation_data=(x, y))
    assert events == ["train_begin", "epoch_begin 0", "batch_end 0", "batch_end 1",
                      "epoch_end 0 ['loss', 'mae', 'val_loss', 'val_mae']", "epoch_begin 1", "batch_end 0",
                      "batch_end 1", "epoch_end 1 ['loss', 'mae', 'val_loss', 'val_mae']", "train_end"]
    with pytest.raises(ValueError, match="unknown hook"):
        callbacks.LambdaCallback(on_epoch_finish=print)


def test_a_process_that_merely_imported_ipykernel_is_not_a_notebook(capsys, monkeypatch):
    import types

    monkeypatch.setitem(sys.modules, "ipykernel", types.ModuleType("ipykernel"))
    x, y = data()
    regression_model().fit(x, y, epochs=1)
    out = capsys.readouterr().out
    assert "\r" not in out and out.startswith("2/2 ━")  # printed once, for a file or pipe


def test_csv_logger_writes_a_per_class_metric_in_one_cell(tmp_path):
    """F1Score(average=None) logs one value per class: one CSV cell ``[a, b, c]``, readable back with csv."""
    import csv

    import glassnet as gk

    model = gk.Sequential([gk.Input((4,)), gk.layers.Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", metrics=[gk.metrics.F1Score(average=None)])
    rng = np.random.default_rng(0)
    x, y = rng.random((16, 4)).astype("float32"), np.eye(3, dtype="float32")[rng.integers(0, 3, 16)]
    path = tmp_path / "log.csv"
    history = model.fit(x, y, epochs=1, verbose=0, callbacks=[gk.callbacks.CSVLogger(path)])
    (row,) = list(csv.DictReader(path.open()))
    cell = row["f1_score"]
    assert cell.startswith("[") and cell.endswith("]")
    np.testing.assert_allclose([float(v) for v in cell[1:-1].split(", ")], history.history["f1_score"][0], rtol=1e-6)
