"""Keras 3's public names, namespace by namespace, and the AttributeError for a name glassnet lacks.

Each glassnet module that users reach as ``keras.<namespace>`` ends in a ``__getattr__`` that raises
``missing_attribute(__name__, name)``: a name Keras has says glassnet does not implement it yet and points to the
list of what it has; any other name gets Python's usual message with a "Did you mean" suggestion. The names live
in ``keras_names.json`` (refreshed from the installed Keras by ``python -m glassnet.keras_coverage --write``).
"""

from __future__ import annotations

import difflib
import functools
import json
import sys
from importlib import resources

COVERAGE_DOCUMENT = "docs/keras_coverage.md"


@functools.cache
def keras_namespaces() -> dict[str, frozenset[str]]:
    """Keras's public names per namespace: "" for ``keras`` itself, "layers" for ``keras.layers``, ..."""
    recorded = json.loads(resources.files("glassnet").joinpath("keras_names.json").read_text(encoding="utf-8"))
    return {namespace: frozenset(names) for namespace, names in recorded["namespaces"].items()}


def dotted(*parts: str) -> str:
    """Parts joined by dots, empty ones left out: ("keras", "", "Dense") → "keras.Dense"."""
    return ".".join(part for part in parts if part)


def namespace_of(module_name: str) -> str:
    """The Keras namespace a glassnet module stands for: "glassnet.layers" → "layers", "glassnet" → ""."""
    return module_name.partition(".")[2]


def missing_attribute(module_name: str, name: str) -> AttributeError:
    """The error for ``<module>.<name>`` that the module lacks: "not implemented (yet)" for a Keras name, else
    Python's own message, with the closest name the module or Keras has as a suggestion."""
    usual = f"module {module_name!r} has no attribute {name!r}"
    if name.startswith("_"):  # dunder and private lookups (hasattr, pickle, doctest) stay fast and plain
        return AttributeError(usual)
    namespace = namespace_of(module_name)
    keras_has = keras_namespaces().get(namespace, frozenset())
    if name in keras_has:
        return AttributeError(f"glassnet does not implement {dotted('keras', namespace, name)} (yet); "
                              f"what it has: {COVERAGE_DOCUMENT}")
    module = sys.modules.get(module_name)
    candidates = keras_has.union(attr for attr in dir(module) if not attr.startswith("_")) if module else keras_has
    close = difflib.get_close_matches(name, sorted(candidates), n=1)
    return AttributeError(f"{usual}. Did you mean: {close[0]!r}?" if close else usual)
