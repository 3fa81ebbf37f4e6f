"""The ``glassnet`` command: ``glassnet --version``, ``glassnet example NAME``, ``glassnet playground``, ..."""

from __future__ import annotations

import argparse
import sys

from glassnet import __version__


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="glassnet: a Keras-compatible neural-network library you can see through.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    parser.add_subparsers(dest="command", metavar="COMMAND")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
