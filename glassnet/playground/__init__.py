"""The glassnet playground: playground.tensorflow.org's experience, served locally, training a real glassnet model.

``glassnet playground [--host 127.0.0.1] [--port 8000] [--no-browser] [--allow-remote] [--allow-origin URL]`` runs
:func:`main`; :func:`serve` is the same from Python. The server needs the optional extra:
``pip install 'glassnet[playground]'``. It serves this computer only unless told otherwise (see docs/playground.md).
"""

from __future__ import annotations

import argparse


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The playground's command-line options (added to ``parser`` when given, e.g. a CLI subcommand)."""
    parser = parser or argparse.ArgumentParser(prog="glassnet playground",
                                               description="Run the glassnet playground in your browser.")
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1: this computer only)")
    parser.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    parser.add_argument("--no-browser", action="store_true", help="do not open the page in a browser")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a --host other computers can reach (a classroom server; it has no passwords)")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="URL",
                        help="also accept pages from this origin, e.g. http://192.168.1.20:8000 (repeatable)")
    return parser


def serve(host: str = "127.0.0.1", port: int = 8000, open_browser: bool = True, allow_remote: bool = False,
          allow_origins: list[str] | tuple[str, ...] = ()) -> None:
    """Run the playground server until interrupted (Ctrl-C); ValueError for a --host beyond this computer without
    ``allow_remote`` or a malformed origin."""
    from glassnet.playground.server import serve as run

    run(host=host, port=port, open_browser=open_browser, allow_remote=allow_remote, allow_origins=allow_origins)


def main(argv: list[str] | None = None) -> int:
    """``glassnet playground`` with its options; returns the exit status (2 for refused options)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        serve(args.host, args.port, open_browser=not args.no_browser, allow_remote=args.allow_remote,
              allow_origins=args.allow_origin)
    except ValueError as error:
        parser.error(str(error))
    return 0


__all__ = ["build_parser", "main", "serve"]
