"""The course's end-to-end examples (Chollet's MNIST, IMDB and Boston Housing notebooks, the ch. 5 overfitting
demo, the ch. 8 convnets and the ch. 11 IMDB text models) on glassnet.

Each example module has ``main(argv=None) -> dict`` (the measured results) and runs as a script;
:func:`run` is what ``glassnet example NAME [args]`` calls.
"""

from __future__ import annotations

import importlib

from glassnet.examples._common import exit_code

EXAMPLES = {
    "mnist": "glassnet.examples.mnist",
    "imdb": "glassnet.examples.imdb",
    "boston_housing": "glassnet.examples.boston_housing",
    "convnet_mnist": "glassnet.examples.convnet_mnist",
    "convnet_fashion_mnist": "glassnet.examples.convnet_fashion_mnist",
    "imdb_lstm": "glassnet.examples.imdb_lstm",
    "imdb_bigrams": "glassnet.examples.imdb_bigrams",
    "overfitting": "glassnet.examples.overfitting",
}

__all__ = ["EXAMPLES", "run"]


def run(name: str, argv: list[str] | None = None) -> int:
    """Run example ``name`` with command-line arguments ``argv``; returns the exit code (1 if a full-run bar
    was missed, else 0)."""
    if name not in EXAMPLES:
        raise ValueError(f"Unknown example {name!r}. Expected one of: {', '.join(EXAMPLES)}")
    module = importlib.import_module(EXAMPLES[name])
    return exit_code(module.main(argv))
