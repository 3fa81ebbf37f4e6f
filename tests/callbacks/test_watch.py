"""Watch: the per-layer table it records during fit (checked against values computed here from the same weights),
its files, plot and live view, and the findings it reports (history.diagnoses), a NaN's origin among them."""

from __future__ import annotations

import csv
import math
import sys

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, ops
from glassnet.callbacks import Watch
from glassnet.callbacks.watch_log import COLUMNS
from glassnet.inspect import watch


def data(n=64, features=6, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    return x, (x[:, :classes].argmax(axis=1)).astype("int64")


def net(hidden="relu", optimizer="sgd", seed=0, **dense):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(8, activation=hidden, **dense),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    return model


def rows_at(w: Watch, step: int) -> dict:
    return {r["layer"]: r for r in w.rows if r["step"] == step}


@pytest.mark.parametrize("hidden", ["relu", "sigmoid", "tanh"])
def test_step_zero_row_matches_the_values_computed_from_the_same_weights(hidden):
    x, y = data()
    model = net(hidden, bias_initializer=keras.initializers.Constant(-0.3))
    kernel0 = model.layers[0].kernel.numpy().copy()
    bias0 = model.layers[0].bias.numpy().copy()
    w = Watch(every=1, verbose=0)
    model.fit(x, y, batch_size=64, epochs=1, verbose=0, callbacks=[w])  # one step on the whole batch
    first = model.layers[0]
    row = rows_at(w, 0)[first.name]
    z = x @ kernel0 + bias0
    a = {"relu": np.maximum(z, 0), "sigmoid": 1 / (1 + np.exp(-z)), "tanh": np.tanh(z)}[hidden]
    assert row["act_mean"] == pytest.approx(a.mean(), rel=1e-5)
    assert row["act_std"] == pytest.approx(a.std(), rel=1e-5)
    assert row["weight_norm"] == pytest.approx(np.linalg.norm(first.kernel.numpy()), rel=1e-6)
    assert row["grad_norm"] == pytest.approx(np.linalg.norm(first.kernel.grad), rel=1e-6)
    change = np.linalg.norm(first.kernel.numpy() - kernel0) / np.linalg.norm(first.kernel.numpy())
    assert row["update_ratio"] == pytest.approx(change, rel=1e-5)
    assert row["activation"] == hidden
    if hidden == "relu":
        assert row["dead_fraction"] == pytest.approx(np.mean((z > 0).sum(axis=0) == 0))
        assert math.isnan(row["saturated_fraction"])
    else:
        slope = a * (1 - a) if hidden == "sigmoid" else 1 - a * a
        assert row["saturated_fraction"] == pytest.approx(np.mean(slope < 0.01))
        assert math.isnan(row["dead_fraction"])


def test_a_convolution_with_relu_reports_its_activations():
    """A ReLU keeps its output for its backward, so a conv layer's row has the statistics of max(X ⋆ W + b, 0)."""
    keras.utils.set_random_seed(1)
    x = np.random.default_rng(1).normal(size=(16, 6, 6, 2)).astype("float32")
    y = np.arange(16) % 3
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.Conv2D(4, 3, activation="relu"), layers.Flatten(),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    conv = model.layers[0]
    a = np.maximum(conv(x).numpy(), 0)  # the activation of the step's one batch, before its update
    w = Watch(every=1, verbose=0)
    model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[w])
    row = rows_at(w, 0)[conv.name]
    assert row["activation"] == "relu"
    assert row["act_mean"] == pytest.approx(a.mean(), rel=1e-5)
    assert row["act_std"] == pytest.approx(a.std(), rel=1e-5)
    assert row["dead_fraction"] == pytest.approx(np.mean(a.reshape(-1, 4).max(axis=0) == 0))


