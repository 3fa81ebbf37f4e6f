"""The playground probed as an attacker would: it binds loopback (anything else needs a flag), answers only its own
Host and Origin, wears CSP/nosniff/no-framing headers on every response, refuses static path traversal, answers
every malformed message with an error frame and keeps the session, bounds what a flooding page can queue (memory
returns after it leaves), and serves 20 pages at once."""

import asyncio
import gc
import json
import random
import re
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("starlette.testclient", reason="the TestClient needs httpx2 (or httpx)")
psutil = pytest.importorskip("psutil")
websockets = pytest.importorskip("websockets")

from starlette.testclient import TestClient, WebSocketDenialResponse  # noqa: E402
from starlette.websockets import WebSocketDisconnect  # noqa: E402

from glassnet.playground import guard, main, server  # noqa: E402
from glassnet.playground import settings as schema  # noqa: E402
from glassnet.playground.server import create_app  # noqa: E402
from tests.playground.probes import BASE, WS, decode, receive, receive_until, running_server  # noqa: E402

STATIC = Path(server.__file__).parent / "static"


@pytest.fixture(scope="module")
def client():
    with TestClient(create_app(allow_origins=["http://192.168.1.20:8000"]), base_url=BASE) as client:
        yield client


# ----- where it listens ------------------------------------------------------------------------------------------
def test_loopback_by_default_and_other_addresses_need_a_flag(capsys, monkeypatch):
    import uvicorn

    assert main.__module__ == "glassnet.playground"
    from glassnet.playground import build_parser

    assert build_parser().parse_args([]).host == "127.0.0.1"
    with pytest.raises(SystemExit) as refused:
        main(["--host", "0.0.0.0", "--no-browser"])
    assert refused.value.code == 2 and "--allow-remote" in capsys.readouterr().err
    ran = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda self: ran.append(self.config))
    main(["--host", "0.0.0.0", "--allow-remote", "--allow-origin", "http://192.168.1.20:8000", "--no-browser"])
    err = capsys.readouterr().err
    assert "WARNING: the playground listens on 0.0.0.0" in err
    assert "WARNING: pages from http://192.168.1.20:8000 may drive this playground" in err
    assert ran[0].host == "0.0.0.0" and ran[0].ws_ping_timeout == server.PING_TIMEOUT_S
    assert [guard.is_loopback(h) for h in ("127.0.0.1", "localhost", "::1", "0.0.0.0", "192.168.1.20")] == [
        True, True, True, False, False]


# ----- who may talk to it ----------------------------------------------------------------------------------------
FOREIGN_ORIGINS = ["http://evil.example", "null", "http://127.0.0.1:9999", "http://127.0.0.1.evil.example:8000",
                   "file://", "https://localhost:8000.evil.example"]


@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_foreign_origins_are_refused_on_http_and_websocket(client, origin):
    response = client.get("/", headers={"origin": origin})
    assert response.status_code == 403 and response.headers["x-frame-options"] == "DENY"
    with pytest.raises(WebSocketDenialResponse):
        with client.websocket_connect(WS, headers={"origin": origin}):
            pass


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "127.0.0.1.nip.io:8000", "[::2]:8000"])
def test_foreign_host_headers_are_refused(client, host):
    """A DNS-rebinding page reaches 127.0.0.1 under its own name: the Host header gives it away."""
    assert client.get("/", headers={"host": host}).status_code == 400
    with pytest.raises(WebSocketDenialResponse):
        with client.websocket_connect(WS, headers={"host": host}):
            pass


@pytest.mark.parametrize("origin", ["http://127.0.0.1:8000", "http://localhost:8000", "http://192.168.1.20:8000",
                                    None])
def test_own_and_allowed_origins_pass(client, origin):
    headers = {"origin": origin} if origin else {}
    assert client.get("/static/app.js", headers=headers).status_code == 200
    with client.websocket_connect(WS, headers=headers) as ws:
        assert receive(ws)["type"] == "hello"


def test_security_headers_on_every_response(client):
    responses = [client.get("/"), client.get("/static/app.js"), client.get("/static/missing.js"),
                 client.get("/", headers={"origin": "null"}), client.get("/", headers={"host": "evil.example"})]
    assert [r.status_code for r in responses] == [200, 200, 404, 403, 400]
    for response in responses:
        assert response.headers["content-security-policy"] == guard.CONTENT_SECURITY_POLICY
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in guard.CONTENT_SECURITY_POLICY
    assert "'unsafe-inline'" not in guard.CONTENT_SECURITY_POLICY


