"""The playground's HTTP + WebSocket server (Starlette on uvicorn): the page, its static files, and one training
session per page.

Each page gets its own :class:`~glassnet.playground.session.Session`, kept under a random token for ``GRACE_S``
after its connection drops, so a page that reconnects (``/ws?session=TOKEN``) finds its network, data and history.
One task per connection reads the page's messages into a bounded queue (a page that floods it is closed with a
reason); another applies them in order and, while playing, trains in a worker thread for a short slice, then makes
a frame, at most ``MAX_FPS`` a second; a third sends the answers in order, frames as binary messages
(:mod:`glassnet.playground.wire`), a newer frame replacing one a slow page has not taken yet, so a slow page gets
fewer frames and never stalls training. Only requests naming this server (Host) from its
own page (Origin) get through (:mod:`glassnet.playground.guard`).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import secrets
import sys
import time
import traceback
from collections import deque
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from glassnet.playground import guard, wire
from glassnet.playground import settings as schema
from glassnet.playground.session import MAX_UPLOAD_CHARS, Session

try:
    from starlette import status
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.middleware.trustedhost import TrustedHostMiddleware
    from starlette.responses import FileResponse
    from starlette.routing import Mount, Route, WebSocketRoute
    from starlette.staticfiles import StaticFiles
    from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketDisconnected
except ImportError as error:  # pragma: no cover - depends on the installed extras
    raise ImportError(
        "The glassnet playground needs its optional dependencies: pip install 'glassnet[playground]' "
        f"(missing: {error.name})"
    ) from error

STATIC = Path(__file__).parent / "static"
TRAIN_SLICE_S = 0.003  # training time between two frames while playing, shared by the pages that play
MAX_FPS = 120  # twice a 60 Hz screen (and a 120 Hz one): every animation frame finds a new frame (latest wins)
INBOX_LIMIT = 64  # messages waiting per page; a page never sends this many between two frames
OUTBOX_LIMIT = 64  # answers waiting to be sent (frames aside): the page's next message waits for room
INBOX_CHARS = 2 * MAX_UPLOAD_CHARS  # and their characters in all
GRACE_S = 300.0  # how long a page's session outlives its connection
MAX_SESSIONS = 64  # sessions kept at once (a classroom's pages and their reconnects)
PING_INTERVAL_S, PING_TIMEOUT_S = 20.0, 120.0  # keepalives: a busy or slow page has two minutes to answer
INTERNAL_ERROR = ("Something went wrong on the server while handling that. If it happens again, press Reset or "
                  "reload the page.")
FLOODED = (f"The page sent more than {INBOX_LIMIT} messages before the server could answer them, so the "
           "server closed the connection.")


#: Threads that run the sessions' work (training, frames, messages). More only contend for the GIL: 20 pages playing
#: at once got 160 frames/s in all from asyncio's default pool of 6 threads, 205 from 2 (benchmarks/RESULTS.md).
SESSION_THREADS = 2
_session_threads = ThreadPoolExecutor(SESSION_THREADS, thread_name_prefix="playground-session")


async def _in_thread(fn, *args):
    """Run session work in one of the session threads, in a copy of this task's context (as asyncio.to_thread):
    the engine's recording settings are per thread."""
    context = contextvars.copy_context()
    return await asyncio.get_running_loop().run_in_executor(_session_threads, functools.partial(context.run, fn, *args))


@dataclass
class Sessions:
    """The pages' sessions by token: attached while a connection serves them, then kept ``grace_s`` seconds for
    a reconnect; at most ``limit`` at once (the longest-detached one makes room)."""

    grace_s: float = GRACE_S
    limit: int = MAX_SESSIONS
    live: dict = field(default_factory=dict)  # token → Session
    detached: dict = field(default_factory=dict)  # token → when its connection dropped (time.monotonic)

    def claim(self, token: str | None) -> Session | None:
        """The detached session under ``token``, now attached again; None if there is none (expired, unknown, or
        served by another connection)."""
        self.expire()
        if token is None or token not in self.detached:
            return None
        del self.detached[token]
        return self.live[token]

    def has_room(self) -> bool:
        """Whether a new session can be kept (below ``limit``, or one detached to make room)."""
        self.expire()
        return len(self.live) < self.limit or bool(self.detached)

    def add(self, session: Session) -> str | None:
        """Keep a new session; its token, or None when ``limit`` sessions are all attached."""
        if not self.has_room():
            return None
        if len(self.live) >= self.limit:
            self._drop(min(self.detached, key=self.detached.get))
        token = secrets.token_urlsafe(16)
        self.live[token] = session
        return token

    def release(self, token: str) -> None:
        """The connection serving ``token`` ended: keep the session for a reconnect, then drop it."""
        if token in self.live:
            self.detached[token] = time.monotonic()
            asyncio.get_running_loop().call_later(self.grace_s, self.expire)

    def playing(self) -> int:
        """How many sessions are training now (they share the engine's time)."""
        return sum(session.playing for token, session in self.live.items() if token not in self.detached)

    def expire(self) -> None:
        now = time.monotonic()
        for token in [t for t, since in self.detached.items() if now - since >= self.grace_s]:
            self._drop(token)

    def _drop(self, token: str) -> None:
        self.detached.pop(token, None)
        self.live.pop(token, None)