def test_rows_every_n_steps_one_per_layer_with_the_tidy_columns():
    x, y = data(n=80)
    model = net()
    w = Watch(every=3, verbose=0)
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, callbacks=[w])  # 20 steps
    assert sorted({r["step"] for r in w.rows}) == [0, 3, 6, 9, 12, 15, 18]
    assert [r["layer"] for r in w.rows[:2]] == [layer.name for layer in model.layers]
    assert {r["epoch"] for r in w.rows} == {0, 1}
    assert all(set(r) == set(COLUMNS) for r in w.rows)
    assert w.initial_loss["expected"] == pytest.approx(math.log(3))
    assert w.initial_loss["loss"] == pytest.approx(w.rows[0]["loss"])
    assert w.findings == [] and model.history.diagnoses == []


def test_run_eagerly_keeps_norms_and_leaves_activations_empty():
    x, y = data()
    model = net()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", run_eagerly=True)
    w = Watch(every=1, verbose=0)
    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[w])
    row = rows_at(w, 1)[model.layers[0].name]
    assert row["grad_norm"] == pytest.approx(np.linalg.norm(model.layers[0].kernel.grad), rel=1e-6)
    assert math.isnan(row["act_mean"]) and math.isnan(row["dead_fraction"])


def test_the_log_is_a_dataframe_or_a_list_and_writes_csv_and_parquet(tmp_path, monkeypatch):
    x, y = data()
    w = Watch(every=1, verbose=0)
    net().fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[w])
    pd = pytest.importorskip("pandas")
    frame = w.log
    assert isinstance(frame, pd.DataFrame) and list(frame.columns) == list(COLUMNS) and len(frame) == 8
    w.to_csv(tmp_path / "watch.csv")
    with open(tmp_path / "watch.csv") as f:
        read = list(csv.DictReader(f))
    assert len(read) == 8 and float(read[3]["grad_norm"]) == pytest.approx(w.rows[3]["grad_norm"])
    if pytest.importorskip("pyarrow"):
        w.to_parquet(tmp_path / "watch.parquet")
        assert pd.read_parquet(tmp_path / "watch.parquet")["weight_norm"].tolist() == pytest.approx(
            frame["weight_norm"].tolist())
    with pytest.raises(FileNotFoundError, match="missing"):
        w.to_csv(tmp_path / "missing" / "watch.csv")
    monkeypatch.setitem(sys.modules, "pandas", None)  # as without pandas
    assert w.log is w.rows


def test_plot_draws_one_panel_per_column_one_line_per_layer():
    pytest.importorskip("matplotlib")
    x, y = data()
    w = Watch(every=1, verbose=0)
    net().fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[w])
    figure = w.plot(["grad_norm", "act_std"])
    assert [ax.get_title() for ax in figure.axes] == ["grad_norm", "act_std"]
    assert len(figure.axes[0].lines) == 2
    with pytest.raises(ValueError, match="unknown column"):
        w.plot(["gradient"])


def test_live_view_is_one_output_updated_in_place(monkeypatch):
    import IPython.display

    shown, updates = [], []

    class Handle:
        def update(self, obj):
            updates.append(obj.data)

    def display(obj, display_id=None):
        assert display_id is True
        shown.append(obj.data)
        return Handle()

    monkeypatch.setattr(IPython.display, "display", display)
    x, y = data()
    w = Watch(every=1, live=True, verbose=0)
    net().fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[w])
    assert len(shown) == 1 and updates  # one output, replaced
    assert "step 7" in updates[-1] and "grad_norm" in updates[-1]


def test_snapshots_keep_each_epochs_weights():
    x, y = data()
    model = net()
    w = Watch(snapshots=True, verbose=0)
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[w])
    assert [s["epoch"] for s in w.snapshots] == [0, 1]
    last = w.snapshots[-1]["weights"][model.layers[0].name]
    np.testing.assert_array_equal(last[model.layers[0].kernel.name], model.layers[0].kernel.numpy())


