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


@pytest.fixture(scope="session")
def keras():
    """Keras 3 on the torch backend, the peer glassnet must match (skips where it is not installed)."""
    pytest.importorskip("torch", reason="the Keras comparisons run Keras 3 on torch (pip install torch==2.13.0)")
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="the Keras comparisons need Keras 3 (pip install keras)")
    if keras.backend.backend() != "torch" or int(keras.__version__.split(".")[0]) < 3:
        pytest.skip(f"needs Keras 3 on torch, found Keras {keras.__version__} on {keras.backend.backend()}")
    return keras
