"""Shared by the playground's tests: the server's own address for Starlette's TestClient, a real uvicorn server in a
thread (for sockets, memory and the browser), and reading replies (JSON text, or binary frames) until one matches."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time

from glassnet.playground import wire

BASE = "http://127.0.0.1:8000"  # the TestClient's requests name the server as a browser on this computer would
WS = "ws://127.0.0.1:8000/ws"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_server(app=None, port: int | None = None):
    """A real playground server on 127.0.0.1 (the app given, or a default one) in a thread; yields its port."""
    import uvicorn

    from glassnet.playground.server import create_app, uvicorn_config

    port = port or free_port()
    server = uvicorn.Server(uvicorn_config(app or create_app(), "127.0.0.1", port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 10
    while not server.started and time.time() < deadline:
        time.sleep(0.02)
    assert server.started, "the playground server did not start"
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def decode(data: str | bytes) -> dict:
    """A server message: JSON text, or a binary frame (its heatmaps as uint8 arrays)."""
    return json.loads(data) if isinstance(data, str) else wire.decode(data)


def receive(ws) -> dict:
    """The next message on a TestClient WebSocket, text or binary."""
    from starlette.websockets import WebSocketDisconnect

    message = ws.receive()
    if message["type"] == "websocket.close":  # as the TestClient's receive_json does
        raise WebSocketDisconnect(message.get("code", 1000), message.get("reason", ""))
    return decode(message["text"] if message.get("text") is not None else message["bytes"])


def receive_until(ws, kind, predicate=lambda m: True) -> dict:
    """Read a TestClient WebSocket's messages until one of type ``kind`` satisfies ``predicate``."""
    while True:
        message = receive(ws)
        if message["type"] == kind and predicate(message):
            return message
