"""Never lost, and in the learner's words: a page that reconnects gets its session back (network, data, history),
a restarted server carries on from what the page sends back, a link with a bad setting keeps the rest, a page that
lags keeps its connection, divergence and every refusal are explained in plain words."""

import asyncio
import json
import re
import time

import numpy as np
import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient", reason="the TestClient needs httpx2 (or httpx)")

from starlette.testclient import TestClient  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from glassnet.playground import server, wire  # noqa: E402
from glassnet.playground.server import create_app  # noqa: E402
from glassnet.playground.session import Session  # noqa: E402
from tests.playground.probes import BASE, WS, decode, receive, receive_until, running_server  # noqa: E402
from tests.playground.test_server import BAD_MESSAGES, send  # noqa: E402


def opened(ws) -> tuple[dict, dict, dict]:
    """hello, state and the first frame of a new connection."""
    return receive(ws), receive(ws), receive(ws)


# ----- reconnecting ----------------------------------------------------------------------------------------------
def test_a_page_that_reconnects_gets_its_session_back():
    with TestClient(create_app(), base_url=BASE) as client:
        with client.websocket_connect(WS) as ws:
            hello, _, _ = opened(ws)
            assert hello["resumed"] is False and len(hello["session"]) >= 20
            ws.send_text(json.dumps({"type": "set", "settings": {"layers": [3], "dataset": "xor"}}))
            receive_until(ws, "frame")
            for _ in range(2):
                ws.send_text(json.dumps({"type": "step"}))
                before = receive_until(ws, "frame")
        with client.websocket_connect(f"{WS}?session={hello['session']}") as ws:
            again, state, frame = opened(ws)
    assert again["resumed"] is True and again["session"] == hello["session"]
    assert state["settings"]["layers"] == [3] and state["settings"]["dataset"] == "xor"
    assert frame["epoch"] == 2 and frame["history_from"] == 0 and [row[0] for row in frame["history"]] == [0, 1, 2]
    assert frame["weights"] == before["weights"]


def test_unknown_expired_or_taken_tokens_start_a_new_session():
    with TestClient(create_app(grace_s=0.3), base_url=BASE) as client:
        with client.websocket_connect(f"{WS}?session=made-up") as ws:
            hello = opened(ws)[0]
            assert hello["resumed"] is False and hello["session"] != "made-up"
            with client.websocket_connect(f"{WS}?session={hello['session']}") as other:  # still served: not shared
                assert opened(other)[0]["resumed"] is False
        time.sleep(0.5)  # the grace period passes
        with client.websocket_connect(f"{WS}?session={hello['session']}") as ws:
            assert opened(ws)[0]["resumed"] is False


def test_a_full_server_says_so():
    with TestClient(create_app(max_sessions=1), base_url=BASE) as client:
        with client.websocket_connect(WS) as ws:
            opened(ws)
            with client.websocket_connect(WS) as second:
                with pytest.raises(WebSocketDisconnect) as closed:
                    receive(second)
    assert closed.value.code == 1013 and "try again" in closed.value.reason


def test_a_restarted_server_carries_on_from_what_the_page_shows():
    """The page sends back its settings, last weights, epoch and loss curve; the new session trains on from them
    (only the optimizer's moments start afresh, and SGD has none)."""
    first = Session({"layers": [5, 3], "dataset": "gauss", "noise": 20, "learning_rate": 0.1})
    for _ in range(4):
        first.train_epoch()
    page = first.frame()
    restarted = Session()
    replies = send(restarted, {"type": "restore", "settings": first.settings, "weights": page["weights"],
                               "epoch": page["epoch"], "history": page["history"]})
    assert [r["type"] for r in replies] == ["state", "frame"]
    assert restarted.settings == first.settings and restarted.epoch == 4
    assert replies[1]["history_from"] == 0
    np.testing.assert_allclose(np.array(replies[1]["history"], dtype=float), np.array(first.history, dtype=float),
                               rtol=1e-6)
    assert restarted.train_loss == pytest.approx(first.train_loss, rel=1e-6)
    first.train_epoch()
    restarted.train_epoch()
    assert restarted.train_loss == pytest.approx(first.train_loss, rel=1e-4)


