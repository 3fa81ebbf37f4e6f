"""How much of Keras 3 glassnet implements: ``docs/keras_coverage.md``, written from the code.

``python -m glassnet.keras_coverage --write`` reads the installed Keras 3's public names into
``glassnet/keras_names.json`` and rewrites the document from them and from glassnet's modules; without ``--write``
it only says whether either is stale. ``tests/test_keras_coverage.py`` fails until the two are refreshed.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from pathlib import Path
from types import ModuleType

import glassnet
from glassnet import keras_names

REFRESH_COMMAND = "KERAS_BACKEND=torch python -m glassnet.keras_coverage --write"
NAMES_FILE = Path(__file__).with_name("keras_names.json")
DOCUMENT = Path(__file__).resolve().parents[1] / keras_names.COVERAGE_DOCUMENT


def keras_public_names(keras: ModuleType) -> dict[str, list[str]]:
    """Keras's public names per namespace ("" for ``keras``, "optimizers.schedules", ...), read with ``dir`` from
    its API modules; names starting with "_" and the implementation package ``keras.src`` are left out."""
    namespaces: dict[str, list[str]] = {}

    def walk(module: ModuleType, namespace: str) -> None:
        names = []
        for name in sorted(dir(module)):
            if name.startswith("_"):
                continue
            value = getattr(module, name)
            if isinstance(value, ModuleType):
                if not value.__name__.startswith("keras.") or value.__name__.startswith("keras.src"):
                    continue
                walk(value, keras_names.dotted(namespace, name))
            names.append(name)
        namespaces[namespace] = names

    walk(keras, "")
    return dict(sorted(namespaces.items()))


def names_json(keras: ModuleType) -> str:
    """The text of ``keras_names.json`` for the given Keras."""
    recorded = {"keras_version": keras.__version__, "namespaces": keras_public_names(keras)}
    return json.dumps(recorded, indent=1) + "\n"


def glassnet_module(namespace: str) -> ModuleType | None:
    """The glassnet module users reach as ``keras.<namespace>`` (attribute by attribute from ``glassnet``), or None
    where glassnet has none."""
    module: object = glassnet
    for part in namespace.split(".") if namespace else ():
        module = getattr(module, part, None)
        if not isinstance(module, ModuleType):
            return None
    return module if module.__name__ == keras_names.dotted("glassnet", namespace) else None


def implements(module: ModuleType, namespace: str, name: str) -> bool:
    """Whether glassnet's module has Keras's ``name``: any attribute but a module, or, for a Keras namespace,
    glassnet's module of that name (``glassnet.ops`` importing an engine file as ``nn`` implements no keras.ops.nn)."""
    if not hasattr(module, name):
        return False
    value = getattr(module, name)
    return not isinstance(value, ModuleType) or glassnet_module(keras_names.dotted(namespace, name)) is value


def coverage_markdown() -> str:
    """The document: a summary row per Keras namespace, then each namespace glassnet has, name by name."""
    recorded = json.loads(NAMES_FILE.read_text(encoding="utf-8"))
    rows, sections = [], []
    for namespace, names in recorded["namespaces"].items():
        names = sorted(names, key=str.lower)
        keras_module = keras_names.dotted("keras", namespace)
        parent = namespace.rpartition(".")[0]
        if "." in namespace and glassnet_module(parent) is None:
            continue  # keras.applications.resnet and the like: the parent's row already says glassnet has none
        module = glassnet_module(namespace)
        if module is None:
            glassnet_name = keras_names.dotted("glassnet", namespace)
            rows.append(f"| `{keras_module}` | — (no `{glassnet_name}` yet) | {len(names)} |")
            continue
        marks = [(name, implements(module, namespace, name)) for name in names]
        has = sum(present for _, present in marks)
        rows.append(f"| [`{keras_module}`](#{keras_module.replace('.', '')}) | {has} | {len(names)} |")
        table = "\n".join(f"| `{name}` | {'✓' if present else '—'} |" for name, present in marks)
        sections.append(f"## `{keras_module}`\n\nglassnet has {has} of Keras's {len(names)} names.\n\n"
                        f"| name | glassnet |\n| --- | :---: |\n{table}\n")
    return (
        "# Keras coverage\n\n"
        "Which of Keras 3's public names glassnet implements (`import glassnet as keras`), namespace by namespace: "
        "✓ implemented, — not yet. In `glassnet` and its Keras namespaces, a name marked — raises "
        "`AttributeError: glassnet does not implement keras.<namespace>.<name> (yet)`, which points here.\n\n"
        f"Generated from the code and Keras {recorded['keras_version']}'s names (`glassnet/keras_names.json`) by "
        f"`{REFRESH_COMMAND}`; `tests/test_keras_coverage.py` fails when this page is stale.\n\n"
        "| Keras namespace | glassnet has | Keras has |\n| --- | ---: | ---: |\n" + "\n".join(rows) + "\n\n"
        + "\n".join(sections)
    )


def write_atomically(path: Path, text: str) -> None:
    """Replaces ``path`` with ``text`` in one step (a temporary file beside it, then a rename): never half-written."""
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, suffix=".tmp", delete=False) as f:
        f.write(text)
    os.chmod(f.name, path.stat().st_mode if path.exists() else 0o644)  # the temporary file is private (0600)
    os.replace(f.name, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m glassnet.keras_coverage", description=__doc__.split("\n")[0])
    parser.add_argument("--write", action="store_true", help="refresh keras_names.json and docs/keras_coverage.md")
    args = parser.parse_args(argv)
    if not DOCUMENT.parent.is_dir():
        parser.error(f"{DOCUMENT.parent} does not exist: run this from a glassnet source checkout")
    os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras needs a backend to import: the test suite's peer
    try:
        import keras
    except ImportError as error:
        parser.error(f"reading Keras 3's names needs Keras 3 on a backend ({error}): pip install 'glassnet[test]'")

    stale, names = [], names_json(keras)
    if not NAMES_FILE.exists() or NAMES_FILE.read_text(encoding="utf-8") != names:
        stale.append(NAMES_FILE)
        if args.write:
            write_atomically(NAMES_FILE, names)
            keras_names.keras_namespaces.cache_clear()
    document = coverage_markdown()
    if not DOCUMENT.exists() or DOCUMENT.read_text(encoding="utf-8") != document:
        stale.append(DOCUMENT)
        if args.write:
            write_atomically(DOCUMENT, document)
    for path in stale:
        print(f"{'rewrote' if args.write else 'stale:'} {path}")
    return 0 if args.write or not stale else 1


if __name__ == "__main__":
    raise SystemExit(main())
