"""mkdocs hook for the documentation site: the Keras compatibility page, generated at every build from the code.

For each Keras 3 namespace (``keras``, ``keras.layers``, ``keras.ops``, ...), the public names Keras exports are
read from the installed Keras package's API files (parsed, never imported: no backend is needed) and looked up on
the matching glassnet module (``glassnet``, ``glassnet.layers``, ``glassnet.ops``, ...).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

from mkdocs.structure.files import File

PAGE = "compatibility.md"
NAMESPACES = ("", "activations", "callbacks", "config", "constraints", "datasets", "initializers", "layers", "losses",
              "metrics", "models", "ops", "optimizers", "random", "regularizers", "saving", "utils")


def keras_names(namespace: str) -> list[str]:
    """The public names of ``keras.<namespace>`` (``keras`` for ""), from its API ``__init__.py``."""
    spec = importlib.util.find_spec("keras")  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the Keras compatibility page reads Keras 3's API files: pip install 'glassnet[docs]'")
    folder = Path(next(iter(spec.submodule_search_locations)), *namespace.split(".") if namespace else ())
    tree = ast.parse((folder / "__init__.py").read_text(encoding="utf-8"))
    names = {alias.asname or alias.name for node in tree.body if isinstance(node, ast.ImportFrom)
             for alias in node.names}
    return sorted((name for name in names if not name.startswith("_")), key=str.lower)


def glassnet_has(namespace: str, name: str) -> bool:
    try:
        module = importlib.import_module("glassnet" + (f".{namespace}" if namespace else ""))
    except ImportError:
        return False
    return hasattr(module, name)


def compatibility_page() -> str:
    """The page: a summary table, then for each namespace the names glassnet has and those it has not."""
    rows, sections = [], []
    for namespace in NAMESPACES:
        keras_module = "keras" + (f".{namespace}" if namespace else "")
        names = keras_names(namespace)
        present = [name for name in names if glassnet_has(namespace, name)]
        missing = [name for name in names if name not in present]
        rows.append(f"| `{keras_module}` | {len(present)} of {len(names)} |")
        sections.append(f"## `{keras_module}`\n\n"
                        f"**In glassnet ({len(present)}):** {', '.join(f'`{n}`' for n in present) or 'none'}\n\n"
                        f"**Not in glassnet ({len(missing)}):** {', '.join(f'`{n}`' for n in missing) or 'none'}\n")
    return ("# Keras compatibility\n\n"
            "Which of Keras 3's public names glassnet provides, namespace by namespace (`import glassnet as keras`). "
            "This page is generated from the code at every build of the site: Keras's names from its API files, "
            "glassnet's by looking each one up on the matching module. A name that glassnet has is meant to "
            "behave as Keras's does: its tests run the same programs in both and compare the results.\n\n"
            "| Keras namespace | names in glassnet |\n| --- | --- |\n" + "\n".join(rows) + "\n\n"
            + "\n".join(sections))


def on_files(files, config):
    files.append(File.generated(config, PAGE, content=compatibility_page()))
    return files
