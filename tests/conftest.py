"""Test-suite settings: slow end-to-end runs are opt-in, tests of the fast kernels themselves skip under
GLASSNET_KERNELS=numpy, and the datasets come from the shared data folder."""

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
    from glassnet import backend

    slow = os.environ.get("GLASSNET_SLOW") != "1"
    numpy_kernels = backend.kernels() != "fast"
    for item in items:
        if slow and "slow" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="slow end-to-end run: set GLASSNET_SLOW=1 to include it"))
        if numpy_kernels and "fast_kernels" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="tests a fast kernel: GLASSNET_KERNELS=numpy runs plain NumPy"))
