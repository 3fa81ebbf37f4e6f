"""Who may talk to the playground: the Host and Origin a request must carry, and the headers every response wears.

A page on another site can open a WebSocket to ``127.0.0.1`` (browsers do not apply the same-origin rule to
WebSockets) and a DNS-rebinding page reaches it under a foreign host name; so the server answers only requests whose
Host names this server and whose Origin, when a browser sends one, is this server's own page or one the teacher
allowed. Host is checked by Starlette's ``TrustedHostMiddleware``; Origin and the security headers here.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

# The page loads only its own scripts and styles, talks only to its own server, and may not be framed.
CONTENT_SECURITY_POLICY = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                           "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; "
                           "frame-ancestors 'none'")
SECURITY_HEADERS = {
    "content-security-policy": CONTENT_SECURITY_POLICY,
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
}


def is_loopback(host: str) -> bool:
    """Whether binding ``host`` keeps the server on this computer (``localhost`` or a loopback address)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_name(host: str) -> str:
    """A bind address as a Host header spells it (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def normalize_origin(origin: str) -> str:
    """``scheme://host[:port]`` in lower case, or ValueError naming what was received."""
    parts = urlsplit(origin.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"An allowed origin looks like http://192.168.1.20:8000; received {origin!r}")
    return f"{parts.scheme}://{parts.netloc.lower()}"


def allowed_hosts(bind_host: str, origins: Iterable[str] = ()) -> list[str]:
    """The Host names this server answers to: the loopback names, the address it is bound to (for a wildcard bind,
    this machine's name and addresses), and the hosts of the allowed origins."""
    names = set(LOOPBACK_NAMES)
    if bind_host in WILDCARD_HOSTS:
        machine = socket.gethostname()
        names.update([machine.lower(), *_own_addresses(machine)])
    else:
        names.add(host_name(bind_host).lower())
    names.update(host_name(urlsplit(origin).hostname) for origin in origins)
    return sorted(names)


def _own_addresses(machine: str) -> set[str]:
    """This machine's addresses as others reach it: those its name resolves to, and the one it routes out from
    (a UDP socket's connect sends nothing)."""
    found = set()
    try:
        found.update(host_name(info[4][0]) for info in socket.getaddrinfo(machine, None))
    except OSError:
        pass
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            found.add(probe.getsockname()[0])
        except OSError:
            pass
    return found


class OriginCheck:
    """Refuse (403, before any work) an HTTP request or WebSocket whose ``Origin`` header is neither this server's
    own (an allowed host on the port it serves) nor one of ``extra_origins``; requests without Origin (curl, the
    tests, a same-origin page load) pass."""

    def __init__(self, app: ASGIApp, hosts: Iterable[str], extra_origins: Iterable[str] = ()):
        self.app = app
        self.hosts = {h.lower() for h in hosts}
        self.extra_origins = {normalize_origin(o) for o in extra_origins}

    def allows(self, origin: str, scope: Scope) -> bool:
        if origin in self.extra_origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.hostname is None:
            return False  # "null" (a sandboxed frame, a file:// page) and anything else unreadable
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            return False
        server = scope.get("server") or (None, None)
        return host_name(parts.hostname) in self.hosts and port == server[1]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            origin = Headers(scope=scope).get("origin")
            if origin is not None and not self.allows(origin.lower(), scope):
                response = PlainTextResponse(f"Origin {origin!r} may not use this playground", status_code=403)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


class SecurityHeaders:
    """Add ``SECURITY_HEADERS`` (CSP, nosniff, no framing) to every HTTP response, refusals included."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.http.response.start"):
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
