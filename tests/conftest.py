"""Test-suite settings: slow end-to-end runs are opt-in, and the datasets come from the shared data folder."""

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
DEBIAN_DATASETS = Path("/usr/share/datasets")

if "GLASSNET_DATA_DIR" not in os.environ:
    folders = [str(p) for p in (SHARED_DATASETS, DEBIAN_DATASETS) if p.is_dir()]
    if folders:
        os.environ["GLASSNET_DATA_DIR"] = os.pathsep.join(folders)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("GLASSNET_SLOW") == "1":
        return
    skip = pytest.mark.skip(reason="slow end-to-end run: set GLASSNET_SLOW=1 to include it")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