def test_bad_arguments_and_a_model_without_trainable_weights():
    with pytest.raises(ValueError, match="`every` must be a positive integer .steps between records., received 0"):
        Watch(every=0)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3)])
    model.compile(optimizer="sgd", loss="mse")
    model.trainable = False
    with pytest.raises(ValueError, match="no trainable weights"):
        watch(model)
    with pytest.raises(ValueError, match="no trainable weights"):
        model.fit(np.zeros((4, 6), "float32"), np.zeros((4, 3), "float32"), verbose=0, callbacks=[Watch()])


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the inf/NaN on purpose
def test_diverging_loss_at_a_learning_rate_of_10():
    x, y = data(n=256)
    model = net(optimizer=keras.optimizers.SGD(learning_rate=10.0))
    w = Watch(verbose=0)
    history = model.fit(x * 30, y, batch_size=16, epochs=2, verbose=0, callbacks=[w])
    found = {f.code: f for f in history.diagnoses}
    assert "diverging" in found and found["diverging"].details["learning_rate"] == 10.0
    assert found["diverging"].details["to_step"] - found["diverging"].details["from_step"] <= 20


def test_tiny_updates_say_the_learning_rate_is_too_small():
    x, y = data(n=256)
    model = net(optimizer=keras.optimizers.SGD(learning_rate=1e-7))
    w = Watch(every=2, verbose=0)
    history = model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[w])
    assert [f.code for f in history.diagnoses] == ["learning_rate_too_small"]
    assert history.diagnoses[0].details["max_update_ratio"] < 1e-5


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the inf/NaN on purpose
def test_nan_origin_names_the_log_of_zero_in_a_hand_written_loss(capsys):
    def log_loss(y_true, y_pred):
        return -ops.mean(ops.sum(y_true * ops.log(y_pred), axis=-1))

    x, labels = data(n=64)
    y = np.eye(3, dtype="float32")[labels]
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), layers.Dense(3, activation="relu")])  # relu: outputs of 0
    model.compile(optimizer="sgd", loss=log_loss)
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[Watch()])
    nan = [f for f in history.diagnoses if f.code == "nan"]
    assert len(nan) == 1 and len(history.diagnoses) == 1  # and nothing said after the weights went NaN
    assert nan[0].details["op"] == "Log" and nan[0].details["layer"] == "loss"
    assert nan[0].details["equation"] == "z = ln x" and nan[0].details["inputs"] == ["0"]
    assert nan[0].details["output"] == -math.inf
    assert "Log in layer 'loss' (z = ln x): with x = 0 it gives z = -inf" in capsys.readouterr().out


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # the inf/NaN on purpose
def test_nan_origin_at_an_unwatched_step_reads_what_the_failing_step_saved():
    def log_loss(y_true, y_pred):
        return -ops.mean(ops.sum(y_true * ops.log(y_pred), axis=-1))

    x = np.abs(data(n=64)[0]) + 0.1
    x[40:48] = -x[40:48]  # the sixth batch: every output of the relu is 0
    y = np.ones((64, 1), dtype="float32")
    model = keras.Sequential([keras.Input((6,)), layers.Dense(1, activation="relu", kernel_initializer="ones")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1e-3), loss=log_loss)
    w = Watch(every=50, verbose=0)
    history = model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0, callbacks=[w])
    (nan,) = history.diagnoses
    assert nan.step == 5 and nan.details["op"] == "Log" and nan.details["inputs"] == ["0"]


def test_a_custom_train_step_is_watched_from_its_weights_and_gradients():
    class Custom(keras.Sequential):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            loss = self.compute_loss(x=x, y=y, y_pred=self(x, training=True))
            loss.backward()
            self.optimizer.apply([v.grad for v in self.trainable_weights], self.trainable_weights)
            return {"mae": 0.0}  # no "loss": nothing to judge it by

    keras.utils.set_random_seed(0)
    model = Custom([keras.Input((6,)), layers.Dense(4, activation="relu"), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x = data()[0]
    w = Watch(every=1, verbose=0)
    history = model.fit(x, x[:, :1], batch_size=16, epochs=1, verbose=0, callbacks=[w])
    assert [r["step"] for r in w.rows] == [0, 0, 1, 1, 2, 2, 3, 3] and history.diagnoses == []
    assert w.rows[-1]["grad_norm"] == pytest.approx(np.linalg.norm(model.layers[-1].kernel.grad), rel=1e-6)
    assert math.isnan(w.rows[0]["act_mean"])  # the custom step's graph is gone: no activations