@pytest.mark.parametrize("path", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fserver.py",
                                  "/static/%2e%2e%2f%2e%2e%2fsettings.py", "/static//etc/passwd",
                                  "/static/..\\server.py"])
def test_static_path_traversal_is_refused(client, path):
    response = client.get(path)
    assert response.status_code == 404 and "import" not in response.text


def test_the_page_never_inserts_markup():
    """Server data reaches the page as text only: no innerHTML, outerHTML, insertAdjacentHTML or document.write."""
    for script in STATIC.glob("*.js"):
        assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", script.read_text()), script
    assert "style=" not in (STATIC / "index.html").read_text()  # the CSP has no 'unsafe-inline' styles


# ----- malformed messages ----------------------------------------------------------------------------------------
RAW_BAD_VALUES = ["null", '"x"', "{}", "-1", "1e400", "-1e400", "1" + "0" * 30, "9" * 5000, "NaN", "Infinity",
                  "[" * 1000 + "]" * 1000, '{"a":' * 1000 + "1" + "}" * 1000, '"' + "é" * 3000 + '"']


def fuzzed_messages(count: int, seed: int = 0) -> list[str | bytes]:
    """``count`` malformed messages: every field of every message type given a value it cannot take, raw junk,
    truncated JSON, binary frames, unknown types and extra fields."""
    rng = random.Random(seed)
    fields = {"set_weight": ["layer", "source", "target", "value"], "set_bias": ["layer", "neuron", "value"],
              "inspect": ["column", "neuron", "sample"], "upload": ["csv"],
              "restore": ["settings", "weights", "epoch", "history"]}
    valid = {"layer": "0", "source": "0", "target": "0", "neuron": "0", "value": "0.5", "column": "1",
             "sample": "0", "csv": '"x1,x2,y"', "settings": "{}", "weights": "[]", "epoch": "0", "history": "[]"}
    messages: list[str | bytes] = []
    while len(messages) < count:
        roll = rng.random()
        bad = rng.choice(RAW_BAD_VALUES)
        if roll < 0.35:
            name = rng.choice(list(schema.SCHEMA))
            messages.append(f'{{"type": "set", "settings": {{"{name}": {bad}}}}}')
        elif roll < 0.6:
            kind = rng.choice(list(fields))
            broken = rng.choice(fields[kind])
            if (broken, bad) in (("value", "-1"), ("settings", "{}")):  # values these fields can take
                bad = "null"
            parts = ", ".join(f'"{f}": {bad if f == broken else valid[f]}' for f in fields[kind])
            messages.append(f'{{"type": "{kind}", {parts}}}')
        elif roll < 0.7:
            messages.append(json.dumps({"type": rng.choice(["play", "step", "set"]), "extra": 1}))
        elif roll < 0.8:
            messages.append(json.dumps({"type": "".join(rng.choices("abcxyz_", k=6))}))
        elif roll < 0.9:
            text = json.dumps({"type": "set", "settings": {"noise": 10}})
            messages.append(text[:rng.randrange(1, len(text) - 1)])
        elif roll < 0.95:
            messages.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64))))
        else:
            messages.append(rng.choice(["[]", "3", '"play"', "null", "true", "{}", '{"type": 5}', " "]))
    return messages


def test_500_fuzzed_messages_each_get_an_error_frame_and_the_session_lives_on(client):
    with client.websocket_connect(WS) as ws:
        receive_until(ws, "frame")
        for message in fuzzed_messages(500):
            (ws.send_bytes if isinstance(message, bytes) else ws.send_text)(message)
            reply = receive(ws)
            assert reply["type"] == "error", (message[:80], reply)
            assert reply["message"] not in ("", server.INTERNAL_ERROR) and "None" not in reply["message"]
        ws.send_text(json.dumps({"type": "step"}))
        assert receive_until(ws, "frame")["epoch"] == 1


