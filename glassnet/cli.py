"""The ``glassnet`` command: ``--version``, ``example NAME``, ``playground``, ``sweep CONFIG.toml``.

Each subcommand hands the rest of the command line to its module's ``main(argv)``, which owns its options (so
``glassnet example mnist --help`` shows the example's own flags). Modules are imported only when used.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from glassnet import __version__

# subcommand → (module with main(argv), one-line help)
COMMANDS = {
    "example": ("glassnet.cli", "run one of the course's examples: mnist, imdb, convnet_mnist, imdb_lstm, ..."),
    "playground": ("glassnet.playground", "start the local web playground (needs glassnet[playground])"),
    "sweep": ("glassnet.sweep", "run a hyperparameter sweep from a TOML file on Dask (needs glassnet[dask])"),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="glassnet",
        description="glassnet: a Keras-compatible neural-network library you can see through.",
        epilog="Run 'glassnet COMMAND --help' for a command's own options.",
    )
    parser.add_argument("--version", action="version", version=f"glassnet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        sub.add_parser(name, help=help_text)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv and argv[0] in COMMANDS:  # the rest of the line belongs to the command
        command, rest = argv[0], argv[1:]
        if command == "example":
            return run_example(rest)
        module = importlib.import_module(COMMANDS[command][0])
        return int(module.main(rest) or 0)
    build_parser().parse_args(argv)  # --version, --help, or an error naming the unknown command
    build_parser().print_help()
    return 0


def run_example(argv: list[str]) -> int:
    """``glassnet example NAME [options]``: the example's own main, with its own options."""
    from glassnet import examples

    if not argv or argv[0] in ("-h", "--help"):
        print("usage: glassnet example NAME [--quick] [options]\n\nexamples: " + ", ".join(examples.EXAMPLES))
        return 0 if argv else 2
    if argv[0] not in examples.EXAMPLES:
        print(f"glassnet example: unknown example {argv[0]!r}; expected one of: {', '.join(examples.EXAMPLES)}",
              file=sys.stderr)
        return 2
    from glassnet.datasets import CacheNotWritableError, DatasetNotFoundError

    try:
        return examples.run(argv[0], argv[1:])
    except (DatasetNotFoundError, CacheNotWritableError) as err:  # said once, as a message, not a traceback
        print(f"glassnet example {argv[0]}: {err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
