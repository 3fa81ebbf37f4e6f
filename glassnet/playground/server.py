"""The playground's HTTP + WebSocket server (Starlette on uvicorn): the page, its static files, and one training
session per WebSocket connection.

Each connection gets its own :class:`~glassnet.playground.session.Session`. One task per connection reads the
page's messages into a queue; another applies them in order and, while playing, trains in a worker thread for a
short slice, then sends a frame, so frames stream at a bounded rate (at most ``MAX_FPS``) while training runs.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from glassnet.playground import settings as schema
from glassnet.playground.session import MAX_UPLOAD_CHARS, Session

try:
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The glassnet playground needs its optional dependencies: pip install 'glassnet[playground]' "
        f"(missing: {error.name})"
    ) from error

STATIC = Path(__file__).parent / "static"
TRAIN_SLICE_S = 0.03  # training time between two frames while playing
MAX_FPS = 30


async def _in_thread(fn, *args):
    """Run session work in a worker thread (the engine's recording settings are per thread)."""
    return await asyncio.to_thread(fn, *args)


async def index(request):
    return FileResponse(STATIC / "index.html")


async def _send(websocket: WebSocket, message: dict) -> None:
    await websocket.send_text(json.dumps(message, allow_nan=False))


async def _read(websocket: WebSocket, inbox: asyncio.Queue) -> None:
    """Put every message from the page into ``inbox`` (text as str, binary as bytes); None when it disconnects."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            await inbox.put(message.get("text") if message.get("text") is not None else message.get("bytes"))
    except WebSocketDisconnect:
        pass
    finally:
        await inbox.put(None)


async def run_session(websocket: WebSocket) -> None:
    """Serve one page: hello (schema), state and a first frame; then messages in order, and frames while playing."""
    await websocket.accept()
    session = await _in_thread(Session)
    await _send(websocket, {"type": "hello", "schema": schema.schema_json(), "version": _version()})
    for message in await _in_thread(lambda: [session.state(), session.frame()]):
        await _send(websocket, message)
    inbox: asyncio.Queue = asyncio.Queue()
    reader = asyncio.create_task(_read(websocket, inbox))
    last_frame = 0.0
    try:
        while True:
            while session.playing and inbox.empty():
                notices = await _in_thread(session.train_for, TRAIN_SLICE_S)
                wait = last_frame + 1 / MAX_FPS - time.perf_counter()
                if wait > 0:
                    await asyncio.sleep(wait)
                frame = await _in_thread(session.frame)
                last_frame = time.perf_counter()
                for message in [*notices, frame]:
                    await _send(websocket, message)
            text = await inbox.get()
            if text is None:
                break
            for message in await _in_thread(session.handle_text, text):
                await _send(websocket, message)
    except WebSocketDisconnect:
        pass
    finally:
        reader.cancel()


def _version() -> str:
    from glassnet import __version__

    return __version__


def create_app() -> Starlette:
    """The ASGI application: ``/`` the page, ``/static`` its files, ``/ws`` the session socket."""
    return Starlette(routes=[
        Route("/", index),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
        WebSocketRoute("/ws", run_session),
    ])


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True) -> None:
    """Run the playground until interrupted; opens the page in the default browser unless told not to."""
    import uvicorn

    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    print(f"glassnet playground on {url} (Ctrl-C to stop)")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    # ws_max_size: the transport refuses anything much larger than a CSV upload before it reaches the session
    uvicorn.run(create_app(), host=host, port=port, log_level="warning", ws_max_size=4 * MAX_UPLOAD_CHARS)