async def index(request):
    return FileResponse(STATIC / "index.html")


async def _send(websocket: WebSocket, message: dict) -> None:
    """A frame as one binary message (JSON header and uint8 heatmaps); anything else as JSON text."""
    if message["type"] == "frame":
        await websocket.send_bytes(wire.encode(message))
    else:
        await websocket.send_text(json.dumps(message, allow_nan=False))


class Outbox:
    """The messages waiting for the page, in order, except that a frame replaces a frame right before it that was
    not sent yet (latest wins, its loss-curve rows carried over): a slow page holds back at most one frame."""

    def __init__(self):
        self.items: deque[dict] = deque()
        self.changed = asyncio.Event()
        self.closed = False  # the connection ended: nothing more is kept

    def put(self, messages: Iterable[dict]) -> None:
        for message in messages:
            if self.closed:
                return
            if message["type"] == "frame" and self.items and self.items[-1]["type"] == "frame":
                message = wire.merge_frames(self.items.pop(), message)
            self.items.append(message)
        self.changed.set()

    async def get(self) -> dict:
        while not self.items:
            self.changed.clear()
            await self.changed.wait()
        message = self.items.popleft()
        self.changed.set()
        return message

    async def room(self) -> None:
        """Wait until fewer than ``OUTBOX_LIMIT`` messages wait (a page that never reads stops being answered)."""
        while len(self.items) >= OUTBOX_LIMIT and not self.closed:
            self.changed.clear()
            await self.changed.wait()


async def _write(websocket: WebSocket, outbox: Outbox) -> None:
    """Send the outbox's messages as the page takes them, until the connection ends (then the outbox is closed and
    emptied)."""
    try:
        while True:
            message = await outbox.get()
            try:
                await _send(websocket, message)
            except (WebSocketDisconnect, WebSocketDisconnected, RuntimeError):  # the page left mid-send
                break
            except Exception:  # noqa: BLE001 - a message that cannot be sent is logged; the page goes on
                traceback.print_exc(file=sys.stderr)
    finally:
        outbox.closed = True
        outbox.items.clear()
        outbox.changed.set()


class Inbox:
    """The messages a page sent that wait their turn: at most ``INBOX_LIMIT`` of them, ``INBOX_CHARS`` in all."""

    def __init__(self):
        self.queue: asyncio.Queue = asyncio.Queue()
        self.chars = 0

    def put(self, item: str | bytes | None) -> bool:
        """Queue ``item`` (None: the page is gone); False, queuing nothing, when the inbox is full."""
        size = len(item or "")
        if item is not None and (self.queue.qsize() >= INBOX_LIMIT or self.chars + size > INBOX_CHARS):
            return False
        self.chars += size
        self.queue.put_nowait(item)
        return True

    async def get(self) -> str | bytes | None:
        item = await self.queue.get()
        self.chars -= len(item or "")
        return item

    def empty(self) -> bool:
        return self.queue.empty()

    def clear(self) -> None:
        """Drop every waiting message (a flood's memory is freed at once)."""
        while not self.queue.empty():
            self.queue.get_nowait()
        self.chars = 0


async def _read(websocket: WebSocket, inbox: Inbox) -> None:
    """Put every message from the page into ``inbox`` (text as str, binary as bytes), then None; a page that
    overfills it is closed with the reason (code 1008)."""
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            if not inbox.put(message.get("text") if message.get("text") is not None else message.get("bytes")):
                inbox.clear()
                await websocket.close(status.WS_1008_POLICY_VIOLATION, FLOODED)
                break
    except (WebSocketDisconnect, WebSocketDisconnected):
        pass
    finally:
        inbox.put(None)


def _handle(session: Session, text) -> list[dict]:
    """``session.handle_text``, with any unexpected failure logged and answered in plain words, never a dropped
    connection."""
    try:
        return session.handle_text(text)
    except Exception:  # noqa: BLE001 - a bug must not cost the learner the session
        traceback.print_exc(file=sys.stderr)
        session.playing = False
        return [{"type": "error", "message": INTERNAL_ERROR}]


def _train(session: Session, seconds: float) -> list[dict]:
    """A training slice (at least one epoch) and the frame after it (``_handle``'s safety net for training)."""
    try:
        return [*session.train_for(seconds), session.frame()]
    except Exception:  # noqa: BLE001 - as in _handle
        traceback.print_exc(file=sys.stderr)
        session.playing = False
        return [{"type": "error", "message": INTERNAL_ERROR}, session.frame()]


