"""The playground's browser fixtures: a real server per test module, one Chromium per module, and a fresh page per
test that records every console error and warning (a CSP violation included) in ``page.problems``."""

import pytest

from tests.playground.pages import CHROMIUM, CHROMIUM_ARGS, require_browser
from tests.playground.probes import running_server


@pytest.fixture(scope="module")
def base_url():
    with running_server() as port:
        yield f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser():
    sync_api = require_browser()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, base_url):
    page = browser.new_page(viewport={"width": 1400, "height": 950})
    page.problems = []
    page.on("console", lambda m: page.problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: page.problems.append(str(e)))
    page.base_url = base_url
    yield page
    page.close()
