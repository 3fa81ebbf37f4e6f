"""The playground server: every control message changes the model as stated, bad messages get an error frame and
the session keeps working, sessions are independent, and "Export as Python" runs and reaches a similar loss."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient", reason="the TestClient needs httpx2 (or httpx)")

from starlette.testclient import TestClient  # noqa: E402

from glassnet import losses, optimizers  # noqa: E402
from glassnet.autodiff import Tensor  # noqa: E402
from glassnet.datasets import toy2d  # noqa: E402
from glassnet.layers import Dropout  # noqa: E402
from glassnet.playground import settings as schema  # noqa: E402
from glassnet.playground import wire  # noqa: E402
from glassnet.playground.server import create_app  # noqa: E402
from glassnet.playground.session import MAX_MESSAGE_CHARS, Session  # noqa: E402
from tests.playground.probes import BASE, WS, receive, receive_until  # noqa: E402


def send(session: Session, message) -> list[dict]:
    """Send one message as the page does (JSON text) and return the replies."""
    return session.handle_text(message if isinstance(message, str) else json.dumps(message))


def kinds(replies):
    return [r["type"] for r in replies]


def hidden_kernels(session):
    return [layer.get_weights()[0] for layer in session.dense_layers]


# ----- every control ---------------------------------------------------------------------------------------------
def test_defaults_are_the_playgrounds():
    s = Session()
    assert s.settings["layers"] == [4, 2] and s.settings["learning_rate"] == 0.03
    assert s.settings["activation"] == "tanh" and s.settings["features"] == ["x1", "x2"]
    assert [k.shape for k in hidden_kernels(s)] == [(2, 4), (4, 2), (2, 1)]
    assert len(s.x_train) == 250 and len(s.x_test) == 250


def test_dataset_noise_seed_and_ratio_regenerate_the_data_exactly():
    s = Session()
    replies = send(s, {"type": "set", "settings": {"dataset": "xor", "noise": 30, "seed": 7, "train_percent": 30}})
    assert kinds(replies) == ["state", "frame"]
    x, y = toy2d.load("xor", n_samples=500, noise=0.3, seed=7)
    np.testing.assert_array_equal(s.x_train, x[:150])
    np.testing.assert_array_equal(s.y_test[:, 0], y[150:])
    assert replies[1]["epoch"] == 0


def test_problem_type_regression_switches_data_output_and_loss():
    s = Session()
    send(s, {"type": "set", "settings": {"problem": "regression"}})
    assert s.settings["dataset"] == "plane" and len(s.x_train) == 600
    assert isinstance(s.loss_fn, losses.MeanSquaredError)
    z = Tensor(np.array([[-3.0, 0.5, 4.0]], dtype=np.float32))
    np.testing.assert_allclose(s.dense_layers[-1].activation(z).numpy(), z.numpy())  # linear output
    assert "test_rmse" in s.frame()["metrics"]


def test_features_choose_the_input_columns():
    s = Session()
    send(s, {"type": "set", "settings": {"features": ["sin_x2", "x1", "x1_x2", "x2_squared"]}})
    assert s.settings["features"] == ["x1", "x2_squared", "x1_x2", "sin_x2"]  # canonical order
    x = s.x_train
    expected = np.column_stack([x[:, 0], x[:, 1] ** 2, x[:, 0] * x[:, 1], np.sin(x[:, 1])])
    np.testing.assert_allclose(s.f_train, expected, rtol=1e-6)
    assert hidden_kernels(s)[0].shape == (4, 4)


@pytest.mark.parametrize("layers", [[], [3], [8, 16, 1, 5, 2, 7, 4, 6]])
def test_layers_and_neurons(layers):
    s = Session()
    send(s, {"type": "set", "settings": {"layers": layers}})
    sizes = [2, *layers, 1]
    assert [k.shape for k in hidden_kernels(s)] == list(zip(sizes[:-1], sizes[1:]))


def test_activation_global_and_per_layer():
    s = Session()
    z = Tensor(np.array([-2.0, 0.0, 3.0], dtype=np.float32))
    send(s, {"type": "set", "settings": {"activation": "relu"}})
    for layer in s.dense_layers[:-1]:
        np.testing.assert_array_equal(layer.activation(z).numpy(), [0, 0, 3])
    send(s, {"type": "set", "settings": {"layer_activations": ["sigmoid"]}})
    np.testing.assert_allclose(s.dense_layers[0].activation(z).numpy(), 1 / (1 + np.exp(-z.numpy())), rtol=1e-6)
    np.testing.assert_array_equal(s.dense_layers[1].activation(z).numpy(), [0, 0, 3])


def test_learning_rate_changes_the_optimizer_and_keeps_the_weights():
    s = Session()
    send(s, {"type": "step"})
    before = s.model.get_weights()
    send(s, {"type": "set", "settings": {"learning_rate": 0.3}})
    assert s.optimizer.learning_rate == pytest.approx(0.3) and s.epoch == 1
    for a, b in zip(before, s.model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_one_sgd_step_is_w_minus_lr_times_gradient():
    s = Session({"layers": [], "learning_rate": 0.1, "batch_size": 30})
    x, y = s.f_train[:30], s.y_train[:30]
    w, b = s.dense_layers[0].get_weights()
    p = 1 / (1 + np.exp(-(x @ w + b)))  # logistic regression: ∂L/∂w = xᵀ(p − y)/m
    s.train_step(x, y)
    np.testing.assert_allclose(s.dense_layers[0].get_weights()[0], w - 0.1 * x.T @ (p - y) / 30, rtol=1e-4, atol=1e-6)


def test_batch_size_sets_the_steps_per_epoch():
    s = Session({"batch_size": 7})
    send(s, {"type": "step"})
    assert s.optimizer.iterations == int(np.ceil(250 / 7))
    send(s, {"type": "set", "settings": {"batch_size": 25}})
    send(s, {"type": "step"})
    assert s.optimizer.iterations == int(np.ceil(250 / 7)) + 10


@pytest.mark.parametrize("kind, penalty", [("l2", lambda w: np.sum(w**2)), ("l1", lambda w: np.sum(np.abs(w)))])
def test_regularization_adds_the_penalty_of_every_kernel(kind, penalty):
    s = Session()
    send(s, {"type": "set", "settings": {"regularization": kind, "regularization_rate": 0.03}})
    s.model(s.f_train[:5])
    total = sum(float(p.item()) for p in s.model.losses)
    assert total == pytest.approx(0.03 * sum(penalty(k) for k in hidden_kernels(s)), rel=1e-5)


def test_loss_choice_squared_error():
    s = Session()
    send(s, {"type": "set", "settings": {"loss": "squared_error"}})
    p = s.model(s.f_test).numpy()
    assert s.test_loss == pytest.approx(float(np.mean((p - s.y_test) ** 2)), rel=1e-5)


@pytest.mark.parametrize("name, cls, momentum", [("momentum", optimizers.SGD, 0.9), ("adam", optimizers.Adam, None)])
def test_optimizer_choice(name, cls, momentum):
    s = Session()
    send(s, {"type": "set", "settings": {"optimizer": name}})
    assert type(s.optimizer) is cls
    if momentum is not None:
        assert s.optimizer.momentum == momentum


def test_zero_initialization_keeps_the_units_of_a_layer_identical():
    s = Session({"initializer": "zeros", "activation": "sigmoid"})
    assert all(np.all(k == 0) for k in hidden_kernels(s))
    for _ in range(3):
        send(s, {"type": "step"})
    first = hidden_kernels(s)[0]
    assert np.any(first != 0)  # it learned something, yet every unit learned the same:
    for kernel in hidden_kernels(s)[:2]:  # the columns (one per unit) of each hidden layer are equal
        np.testing.assert_array_equal(kernel, np.repeat(kernel[:, :1], kernel.shape[1], axis=1))
    assert s.frame()["identical_layers"] == [True, True]
    assert "identical" in s.state()["note"]


def test_dropout_adds_dropout_layers():
    s = Session()
    send(s, {"type": "set", "settings": {"dropout": 0.2}})
    rates = [layer.rate for layer in s.model.layers if isinstance(layer, Dropout)]
    assert rates == [0.2, 0.2]


def test_reset_new_weights_same_data_or_the_same_initial_weights():
    s = Session()
    x = s.x_train.copy()
    first = hidden_kernels(s)
    send(s, {"type": "step"})
    replies = send(s, {"type": "reset"})
    assert replies[-1]["epoch"] == 0 and replies[-1]["history_from"] == 0
    np.testing.assert_array_equal(s.x_train, x)
    assert not np.array_equal(hidden_kernels(s)[0], first[0])
    send(s, {"type": "set", "settings": {"keep_initial_weights": True}})
    kept = hidden_kernels(s)
    send(s, {"type": "step"})
    send(s, {"type": "reset"})
    for a, b in zip(kept, hidden_kernels(s)):
        np.testing.assert_array_equal(a, b)


def test_regenerate_draws_new_data_and_restarts():
    s = Session()
    x = s.x_train.copy()
    send(s, {"type": "step"})
    send(s, {"type": "regenerate"})
    assert s.epoch == 0 and not np.array_equal(s.x_train, x)
    np.testing.assert_array_equal(s.x_train, toy2d.load("circle", 500, 0.0, seed=s.settings["seed"])[0][:250])


def test_play_pause_step():
    s = Session()
    assert send(s, {"type": "play"})[0]["playing"] is True
    s.train_for(0.01)
    assert s.epoch >= 1
    assert send(s, {"type": "pause"})[0]["playing"] is False
    epoch = s.epoch
    frame = send(s, {"type": "step"})[-1]
    assert frame["epoch"] == epoch + 1 and frame["history"][-1][0] == epoch + 1


def test_edit_a_weight_and_a_bias():
    s = Session()
    frame = send(s, {"type": "set_weight", "layer": 1, "source": 3, "target": 0, "value": -2.5})[0]
    assert s.dense_layers[1].get_weights()[0][3, 0] == -2.5 and frame["weights"][1]["kernel"][3][0] == -2.5
    send(s, {"type": "set_bias", "layer": 2, "neuron": 0, "value": 1.25})
    assert s.dense_layers[2].get_weights()[1][0] == 1.25
    p = s.model(s.f_train).numpy()
    assert s.train_loss == pytest.approx(float(np.mean(-(s.y_train * np.log(p) + (1 - s.y_train) * np.log(1 - p)))),
                                         rel=1e-4)


def test_equations_of_a_neuron_forward_and_backward():
    s = Session()
    send(s, {"type": "step"})
    eq = send(s, {"type": "inspect", "column": 1, "neuron": 2, "sample": 5})[0]["equations"]
    w, b = s.dense_layers[0].get_weights()
    x = s.f_train[5]
    assert eq["z"] == pytest.approx(float(x @ w[:, 2] + b[2]), rel=1e-5)
    assert eq["a"] == pytest.approx(np.tanh(eq["z"]), rel=1e-5)
    assert eq["dz"] == pytest.approx(eq["da"] * (1 - eq["a"] ** 2), rel=1e-4)  # tanh′ = 1 − a²
    np.testing.assert_allclose(eq["dw"], np.array(eq["dz"]) * x, rtol=1e-4)
    out = send(s, {"type": "inspect", "column": 3, "neuron": 0})[0]["equations"]
    assert out["dz"] == pytest.approx(out["a"] - float(s.y_train[5, 0]), rel=1e-4)  # dZ = A − Y
    assert out["da"] is None  # fused: never formed


def test_upload_csv_real_labels_make_a_regression():
    s = Session()
    rng = np.random.default_rng(0)
    x = rng.uniform(-5, 5, (40, 2)).round(3)
    y = (x[:, 0] / 5).round(3)
    text = "x1,x2,value\n" + "\n".join(f"{a},{b},{c}" for (a, b), c in zip(x, y))
    send(s, {"type": "upload", "csv": text})
    assert s.settings["dataset"] == "custom" and s.settings["problem"] == "regression"
    got = np.concatenate([s.x_train, s.x_test])
    np.testing.assert_allclose(got[np.lexsort(got.T)], x[np.lexsort(x.T)], rtol=1e-6)


def test_settings_schema_covers_every_control():
    names = set(schema.schema_json())
    assert {"problem", "dataset", "noise", "train_percent", "batch_size", "features", "layers", "learning_rate",
            "activation", "regularization", "regularization_rate", "loss", "optimizer", "initializer", "dropout",
            "layer_activations", "keep_initial_weights"} <= names
    assert schema.SCHEMA["learning_rate"].choices[0] == 1e-5 and schema.SCHEMA["learning_rate"].choices[-1] == 10


# ----- bad messages ----------------------------------------------------------------------------------------------
BAD_MESSAGES = [
    "{not json",
    "[1, 2]",
    json.dumps({"kind": "play"}),
    json.dumps({"type": "fly"}),
    json.dumps({"type": "play", "speed": 2}),
    json.dumps({"type": "set", "settings": {"noise": 51}}),
    json.dumps({"type": "set", "settings": {"noise": "loud"}}),
    json.dumps({"type": "set", "settings": {"batch_size": True}}),
    json.dumps({"type": "set", "settings": {"batch_size": 2.5}}),
    json.dumps({"type": "set", "settings": {"layers": [4, 17]}}),
    json.dumps({"type": "set", "settings": {"layers": [1] * 9}}),
    json.dumps({"type": "set", "settings": {"learning_rate": 100}}),
    '{"type": "set", "settings": {"learning_rate": NaN}}',
    json.dumps({"type": "set", "settings": {"features": []}}),
    json.dumps({"type": "set", "settings": {"features": ["x3"]}}),
    json.dumps({"type": "set", "settings": {"dataset": "plane"}}),
    json.dumps({"type": "set", "settings": {"dataset": "custom"}}),
    json.dumps({"type": "set", "settings": {"colour": "red"}}),
    json.dumps({"type": "set", "settings": {}}),
    json.dumps({"type": "set", "settings": {"problem": "regression", "loss": "crossentropy"}}),
    json.dumps({"type": "set_weight", "layer": 5, "source": 0, "target": 0, "value": 1}),
    json.dumps({"type": "set_weight", "layer": 0, "source": 0, "target": 9, "value": 1}),
    json.dumps({"type": "set_weight", "layer": 0, "source": 0, "target": 0, "value": 1e9}),
    json.dumps({"type": "set_bias", "layer": 0, "neuron": 0, "value": "big"}),
    json.dumps({"type": "inspect", "column": 9, "neuron": 0}),
    json.dumps({"type": "upload", "csv": "a,b,c\n1,2,3\n"}),
    json.dumps({"type": "upload", "csv": "\n".join(["1,2,x"] * 20)}),
    json.dumps({"type": "set", "settings": {"noise": 10}, "pad": "x" * MAX_MESSAGE_CHARS}),
    json.dumps({"type": "upload", "csv": "1,2,1\n" * 300_000}),
]


@pytest.mark.parametrize("text", BAD_MESSAGES)
def test_bad_message_gets_an_error_frame_and_changes_nothing(text):
    s = Session()
    settings, weights = json.dumps(s.settings), s.model.get_weights()
    replies = send(s, text)
    assert kinds(replies) == ["error"] and replies[0]["message"]
    assert json.dumps(s.settings) == settings
    for a, b in zip(weights, s.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert send(s, {"type": "step"})[-1]["epoch"] == 1  # and the session keeps working


def test_divergence_is_caught_and_explained():
    s = Session({"problem": "regression", "dataset": "plane", "loss": "squared_error", "learning_rate": 3.0,
                 "activation": "linear"})
    send(s, {"type": "play"})
    notices = []
    for _ in range(200):
        notices += s.train_for(0.01)
        if notices:
            break
    assert notices and notices[0]["type"] == "diverged"
    assert notices[0]["message"].startswith(f"Training diverged at epoch {s.epoch} — the learning rate 3 is probably "
                                            "too high")
    assert notices[0]["epoch"] == s.epoch and notices[0]["learning_rate"] == 3.0
    assert s.playing is False
    frame = s.frame()
    assert wire.decode(wire.encode(frame))["train_loss"] is None  # the picture stays valid on the wire
    assert frame["diverged"]["epoch"] == s.epoch
    replies = send(s, {"type": "play"})  # Play stays off, saying why
    assert kinds(replies) == ["diverged", "frame"] and replies[-1]["playing"] is False
    send(s, {"type": "reset"})
    assert s.frame()["diverged"] is None and send(s, {"type": "play"})[-1]["playing"] is True


# ----- over the WebSocket ----------------------------------------------------------------------------------------
def test_websocket_session_protocol_and_error_frames():
    with TestClient(create_app(), base_url=BASE) as client:
        assert "glassnet playground" in client.get("/").text
        assert client.get("/static/app.js").status_code == 200
        with client.websocket_connect(WS) as ws:
            hello = receive(ws)
            assert hello["type"] == "hello" and hello["schema"]["noise"]["high"] == 50
            assert receive(ws)["type"] == "state" and receive(ws)["type"] == "frame"
            ws.send_bytes(b"\x00\x01")
            assert "binary" in receive_until(ws, "error")["message"]
            ws.send_text(json.dumps({"type": "set", "settings": {"noise": 99}}))
            assert receive_until(ws, "error")["message"] == "Noise takes a whole number from 0 to 50, not 99."
            ws.send_text(json.dumps({"type": "play"}))
            frame = receive_until(ws, "frame", lambda m: m["epoch"] >= 3)
            ws.send_text(json.dumps({"type": "pause"}))
            receive_until(ws, "frame", lambda m: not m["playing"])
            assert frame["history"] and frame["output"]["size"] == 100
            ws.send_text(json.dumps({"type": "ready"}))
            receive_until(ws, "ack")


def test_two_sessions_train_independent_models():
    with TestClient(create_app(), base_url=BASE) as client:
        with client.websocket_connect(WS) as a, client.websocket_connect(WS) as b:
            for ws in (a, b):
                receive_until(ws, "frame")
            a.send_text(json.dumps({"type": "set", "settings": {"layers": [3], "init_seed": 5}}))
            receive_until(a, "frame")
            a.send_text(json.dumps({"type": "play"}))
            receive_until(a, "frame", lambda m: m["epoch"] >= 5)
            b.send_text(json.dumps({"type": "step"}))
            frame_b = receive_until(b, "frame")
            a.send_text(json.dumps({"type": "pause"}))
            frame_a = receive_until(a, "frame", lambda m: not m["playing"])
    assert frame_b["epoch"] == 1 and frame_a["epoch"] >= 5
    assert [np.shape(w["kernel"]) for w in frame_a["weights"]] == [(2, 3), (3, 1)]
    assert [np.shape(w["kernel"]) for w in frame_b["weights"]] == [(2, 4), (4, 2), (2, 1)]


# ----- export ----------------------------------------------------------------------------------------------------
def test_export_runs_as_is_and_reaches_a_similar_loss(tmp_path):
    s = Session({"features": ["x1", "x2", "x1_squared"], "regularization": "l2", "regularization_rate": 0.001,
                 "optimizer": "momentum", "learning_rate": 0.01})
    for _ in range(40):
        s.train_epoch()
    code = send(s, {"type": "export"})[0]["code"]
    path = tmp_path / "experiment.py"
    path.write_text(code)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    train, test = map(float, re.search(r"training loss ([\d.]+), test loss ([\d.]+)", run.stdout).groups())
    assert train == pytest.approx(s.train_loss, abs=0.05, rel=0.5)
    assert test == pytest.approx(s.test_loss, abs=0.05, rel=0.5)