async def run_session(websocket: WebSocket) -> None:
    """Serve one page: hello (schema and session token), state and a first frame; then messages in order, and
    frames while playing."""
    sessions: Sessions = websocket.app.state.sessions
    await websocket.accept()
    token = websocket.query_params.get("session")
    session = sessions.claim(token)
    resumed = session is not None
    if session is None:
        token = sessions.add(await _in_thread(Session)) if sessions.has_room() else None
        session = sessions.live.get(token)
        if session is None:
            await websocket.close(status.WS_1013_TRY_AGAIN_LATER,
                                  f"The playground already serves {sessions.limit} pages; try again in a minute.")
            return
    session.history_sent = 0  # the page gets the whole loss curve again
    inbox, outbox = Inbox(), Outbox()
    reader = asyncio.create_task(_read(websocket, inbox))
    writer = asyncio.create_task(_write(websocket, outbox))
    try:
        outbox.put([{"type": "hello", "schema": schema.schema_json(), "version": _version(), "session": token,
                     "resumed": resumed}])
        outbox.put(await _in_thread(lambda: [session.state(), session.frame()]))
        await _serve(session, inbox, outbox, sessions)
    finally:
        reader.cancel()
        writer.cancel()
        sessions.release(token)


async def _serve(session: Session, inbox: Inbox, outbox: Outbox, sessions: Sessions) -> None:
    """Apply the page's messages in order; between them, while playing, train and make frames (at most
    ``MAX_FPS`` a second) whether or not the page keeps up."""
    next_frame = 0.0
    while True:
        while session.playing and inbox.empty():
            # pages that play share the slice, so a classroom's frames keep coming at a similar pace
            messages = await _in_thread(_train, session, TRAIN_SLICE_S / max(1, sessions.playing()))
            now = time.perf_counter()
            if now < next_frame:
                await asyncio.sleep(next_frame - now)
            # a steady cadence: a late frame makes the next one come sooner (no gap a screen would see);
            # after a longer stall the cadence starts again from now
            next_frame = max(next_frame + 1 / MAX_FPS, now)
            outbox.put(messages)
        text = await inbox.get()
        if text is None:
            return
        await outbox.room()
        outbox.put(await _in_thread(_handle, session, text))


def _version() -> str:
    from glassnet import __version__

    return __version__


def create_app(bind_host: str = "127.0.0.1", allow_origins: Iterable[str] = (), grace_s: float = GRACE_S,
               max_sessions: int = MAX_SESSIONS) -> Starlette:
    """The ASGI application: ``/`` the page, ``/static`` its files, ``/ws`` the session socket; answering only
    Hosts that name this server (bound to ``bind_host``) and pages from its own origin or ``allow_origins``."""
    allow_origins = [guard.normalize_origin(o) for o in allow_origins]
    hosts = guard.allowed_hosts(bind_host, allow_origins)
    app = Starlette(
        routes=[
            Route("/", index),
            Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
            WebSocketRoute("/ws", run_session),
        ],
        middleware=[  # outermost first: every response, refusals included, wears the security headers
            Middleware(guard.SecurityHeaders),
            Middleware(TrustedHostMiddleware, allowed_hosts=hosts, www_redirect=False),
            Middleware(guard.OriginCheck, hosts=hosts, extra_origins=allow_origins),
        ],
    )
    app.state.sessions = Sessions(grace_s=grace_s, limit=max_sessions)
    return app


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True, allow_remote: bool = False,
          allow_origins: Iterable[str] = ()) -> None:
    """Run the playground until interrupted; opens the page in the default browser unless told not to.

    Binding an address other than loopback (other computers can connect) needs ``allow_remote``; pages from other
    origins need ``allow_origins``. Both print a warning."""
    import uvicorn

    allow_origins = [guard.normalize_origin(o) for o in allow_origins]
    if not guard.is_loopback(host) and not allow_remote:
        raise ValueError(f"Binding {host!r} lets other computers drive this playground; pass --allow-remote to "
                         "do so on purpose, or keep the default --host 127.0.0.1")
    if not guard.is_loopback(host):
        print(f"WARNING: the playground listens on {host}: anyone who can reach this computer on port {port} can "
              "use it (it has no passwords). It answers to "
              f"{', '.join(guard.allowed_hosts(host, allow_origins))}; add --allow-origin for another name.",
              file=sys.stderr)
    for origin in allow_origins:
        print(f"WARNING: pages from {origin} may drive this playground.", file=sys.stderr)
    url = f"http://{'127.0.0.1' if host in guard.WILDCARD_HOSTS else guard.host_name(host)}:{port}/"
    print(f"glassnet playground on {url} (Ctrl-C to stop)")
    if open_browser:
        import threading
        import webbrowser

        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.Server(uvicorn_config(create_app(host, allow_origins), host, port)).run()


def uvicorn_config(app: Starlette, host: str = "127.0.0.1", port: int = 8000):
    """uvicorn's settings for the playground: the transport refuses a message much larger than a CSV upload and
    buffers few, and keepalives give a busy page ``PING_TIMEOUT_S`` to answer. uvicorn's logging setup is left
    out (``log_config=None``): its warnings reach stderr through Python's last-resort handler, which looks stderr
    up when it writes, where a handler made at start would keep a stream that a notebook or test run later closes."""
    import uvicorn

    return uvicorn.Config(app, host=host, port=port, log_level="warning", log_config=None,
                          ws_max_size=4 * MAX_UPLOAD_CHARS, ws_max_queue=4, ws_ping_interval=PING_INTERVAL_S,
                          ws_ping_timeout=PING_TIMEOUT_S)
