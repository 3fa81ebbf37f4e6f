"""GLASSNET_KERNELS chooses the kernels once: fast (Numba) by default when it is installed, plain NumPy otherwise,
and a clear error for a name it does not know or for fast kernels without Numba."""

import os
import subprocess
import sys

import pytest

from glassnet import backend

WITHOUT_NUMBA = "import sys; sys.modules['numba'] = None\n"  # an import of numba now raises ImportError
TRAIN = """
import numpy as np, glassnet as keras
from glassnet import backend, layers
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((3,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
model.compile(optimizer="adam", loss="mse")
x = np.random.default_rng(0).standard_normal((5000, 3)).astype("float32")
history = model.fit(x, x[:, :1] * 2, batch_size=256, epochs=3, verbose=0)
print(backend.kernels(), backend.numba(), *history.history["loss"])
"""


def run(code: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def test_without_numba_the_numpy_kernels_train():
    """Numba missing: the NumPy kernels are chosen and train exactly as GLASSNET_KERNELS=numpy does with it."""
    without = run(WITHOUT_NUMBA + TRAIN, GLASSNET_KERNELS="")
    chosen = run(TRAIN, GLASSNET_KERNELS="numpy")
    assert without.returncode == 0 and chosen.returncode == 0, without.stderr + chosen.stderr
    kernels, numba, *losses = without.stdout.split()
    assert (kernels, numba) == ("numpy", "None")
    assert without.stdout == chosen.stdout
    assert float(losses[-1]) < float(losses[0])


def test_fast_kernels_without_numba_name_the_extra():
    result = run(WITHOUT_NUMBA + "from glassnet import backend; backend.kernels()", GLASSNET_KERNELS="fast")
    assert result.returncode == 1
    assert "GLASSNET_KERNELS=fast needs Numba: pip install 'glassnet[fast]'" in result.stderr


@pytest.fixture
def fresh_choice(monkeypatch):
    """The choice made anew on the next use, and both halves of it put back afterwards."""
    monkeypatch.setattr(backend, "_kernels", None)
    monkeypatch.setattr(backend, "_numba", None)
    return monkeypatch


def test_an_unknown_choice_is_named(fresh_choice):
    monkeypatch = fresh_choice
    monkeypatch.setenv("GLASSNET_KERNELS", "cuda")
    with pytest.raises(ValueError, match="GLASSNET_KERNELS must be 'fast' or 'numpy', received 'cuda'"):
        backend.kernels()


def test_numpy_choice_turns_numba_off(fresh_choice):
    monkeypatch = fresh_choice
    monkeypatch.setenv("GLASSNET_KERNELS", "numpy")
    assert backend.kernels() == "numpy" and backend.numba() is None
