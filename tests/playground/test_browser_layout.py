"""The page on every screen: a phone (390×844), a tablet (1024×768) and a laptop (1440×900), with the default and
the largest network, scroll nothing sideways and cut nothing off; screenshots go to test-artifacts/."""

import pytest

from tests.playground.pages import open_page, require_browser, shot

pytestmark = pytest.mark.browser
require_browser()

SCREENS = {"phone": (390, 844), "tablet": (1024, 768), "laptop": (1440, 900)}
BIG = "?features=x1,x2,x1_squared,x2_squared,x1_x2,sin_x1,sin_x2&layers=8,8,8,8,8,8"

# Every shown element whose box leaves the viewport's width, and how far the document scrolls sideways.
OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const node of document.body.querySelectorAll("*")) {
    const box = node.getBoundingClientRect();
    if (box.width === 0 || box.height === 0 || node.closest("option, [hidden]")) continue;
    if (box.left < -1 || box.right > width + 1) {
      out.push(`${node.tagName.toLowerCase()}#${node.id}.${node.className.baseVal ?? node.className}`
        + ` [${Math.round(box.left)}, ${Math.round(box.right)}]`);
    }
  }
  return { width, scrollWidth: document.documentElement.scrollWidth, out: out.slice(0, 12) };
}"""


@pytest.mark.parametrize("query", ["", BIG], ids=["default", "6x8"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_nothing_overflows_the_screen(browser, base_url, screen, query):
    width, height = SCREENS[screen]
    touch = screen != "laptop"
    page = browser.new_page(viewport={"width": width, "height": height}, has_touch=touch, is_mobile=touch)
    problems = []
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.base_url = base_url
    open_page(page, query)
    page.wait_for_timeout(200)
    report = page.evaluate(OVERFLOW)
    shot(page, f"{screen}{'_big' if query else ''}")
    if screen == "phone":  # one column: the output comes below the network
        data, output = (page.locator(f"section.{name}").bounding_box() for name in ("data", "output"))
        assert output["y"] > data["y"] + data["height"] - 1
    if touch:  # controls a finger can hit
        sizes = page.evaluate("() => [...document.querySelectorAll('.mini, #add-layer, #step, #reset, #play')]"
                              ".map((b) => Math.min(b.offsetWidth, b.offsetHeight))")
        assert min(sizes) >= 32, sizes
    page.close()
    assert report["scrollWidth"] <= report["width"] and report["out"] == [], report
    assert problems == []


def test_a_phone_turned_sideways_lays_the_network_out_again(browser, base_url):
    page = browser.new_page(viewport={"width": 390, "height": 844}, has_touch=True)
    page.base_url = base_url
    open_page(page, BIG)
    narrow = page.evaluate("() => document.querySelector('#network svg').getAttribute('width')")
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_function(f"() => document.querySelector('#network svg').getAttribute('width') !== '{narrow}'")
    report = page.evaluate(OVERFLOW)
    shot(page, "phone_sideways")
    page.close()
    assert report["scrollWidth"] <= report["width"] and report["out"] == [], report
