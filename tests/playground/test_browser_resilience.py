"""The page in Chromium when things go wrong: divergence shows a banner with Reset and disables Play, a link with
bad or unknown parameters keeps the rest with a note, the last feature cannot be removed, weights are edited in
place (no window.prompt), and the page reconnects to its session, or to a restarted server, saying so meanwhile."""

import pytest

from tests.playground.pages import open_page, require_browser, settled, shot
from tests.playground.probes import free_port, running_server

pytestmark = pytest.mark.browser
require_browser()

SHOWN = "() => document.body.innerText"


def visible_text(page) -> str:
    return page.evaluate(SHOWN)


def test_divergence_shows_a_banner_disables_play_and_never_null(page):
    open_page(page, "?problem=regression&dataset=plane&learning_rate=10&activation=relu")
    page.click("#play")
    page.wait_for_selector("#diverged", state="visible", timeout=30_000)
    # the server's "diverged" message can show the banner before the first frame that carries the divergence
    page.wait_for_function("() => window.playground.frame && window.playground.frame.diverged", timeout=30_000)
    epoch = page.evaluate("() => window.playground.frame.diverged.epoch")
    assert page.text_content("#diverged-text").startswith(
        f"Training diverged at epoch {epoch} — the learning rate 10 is probably too high")
    assert page.is_disabled("#play") and "Reset" in page.get_attribute("#play", "title")
    text = visible_text(page)
    assert "null" not in text and "NaN" not in text and "undefined" not in text
    assert page.text_content("#train-loss") == "—"
    shot(page, "diverged")
    page.click("#diverged-reset")
    page.wait_for_selector("#diverged", state="hidden")
    assert not page.is_disabled("#play") and page.text_content("#epoch") == "000,000"
    assert page.problems == []


def test_a_link_with_bad_parameters_keeps_the_rest_with_a_note(page):
    open_page(page, "?noise=loud&colour=red&dataset=xor&layers=3&learning_rate=99&show_test=maybe")
    settled(page, "s.dataset === 'xor' && s.layers.length === 1")
    note = page.text_content("#message")
    assert page.get_attribute("#message", "class") == "message notice"
    assert note.startswith("Part of the link was ignored, the rest applied:")
    for part in ("Noise “loud” (a whole number was expected)", "“colour” (the playground has no such setting)",
                 "Learning rate takes a number from 1e-05 to 10, not 99.", "show test “maybe”"):
        assert part in note
    settings = page.evaluate("() => window.playground.settings")
    assert settings["noise"] == 0 and settings["learning_rate"] == 0.03 and settings["layers"] == [3]
    page.wait_for_function("() => !window.location.search.includes('colour')")  # the URL keeps what applied
    assert "dataset=xor" in page.url
    assert page.problems == []


def test_the_last_feature_stays_with_a_note(page):
    open_page(page, "?features=x1")
    page.click(".feature[data-feature=x1]")
    assert page.text_content("#message") == "Keep at least one input feature: the network needs something to look at."
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.playground.settings.features") == ["x1"]
    assert page.problems == []


def test_a_weight_is_edited_in_place_without_a_prompt(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_page(page)
    page.click("path.link[data-layer='0'][data-from='1'][data-to='2']", force=True)
    page.wait_for_selector("#editor", state="visible")
    assert page.text_content("#editor-label") == "Weight from 2 to 3 (layer 1)"
    page.fill("#editor-value", "lots")
    page.press("#editor-value", "Enter")
    assert page.text_content("#editor-error") == "Type a number from −1000 to 1000, like −0.5."
    page.fill("#editor-value", "-2.5")
    page.press("#editor-value", "Enter")
    page.wait_for_function("() => window.playground.frame.weights[0].kernel[1][2] === -2.5")
    assert page.is_hidden("#editor")
    page.click(".neuron[data-layer='1'][data-neuron='0'] .bias", force=True)
    page.fill("#editor-value", "0.75")
    page.press("#editor-value", "Enter")
    page.wait_for_function("() => window.playground.frame.weights[1].bias[0] === 0.75")
    page.click(".neuron[data-layer='0'][data-neuron='0'] .bias", force=True)
    page.press("#editor-value", "Escape")
    assert page.is_hidden("#editor") and dialogs == []
    assert page.problems == []


def test_a_reload_keeps_the_training_and_another_link_replaces_it(page):
    open_page(page, "?dataset=xor&layers=3")
    page.click("#step")
    page.click("#step")
    page.wait_for_function("() => window.playground.frame.epoch === 2")
    weights = page.evaluate("() => window.playground.frame.weights")
    page.reload()
    page.wait_for_function("() => window.playground.frame !== null && window.playground.urlApplied")
    assert page.evaluate("() => [window.playground.frame.epoch, window.playground.history.length]") == [2, 3]
    assert page.evaluate("() => window.playground.frame.weights") == weights
    open_page(page, "?dataset=spiral")  # the same tab, another link
    settled(page, "s.dataset === 'spiral' && s.layers.length === 2")
    page.wait_for_function("() => window.playground.frame.epoch === 0")
    assert "dataset=spiral" in page.url and "layers" not in page.url
    assert page.problems == []


def test_the_page_reconnects_to_its_session_and_to_a_restarted_server(browser):
    port = free_port()
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.base_url = f"http://127.0.0.1:{port}/"
    with running_server(port=port):
        open_page(page, "?dataset=spiral&layers=5")
        for _ in range(3):
            page.click("#step")
        page.wait_for_function("() => window.playground.frame.epoch === 3")
        token = page.evaluate("() => window.sessionStorage.getItem('glassnet-playground-session')")
        weights = page.evaluate("() => window.playground.frame.weights")
        page.evaluate("() => window.playground.socket.close()")  # the connection drops; the server stays
        page.wait_for_function("() => window.playground.connection === 'connected'", timeout=10_000)
        page.wait_for_function("() => window.playground.history.length === 4")  # the whole curve came back
        assert page.evaluate("() => window.sessionStorage.getItem('glassnet-playground-session')") == token
        assert page.evaluate("() => window.playground.frame.epoch") == 3
        assert page.evaluate("() => window.playground.frame.weights") == weights
        page.click("#play")
        page.wait_for_function("() => window.playground.frame.epoch >= 8")
    page.wait_for_function("() => window.playground.connection === 'offline'", timeout=10_000)
    last = page.evaluate("() => window.playground.frame")
    assert page.text_content("#connection") == "Offline" and page.text_content("#play") == "▶"
    assert "Lost the connection" in page.text_content("#message")
    shot(page, "offline")
    with running_server(port=port):  # a new server: the page sends back what it shows, and plays on
        page.wait_for_function("() => window.playground.connection === 'connected'", timeout=20_000)
        page.wait_for_function(f"() => window.playground.frame.playing && window.playground.frame.epoch > "
                               f"{last['epoch']}", timeout=10_000)
        assert page.evaluate("() => window.playground.settings.dataset") == "spiral"
        history = page.evaluate("() => window.playground.history")
        epochs = [row[0] for row in history]
        assert epochs == sorted(epochs) and set(range(last["epoch"] + 1)) <= set(epochs)  # none lost
        page.click("#play")
    page.close()
    assert problems == []
