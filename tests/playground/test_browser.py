"""The playground page in headless Chromium (Debian's chromium, driven by Python Playwright): it loads cleanly,
trains the circle set below a loss of 0.1 within 300 epochs, redraws on every control, keeps its state in the URL,
and exports code that runs. Screenshots go to test-artifacts/."""

import re
import subprocess
import sys

import pytest

from tests.playground.pages import heatmap, open_page, play_until, require_browser, settled, shot

pytestmark = pytest.mark.browser
require_browser()


def test_page_loads_and_circle_trains_below_0_1_within_300_epochs(page):
    open_page(page)
    assert page.text_content("#epoch") == "000,000"
    assert page.locator(".neuron").count() == 6 and page.locator(".feature").count() == 7
    play_until(page, "f.epoch >= 300 || (f.train_loss !== null && f.train_loss < 0.1)")
    history = page.evaluate("window.playground.history")
    first_below = next(epoch for epoch, train, _ in history if train is not None and train < 0.1)
    assert first_below <= 300
    assert int(page.text_content("#epoch").replace(",", "")) >= first_below
    assert float(page.text_content("#train-loss")) < 0.1 + 0.05
    shot(page, "circle_trained")
    assert page.problems == []


def test_dataset_features_layers_and_learning_rate_update_the_picture(page):
    open_page(page)
    before = heatmap(page)
    page.click(".dataset[data-dataset=xor]")
    settled(page, "s.dataset === 'xor'")
    assert page.locator(".dataset.selected").get_attribute("data-dataset") == "xor"
    page.click(".feature[data-feature=x1_x2]")
    settled(page, "s.features.includes('x1_x2')")
    assert page.locator("path.link[data-layer='0']").count() == 3 * 4
    after_features = heatmap(page)
    assert after_features != before
    page.click("#add-layer")
    settled(page, "s.layers.length === 3")
    assert page.text_content("#layer-count") == "3" and page.locator(".neuron").count() == 8
    page.select_option("#learning_rate", "0.3")
    settled(page, "s.learning_rate === 0.3")
    play_until(page, "f.epoch >= 5")
    assert heatmap(page) != after_features
    shot(page, "controls_changed")
    assert page.problems == []


def test_the_url_reproduces_the_state_after_a_reload(page):
    open_page(page)
    page.click(".dataset[data-dataset=spiral]")
    settled(page, "s.dataset === 'spiral'")
    page.select_option("#activation", "relu")
    settled(page, "s.activation === 'relu'")
    page.click(".layer-head .add-neuron >> nth=1")
    settled(page, "s.layers[1] === 3")
    page.check("#show_test")
    page.wait_for_function("() => window.location.search.includes('show_test')")
    url, settings = page.url, page.evaluate("window.playground.settings")
    assert "dataset=spiral" in url and "layers=4%2C3" in url
    page.reload()
    page.wait_for_function("() => window.playground.frame !== null && window.playground.urlApplied")
    settled(page, "s.dataset === 'spiral'")
    assert page.evaluate("window.playground.settings") == settings
    assert page.is_checked("#show_test") and page.url == url
    open_page(page, "?hide=beyond,data")
    assert not page.is_visible(".bar.beyond") and not page.is_visible("section.data")
    shot(page, "classroom_hidden")
    assert page.problems == []


def test_export_as_python_runs_and_reaches_a_similar_loss(page, tmp_path):
    open_page(page, "?features=x1,x2,x1_squared,x2_squared&optimizer=adam&learning_rate=0.01")
    play_until(page, "f.epoch >= 40")
    page_loss = page.evaluate("window.playground.frame.train_loss")
    epoch = page.evaluate("window.playground.frame.epoch")
    page.click("#export")
    page.wait_for_selector("#export-dialog[open]")
    shot(page, "export")
    code = page.input_value("#export-code")
    assert f"EPOCHS = {epoch}" in code
    path = tmp_path / "exported.py"
    path.write_text(code)
    run = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    train = float(re.search(r"training loss ([\d.]+)", run.stdout).group(1))
    assert train == pytest.approx(page_loss, abs=0.05, rel=0.5)
    assert page.problems == []
