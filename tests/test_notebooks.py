"""Every notebook in notebooks/ runs headless, top to bottom, in its small-data mode, without an error; the
committed notebooks carry a full run's outputs (``make notebooks``): small, with one progress line per epoch."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")
pytest.importorskip("matplotlib")

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))
NEEDS_DEBIAN_DATA = {"07_convnet_fashion_mnist": "fashion-mnist"}  # apt-get install -y dataset-fashion-mnist
KERNEL = "glassnet-tests"
CELL_TIMEOUT = 90


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """A kernel spec for this interpreter, so the notebooks run in the same environment as the tests."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "glassnet tests", "language": "python",
    }))
    return folder


def test_the_notebooks_are_numbered_in_order_from_the_lecture():
    names = [p.name for p in NOTEBOOKS]
    assert names[:5] == ["01_open_the_black_box.ipynb", "02_mnist.ipynb", "03_imdb.ipynb", "04_boston_housing.ipynb",
                         "05_why_not_learning.ipynb"]
    assert [int(name[:2]) for name in names] == list(range(1, len(names) + 1))


PROGRESS_LINE = re.compile(r"^\s*(\d+)/(\d+) ━+")  # Keras's bar: "469/469 ━━━━ 9s 19ms/step - ..."
EPOCH_LINE = re.compile(r"^Epoch \d+/\d+$")
TEXT_BUDGET = 12_000  # characters of text output a notebook may keep (its plots come on top)


def code_cells(nb) -> list:
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def texts(cell) -> list[str]:
    """Every text a cell's outputs hold: streams, and the text/plain of results and displays."""
    return [out.text if out.output_type == "stream" else out.get("data", {}).get("text/plain", "")
            for out in cell.outputs]


def output_kinds(cell) -> set[str]:
    """What a cell shows besides printed text (whose amount follows the epochs): results and displays, by their
    richest type."""
    return {out.output_type + ":" + next((kind for kind in ("image/png", "image/svg+xml", "text/html")
                                          if kind in out.data), "text/plain")
            for out in cell.outputs if out.output_type != "stream"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_a_full_runs_small_outputs(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    cells = code_cells(nb)
    assert [cell.execution_count for cell in cells] == list(range(1, len(cells) + 1))  # top to bottom, once
    assert cells[0].outputs[0]["data"]["text/plain"] == "False"  # the full run, not the quick one
    outputs = [out for cell in cells for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    text = "".join(t for cell in cells for t in texts(cell))
    assert "\r" not in text and "\x1b" not in text  # no redraws, no terminal colours
    assert len(text) <= TEXT_BUDGET
    for cell in cells:
        lines = [line for text in texts(cell) for line in text.splitlines()]
        bars = [line for line in lines if PROGRESS_LINE.match(line)]
        epochs = [line for line in lines if EPOCH_LINE.match(line)]
        if bars and "fit(" in cell.source:  # one finished bar per epoch
            assert len(bars) == max(len(epochs), 1)
            assert all(PROGRESS_LINE.match(b)[1] == PROGRESS_LINE.match(b)[2] for b in bars)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_without_error(path, kernel, monkeypatch):
    from glassnet.datasets import _download

    folder = NEEDS_DEBIAN_DATA.get(path.stem)
    if folder and not any((d / folder).exists() for d in _download.data_dirs()):
        pytest.skip(f"{folder} is in no GLASSNET_DATA_DIR folder (apt-get install -y dataset-{folder})")
    monkeypatch.setenv("JUPYTER_PATH", str(kernel))
    monkeypatch.setenv("GLASSNET_NOTEBOOK_QUICK", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT,
                                     resources={"metadata": {"path": str(path.parent)}})
    client.execute()  # raises CellExecutionError, naming the cell, on any error
    outputs = [out for cell in nb.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert outputs[0]["data"]["text/plain"] == "True"  # the first cell saw GLASSNET_NOTEBOOK_QUICK=1
    assert any("image/png" in out.get("data", {}) for out in outputs)  # the plots were drawn inline
    for cell in code_cells(nb):
        assert "\r" not in "".join(texts(cell))  # the progress bar replaced its one output in place
    committed = code_cells(nbformat.read(path, as_version=4))
    assert [output_kinds(cell) for cell in code_cells(nb)] == [output_kinds(cell) for cell in committed], (
        "the committed outputs are stale: run `make notebooks` and commit the notebooks")


class FakeDisplay:
    """IPython's display with a display_id, as a notebook's front end sees it: each update replaces the output."""

    def __init__(self):
        self.outputs, self.calls = [], 0

    def __call__(self, data, raw, display_id):
        assert raw and display_id is True
        self.outputs.append(data["text/plain"])
        self.calls += 1
        index = len(self.outputs) - 1
        display = self

        class Handle:
            def update(self, data, raw):
                display.outputs[index] = data["text/plain"]
                display.calls += 1

        return Handle()


def test_progress_in_a_notebook_is_one_output_per_epoch_replaced_in_place(monkeypatch):
    import io

    import IPython.display

    from glassnet.callbacks import progbar
    from glassnet.callbacks.progbar_logger import ProgbarLogger

    fake = FakeDisplay()
    monkeypatch.setattr(IPython.display, "display", fake)
    printed = io.StringIO()
    monkeypatch.setattr(sys, "stdout", printed)
    assert not progbar.writes_to_notebook(printed)  # outside a kernel, and for a redirection inside one
    monkeypatch.setattr(progbar, "writes_to_notebook", lambda stream: stream is printed)  # as the kernel's stdout
    logger = ProgbarLogger()
    logger.set_params({"verbose": 1, "epochs": 2, "steps": 3})
    for epoch in range(2):
        logger.on_epoch_begin(epoch)
        for batch in range(3):
            logger.progbar.interval = 0.0  # every step redraws, as a slow step would
            logger.on_train_batch_end(batch, {"loss": 1.0 / (batch + 1)})
        logger.on_epoch_end(epoch, {"loss": 0.25})
    assert printed.getvalue() == "Epoch 1/2\nEpoch 2/2\n"  # the bars went to their outputs, not the stream
    assert fake.calls > len(fake.outputs) == 2  # redrawn live, kept once per epoch
    assert all(re.fullmatch(r"3/3 ━{20} \d+s \d+\w+/step - loss: 0\.2500", line) for line in fake.outputs)
