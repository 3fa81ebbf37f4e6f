"""Driving the playground page in headless Chromium (Debian's chromium, Python Playwright): skipping where either
is missing, opening the page, waiting for its state, playing, and screenshots into test-artifacts/."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def require_browser():
    """Skip the calling test module unless Chromium, Playwright and uvicorn are installed; Playwright's sync API."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install chromium)", allow_module_level=True)
    pytest.importorskip("uvicorn", reason="the playground extra (uvicorn) is not installed")
    return pytest.importorskip("playwright.sync_api", reason="Python Playwright is not installed")


def open_page(page, query=""):
    page.goto(page.base_url + query)
    page.wait_for_function("() => window.playground.frame !== null && window.playground.urlApplied")


def shot(page, name):
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"playground_{name}.png"), full_page=True)


def heatmap(page) -> str:
    return page.eval_on_selector("#heatmap", "c => c.toDataURL()")


def settled(page, check: str):
    """Wait until the page's state satisfies ``check`` (a JS expression over ``s``, the settings)."""
    page.wait_for_function(f"() => {{ const s = window.playground.settings; return {check}; }}",
                           timeout=10_000)
    page.wait_for_timeout(150)  # the frame after the state


def play_until(page, condition: str, timeout_ms: int = 30_000):
    page.click("#play")
    page.wait_for_function(f"() => {{ const f = window.playground.frame; return {condition}; }}",
                           timeout=timeout_ms)
    page.click("#play")
    page.wait_for_function("() => !window.playground.frame.playing")