def test_an_unexpected_failure_is_answered_in_plain_words(client, monkeypatch):
    def broken(self, text):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(server.Session, "handle_text", broken)
    with client.websocket_connect(WS) as ws:
        receive_until(ws, "frame")
        ws.send_text(json.dumps({"type": "step"}))
        assert receive(ws) == {"type": "error", "message": server.INTERNAL_ERROR}
        monkeypatch.undo()
        ws.send_text(json.dumps({"type": "step"}))
        assert receive_until(ws, "frame")["epoch"] == 1


# ----- memory ----------------------------------------------------------------------------------------------------
def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


class PeakRss:
    """The largest RSS seen by a sampling thread while the block runs."""

    def __enter__(self):
        self.peak, self.running = rss_mb(), True
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, rss_mb())
            time.sleep(0.01)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


async def flood(port: int, messages: int, size: int) -> None:
    """Play, then send ``messages`` messages of ``size`` characters without ever reading, until the server stops
    taking them."""
    from websockets.asyncio.client import connect

    async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None, max_queue=1, close_timeout=1) as ws:
        await ws.send(json.dumps({"type": "play"}))
        junk = json.dumps({"type": "upload", "csv": "x" * size})
        try:
            for _ in range(messages):
                await asyncio.wait_for(ws.send(junk), 3)
        except (websockets.ConnectionClosed, TimeoutError):
            pass


def test_a_page_that_sends_without_reading_holds_bounded_memory_that_returns():
    """The issue's probe queued 570 MB of messages and held them after the disconnect; now the inbox holds at most
    INBOX_LIMIT messages (INBOX_CHARS characters), then the page is closed and the queue freed."""
    with running_server(create_app(grace_s=0.2)) as port:
        asyncio.run(flood(port, 2, 10))  # the first session's one-time costs
        time.sleep(0.3)
        gc.collect()
        before = rss_mb()
        with PeakRss() as peak:
            asyncio.run(flood(port, 400, 900_000))  # 360 MB if it were all kept
        time.sleep(0.5)  # the grace period passes: the session goes too
        gc.collect()
        after = rss_mb()
    print(f"\nflood of 400 × 0.9 MB: RSS {before:.0f} MB before, peak {peak.peak:.0f} MB, {after:.0f} MB after")
    assert peak.peak - before < 120
    assert after - before < 25


def test_a_page_that_floods_is_closed_with_the_reason(client):
    with client.websocket_connect(WS) as ws:
        receive_until(ws, "frame")
        for _ in range(3 * server.INBOX_LIMIT):  # each step trains an epoch: they arrive faster than handled
            ws.send_text(json.dumps({"type": "step"}))
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                receive(ws)
    assert closed.value.code == 1008 and closed.value.reason == server.FLOODED


def test_twenty_pages_play_at_once_with_bounded_memory():
    """20 pages connect and play for a few seconds: every one keeps getting frames (the pages that play share the
    training slice; 11–13 frames/s each on a busy 2-core machine with 50×50 heatmaps, fewer with TF's 100×100;
    asserted at a quarter of the issue's 10, as timing floors are kept generous on shared machines: at load 15
    the 50×50 server too made 4.5–5.5 a page), RSS stays bounded, and it returns when they leave."""
    async def page(port, seconds, counts, index):
        from websockets.asyncio.client import connect

        async with connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
            await ws.send(json.dumps({"type": "play"}))
            start = time.perf_counter()
            while time.perf_counter() - start < seconds:
                message = decode(await ws.recv())
                counts[index] += message["type"] == "frame" and message["playing"]

    async def classroom(port, seconds):
        counts = [0] * 20
        await asyncio.gather(*(page(port, seconds, counts, i) for i in range(20)))
        return counts

    with running_server(create_app(grace_s=0.2)) as port:
        asyncio.run(classroom(port, 0.5))
        time.sleep(0.4)
        gc.collect()
        before = rss_mb()
        with PeakRss() as peak:
            counts = asyncio.run(classroom(port, 4.0))
        time.sleep(0.5)
        gc.collect()
        after = rss_mb()
    print(f"\n20 pages: frames/s each {min(counts) / 4:.1f}–{max(counts) / 4:.1f}; RSS {before:.0f} MB, "
          f"peak {peak.peak:.0f} MB, after {after:.0f} MB")
    assert min(counts) / 4 >= 2.5
    assert peak.peak - before < 150 and after - before < 40