def test_a_link_with_bad_settings_keeps_the_rest_and_says_what_it_left_out():
    s = Session()
    replies = send(s, {"type": "restore", "settings": {"noise": 99, "dataset": "spiral", "colour": "red",
                                                       "layers": [3, 3], "activation": "swish"}})
    assert [r["type"] for r in replies] == ["state", "frame", "notice"]
    assert s.settings["dataset"] == "spiral" and s.settings["layers"] == [3, 3]
    assert s.settings["noise"] == 0 and s.settings["activation"] == "tanh"
    note = replies[-1]["message"]
    assert "Noise takes a whole number from 0 to 50, not 99." in note
    assert "Activation can be relu, tanh, sigmoid or linear, not “swish”." in note
    assert "no setting called “colour”" in note


def test_weights_that_no_longer_fit_start_afresh_with_a_note():
    s = Session()
    replies = send(s, {"type": "restore", "settings": {"layers": [2]}, "weights": [{"kernel": [[1.0]], "bias": [0]}],
                       "epoch": 7})
    assert replies[-1] == {"type": "notice",
                           "message": "The saved weights do not fit this network, so it starts from new weights."}
    assert s.epoch == 0 and s.settings["layers"] == [2]


def test_a_lagging_page_keeps_its_connection(monkeypatch):
    """Pings every 0.2 s go unanswered while the page reads nothing for 2 s; the keepalive's patience
    (PING_TIMEOUT_S) keeps it connected, and frames flow again when it reads."""
    from websockets.asyncio.client import connect

    monkeypatch.setattr(server, "PING_INTERVAL_S", 0.2)

    async def lag(port):
        # close_timeout: the closing handshake waits behind the frames this page leaves unread (10 s by default)
        async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None, max_queue=1, close_timeout=0.5) as ws:
            await ws.send(json.dumps({"type": "play"}))
            await asyncio.sleep(2.0)
            epochs = []
            while len(epochs) < 20:
                message = decode(await asyncio.wait_for(ws.recv(), 10))
                if message["type"] == "frame":
                    epochs.append(message["epoch"])
            return epochs

    with running_server() as port:
        epochs = asyncio.run(lag(port))
    assert epochs[-1] > epochs[0]


# ----- the learner's words ---------------------------------------------------------------------------------------
TECHNICAL = re.compile(r"None|True|False|expects|received|Traceback|Error|'|\{|\}|\[\]")


@pytest.mark.parametrize("text", BAD_MESSAGES)
def test_every_refusal_is_in_plain_words(text):
    message = send(Session(), text)[0]["message"]
    assert message.endswith(".") and not TECHNICAL.search(message), message


@pytest.mark.parametrize("settings, expected", [
    ({"noise": None}, "Noise takes a whole number from 0 to 50, not an empty value."),
    ({"features": []}, "Keep at least one input feature: the network needs something to look at."),
    ({"layers": [4, 17]}, "Each hidden layer takes a whole number from 1 to 16, not 17."),
    ({"dataset": "plane"}, "The plane dataset is not a classification dataset; choose circle, xor, gauss, spiral, "
                           "multi gaussian or custom."),
    ({"keep_initial_weights": "yes"}, "Reset keeps the same initial weights is on or off, not “yes”."),
])
def test_refusals_name_the_control_what_it_takes_and_what_it_got(settings, expected):
    assert send(Session(), {"type": "set", "settings": settings}) == [{"type": "error", "message": expected}]


def test_divergence_stops_play_until_reset_and_the_picture_has_no_nan():
    s = Session({"learning_rate": 10.0, "activation": "relu", "problem": "regression", "loss": "squared_error",
                 "dataset": "plane"})
    send(s, {"type": "play"})
    for _ in range(100):
        if s.train_for(0.01):
            break
    frame = s.frame()
    text = wire.encode(frame).decode("latin-1")  # the header is JSON that refuses NaN
    assert frame["train_loss"] is None and "NaN" not in text
    assert frame["diverged"]["message"] == (
        f"Training diverged at epoch {s.epoch} — the learning rate 10 is probably too high. The updates grew instead "
        "of shrinking until the loss was no longer a number: press Reset and try a smaller one.")
    assert np.isnan(s.train_loss) or np.isinf(s.train_loss)
