"""TensorBoard: event files written without TensorFlow, read back with the tensorboard package's EventAccumulator."""

import numpy as np
import pytest

import glassnet
from glassnet.callbacks import TensorBoard

pytest.importorskip("tensorboardX", reason="TensorBoard writes with tensorboardX (pip install 'glassnet[tensorboard]')")
event_accumulator = pytest.importorskip("tensorboard.backend.event_processing.event_accumulator",
                                        reason="the event files are read back with the tensorboard package")


def _events(folder):
    acc = event_accumulator.EventAccumulator(str(folder), size_guidance={"histograms": 0, "scalars": 0,
                                                                         "tensors": 0, "images": 0})
    acc.Reload()
    return acc


def _fit(log_dir, **options):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = glassnet.Sequential([glassnet.Input((4,)), glassnet.layers.Dense(3, activation="relu", name="hidden"),
                                 glassnet.layers.Dense(1, activation="sigmoid", name="out")])
    model.compile(optimizer=glassnet.optimizers.SGD(0.05), loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, validation_split=0.25, verbose=0,
                        callbacks=[TensorBoard(log_dir, activation_data=x[:8], **options)])
    return model, history


def test_scalars_histograms_graph_and_summary_as_keras_names_them(tmp_path):
    model, history = _fit(tmp_path, histogram_freq=1, write_images=True)
    train, validation = _events(tmp_path / "train"), _events(tmp_path / "validation")
    for name in ("loss", "accuracy"):
        assert [e.value for e in train.Scalars(f"epoch_{name}")] == pytest.approx(history.history[name], rel=1e-6)
        assert [e.value for e in validation.Scalars(f"epoch_{name}")] == pytest.approx(
            history.history[f"val_{name}"], rel=1e-6)
    assert [e.step for e in train.Scalars("epoch_loss")] == [0, 1, 2]
    assert [e.value for e in train.Scalars("epoch_learning_rate")] == pytest.approx([0.05] * 3)
    assert [e.step for e in validation.Scalars("evaluation_loss_vs_iterations")] == [3, 6, 9]  # 3 batches an epoch
    histograms = train.Tags()["histograms"]
    for weight in model.weights:
        assert {f"{weight.name}/histogram", f"{weight.name}/gradient"} <= set(histograms)
    assert {"hidden/activation", "out/activation"} <= set(histograms)
    kernel = train.Histograms("hidden/kernel/histogram")[-1].histogram_value
    final = model.get_weights()[0]
    assert kernel.num == final.size and kernel.min == pytest.approx(final.min()) and kernel.max == pytest.approx(
        final.max())
    relu = train.Histograms("hidden/activation")[-1].histogram_value
    assert relu.min == 0.0  # a ReLU's output
    assert "hidden/kernel/image" in train.Tags()["images"]
    graph = train.Graph()
    ops = {n.name: n for n in graph.node}
    assert ops["hidden/Affine"].input == ["input_1", "hidden/kernel", "hidden/bias"]
    assert ops["out/Sigmoid"].input == ["out/Affine"]
    summary = train.Tensors("keras/text_summary")[0].tensor_proto.string_val[0].decode()
    assert "hidden (Dense)" in summary and "Total params" in summary


def test_batch_scalars_every_n_batches(tmp_path):
    _fit(tmp_path, update_freq=2, write_graph=False)
    train = _events(tmp_path / "train")
    assert [e.step for e in train.Scalars("batch_loss")] == [2, 4, 6, 8]
    assert not train.Tags()["histograms"]


def test_diagnoses_are_written_as_text(tmp_path):
    class Finding:
        code, message = "dead_relu", "layer hidden: 2 of 3 units are dead"

    model, _ = _fit(tmp_path)
    model.history.diagnoses = [Finding()]
    board = TensorBoard(tmp_path / "again")
    board.set_model(model)
    board.on_train_begin()
    board.on_epoch_end(0, {"loss": 1.0})
    board.on_train_end()
    texts = _events(tmp_path / "again" / "train").Tensors("diagnoses/text_summary")
    assert b"dead_relu" in texts[0].tensor_proto.string_val[0]


def test_a_log_folder_that_cannot_be_written_is_named(tmp_path):
    blocker = tmp_path / "logs"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(OSError, match="cannot write event files to the log folder '.*logs/train'"):
        _fit(blocker)


def test_bad_arguments_say_what_was_received():
    with pytest.raises(ValueError, match="`update_freq` must be 'epoch', 'batch' or a positive integer, received 0"):
        TensorBoard(update_freq=0)
    with pytest.raises(ValueError, match="`histogram_freq` must be a non-negative integer, received -1"):
        TensorBoard(histogram_freq=-1)
    with pytest.raises(ValueError, match="profile_batch=2"):
        TensorBoard(profile_batch=2)
    with pytest.raises(TypeError, match="`log_dir` must be a folder path, received 3"):
        TensorBoard(log_dir=3)


@pytest.mark.slow
@pytest.mark.browser
def test_tensorboard_itself_shows_the_loss_chart_and_the_graph(tmp_path):
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    from tests.playground.pages import CHROMIUM, CHROMIUM_ARGS, require_browser

    sync_api = require_browser()
    _fit(tmp_path)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", str(tmp_path), "--host",
                               "127.0.0.1", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                runs = urllib.request.urlopen(f"{url}/data/runs", timeout=2).read()
                break
            except OSError:
                assert time.monotonic() < deadline, "tensorboard did not start within 60 s"
                time.sleep(0.5)
        assert b"train" in runs and b"validation" in runs
        with sync_api.sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.goto(f"{url}/?tagFilter=epoch_loss#timeseries")
            card = page.locator("scalar-card").filter(has_text="epoch_loss").first
            card.wait_for(timeout=30000)
            card.locator("canvas, svg").first.wait_for(timeout=30000)  # the chart is drawn
            page.goto(f"{url}/#graphs")
            page.locator("text.nodelabel").filter(has_text="hidden").first.wait_for(timeout=30000)  # a layer's scope
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
