"""Run every notebook in this folder top to bottom in its full mode and save it with its fresh outputs.

``make notebooks`` calls it (``python notebooks/run_notebooks.py [NAME.ipynb ...]``); tests/test_notebooks.py
checks that the saved outputs are a full run's, small, with one progress line per epoch.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import nbclient
import nbformat

FOLDER = Path(__file__).resolve().parent
CELL_TIMEOUT = 1800  # seconds: the longest full-mode cell (IMDB's 20 epochs) on a slow 2-core machine


def execute(path: Path) -> None:
    """Run ``path`` in a kernel of this interpreter and write it back with its outputs."""
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    client = nbclient.NotebookClient(nb, kernel_name="python3", timeout=CELL_TIMEOUT, record_timing=False,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()
    nbformat.write(nb, path)
    print(f"{path.name}: {time.perf_counter() - start:.0f} s, {path.stat().st_size / 1000:.1f} KB", flush=True)


def main(names: list[str]) -> int:
    os.environ.pop("GLASSNET_NOTEBOOK_QUICK", None)  # the saved outputs are the full run's
    paths = [FOLDER / name for name in names] if names else sorted(FOLDER.glob("*.ipynb"))
    for path in paths:
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
