"""The page teaches (issue 19 item 6): every control has a tip (what it does, what to try) shown on hover and on
keyboard focus and read as its description; "What's happening" shows the hovered neuron's z = Σ w·a + b and
a = g(z) with the frame's real numbers, live; sliders keep every arrow key; and axe-core (vendored in
tests/playground/axe/, MPL-2.0) finds no serious or critical accessibility violation."""

from pathlib import Path

import pytest

from tests.playground.pages import open_page, require_browser, settled, shot

pytestmark = pytest.mark.browser
require_browser()

AXE = Path(__file__).parent / "axe" / "axe.min.js"
CONTROLS = ["play", "reset", "step", "learning_rate", "activation", "regularization", "regularization_rate",
            "problem", "loss", "optimizer", "initializer", "dropout", "keep_initial_weights", "datasets", "upload",
            "train_percent", "noise", "batch_size", "regenerate", "add-layer", "remove-layer", "show_test",
            "discretize", "explain", "export", "classroom", "chart"]
BIG = "?dataset=spiral&layers=8,8,8,8,8,8&features=x1,x2,x1_squared,x2_squared,x1_x2,sin_x1,sin_x2"

# The serious and critical violations axe-core finds on the page as it is now.
AXE_RUN = """async () => {
  const result = await axe.run(document, { resultTypes: ["violations"] });
  return result.violations.filter((v) => ["serious", "critical"].includes(v.impact))
    .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(" ")).join(", ")}`);
}"""


def described(page, selector: str) -> str:
    return page.evaluate("(s) => { const id = document.querySelector(s).getAttribute('aria-describedby');"
                         " return id ? document.getElementById(id).textContent : ''; }", selector)


def test_every_control_says_what_it_does_and_what_to_try(page):
    open_page(page)
    for name in CONTROLS:
        assert len(described(page, f"#{name}")) > 40, name
    for selector in (".add-neuron", ".remove-neuron", ".layer-activation", "[data-tip=heatmap]"):
        assert "layer 1" in described(page, selector) or selector == "[data-tip=heatmap]", selector
    assert "w ← w − η·∂L/∂w" in described(page, "#learning_rate") and "Try:" in described(page, "#learning_rate")
    page.hover("#activation")
    page.wait_for_selector("#tip", state="visible")  # after a short rest of the pointer
    assert page.text_content("#tip").startswith("g in a = g(z)")
    page.mouse.move(5, 5)
    assert not page.is_visible("#tip")
    page.click("#noise")  # a click's focus shows no tip over the control
    page.mouse.move(5, 5)
    assert not page.is_visible("#tip")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Tab")  # back on the noise slider by keyboard: its tip shows at once
    assert page.is_visible("#tip") and "overfitting" in page.text_content("#tip")
    shot(page, "tip")
    assert page.problems == []


def test_whats_happening_shows_the_hovered_neurons_numbers_live(page):
    open_page(page, "?activation=relu")
    page.focus(".neuron >> nth=1")  # Tab reaches neurons; focus shows what hovering shows
    page.wait_for_function("() => window.playground.frame.equations !== null")
    eq = page.evaluate("window.playground.frame.equations")
    text = page.text_content("#equations")
    assert eq["title"] == "Layer 1, neuron 2" and "z = Σ w·a + b = w1·X₁ + w2·X₂ + b" in text
    z = f"{eq['z']:.3f}"
    assert f"a = ReLU(z) = max(0, {z}) = {max(0.0, eq['z']):.3f}" in text
    products = " + ".join(_product(w, a) for w, a in zip(eq["w"], eq["a_in"]))
    assert f"= {products} + " in text
    page.click("#step")  # live: the next epoch's numbers replace them
    page.wait_for_function("() => window.playground.frame.epoch === 1")
    page.wait_for_function(f"() => !document.querySelector('#equations').textContent.includes('= {products} +')")
    shot(page, "whats_happening")
    page.uncheck("#explain")
    assert not page.is_visible("#explain-panel") and "explain=false" in page.url
    assert page.problems == []


def _product(w: float, a: float) -> str:
    term = lambda x: f"({x:.3f})" if x < 0 else f"{x:.3f}"  # noqa: E731 - as the page writes a negative factor
    return f"{term(w)}·{term(a)}"


def test_arrow_keys_on_a_slider_are_never_lost(page):
    open_page(page)
    page.focus("#noise")
    for _ in range(6):  # each key sends a change that rebuilds the data; none of them may be undone by a late state
        page.keyboard.press("ArrowRight")
    settled(page, "s.noise === 30")
    page.wait_for_timeout(300)
    assert page.input_value("#noise") == "30" and page.text_content("output[data-for=noise]") == "30"
    page.focus("#batch_size")
    for _ in range(5):
        page.keyboard.press("ArrowLeft")
    settled(page, "s.batch_size === 5")
    assert page.input_value("#batch_size") == "5"
    assert page.evaluate("document.activeElement.id") == "batch_size"
    page.focus("#learning_rate")  # a list takes arrow keys too: 0.03 → 0.1 → 0.3 → 1
    for _ in range(3):
        page.keyboard.press("ArrowDown")
    settled(page, "s.learning_rate === 1")
    assert page.input_value("#learning_rate") == "1"
    assert page.problems == []


@pytest.mark.parametrize(("query", "phone"), [("", False), (BIG, False), ("", True)], ids=["default", "6x8", "phone"])
def test_axe_finds_no_serious_accessibility_violation(browser, base_url, query, phone):
    size = {"width": 390, "height": 844} if phone else {"width": 1400, "height": 950}
    page = browser.new_page(viewport=size, has_touch=phone, is_mobile=phone, bypass_csp=True)  # (to inject axe)
    page.base_url = base_url
    open_page(page, query)
    page.focus(".neuron >> nth=0")
    page.wait_for_function("() => window.playground.frame.equations !== null")
    page.add_script_tag(path=str(AXE))
    violations = page.evaluate(AXE_RUN)
    page.close()
    assert violations == []
