"""``glassnet sweep CONFIG.toml [--scheduler tcp://HOST:PORT] [--workers N] [--out DIR] [--serial]``."""

from __future__ import annotations

import argparse

from glassnet.sweep.config import load_config
from glassnet.sweep.runner import MODEL_FILE, RESULTS_FILE, run


def configure_parser(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the sweep's arguments to ``parser`` (the ``sweep`` subcommand's parser)."""
    parser.add_argument("config", metavar="CONFIG.toml", help="the sweep file (format: docs/sweeps.md)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="run on the existing Dask cluster at this address (default: a local cluster)")
    where.add_argument("--serial", action="store_true",
                       help="run in this process without Dask (the reference the Dask run equals)")
    parser.add_argument("--workers", type=int, metavar="N",
                        help="worker processes of the local cluster (default: one per core)")
    parser.add_argument("--out", metavar="DIR",
                        help=f"write {RESULTS_FILE}, summary.json and {MODEL_FILE} (the best model) here")
    return parser


def command(args: argparse.Namespace) -> int:
    """Run the sweep the parsed ``args`` describe; print the results table and the best candidate."""
    if args.workers is not None and (args.scheduler is not None or args.serial):
        raise SystemExit("glassnet sweep: --workers sets the size of the local cluster; it cannot be combined "
                         "with --scheduler or --serial")
    config = load_config(args.config)
    result = run(config, scheduler=args.scheduler, workers=args.workers, out=args.out, serial=args.serial)
    print(result.table())
    print(f"Best: {result.best_params}  cross-validation score {result.best_score:.4g} ({result.scoring}); "
          f"test score {result.test_score:.4g}")
    if args.out:
        print(f"Wrote {args.out}/{RESULTS_FILE}, summary.json and {MODEL_FILE}")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m glassnet.sweep CONFIG.toml ...``."""
    parser = configure_parser(argparse.ArgumentParser(
        prog="glassnet sweep", description="A grid or random search with K-fold validation, run on Dask."))
    return command(parser.parse_args(argv))
