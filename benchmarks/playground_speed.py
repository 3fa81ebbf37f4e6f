"""Playground speed: epochs per second of the default network (2-4-2-1, tanh, 250 training points, batch 10 =
25 steps an epoch) while the server streams frames over a real WebSocket, and the same without streaming.

The issue's bar: ≥ 50 epochs/s while streaming ≥ 20 frames/s. Run: ``.venv/bin/python benchmarks/playground_speed.py``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import threading
import time

from glassnet.playground.session import Session


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int):
    import uvicorn

    from glassnet.playground.server import create_app

    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run)
    thread.start()
    for _ in range(100):
        if server.started:
            return server, thread
        time.sleep(0.05)
    raise RuntimeError("the playground server did not start")


async def stream(port: int, seconds: float, settings: dict | None) -> tuple[float, float, float]:
    """Play for ``seconds``; return (epochs/s, frames/s, final training loss) as the page would see them."""
    import websockets

    async with websockets.connect(f"ws://127.0.0.1:{port}/ws", max_size=None) as ws:
        for _ in range(3):  # hello, state, frame
            await ws.recv()
        if settings:
            await ws.send(json.dumps({"type": "set", "settings": settings}))
        await ws.send(json.dumps({"type": "play"}))
        frames, first, last = 0, None, None
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:
            message = json.loads(await ws.recv())
            if message["type"] == "frame" and message["playing"]:
                frames += 1
                first = first or (time.perf_counter(), message["epoch"])
                last = (time.perf_counter(), message["epoch"], message["train_loss"])
        elapsed = last[0] - first[0]
        return (last[1] - first[1]) / elapsed, (frames - 1) / elapsed, last[2]


def without_streaming(seconds: float) -> tuple[float, float]:
    """Epochs/s and steps/s of Session.train_epoch alone."""
    session = Session()
    epochs, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        session.train_epoch()
        epochs += 1
    rate = epochs / (time.perf_counter() - start)
    return rate, rate * 25


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    epochs, steps = without_streaming(args.seconds)
    print(f"training alone:         {epochs:7.1f} epochs/s ({steps:.0f} steps/s of 10 points)")
    port = free_port()
    server, thread = start_server(port)
    epochs, fps, loss = asyncio.run(stream(port, args.seconds, None))
    print(f"while streaming:        {epochs:7.1f} epochs/s, {fps:5.1f} frames/s (training loss {loss:.4f})")
    epochs, fps, _ = asyncio.run(stream(port, args.seconds, {"layers": [8, 8]}))
    print(f"2-8-8-1 while streaming: {epochs:6.1f} epochs/s, {fps:5.1f} frames/s")
    epochs, fps, _ = asyncio.run(stream(port, args.seconds, {"layers": [16] * 8}))
    print(f"8 × 16 while streaming: {epochs:7.1f} epochs/s, {fps:5.1f} frames/s")
    server.should_exit = True
    thread.join()


if __name__ == "__main__":
    main()
