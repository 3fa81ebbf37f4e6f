"""The page keeps up (issue 19 item 1): while playing, animation frames show new epochs — counted with
requestAnimationFrame as benchmarks/playground_speed.py does. The benchmark records the real rates (≥ 60 and ≥ 30
frames/s on an idle 2-core machine); this test asserts a floor a busy shared machine still clears, so that a
page that falls back to drawing a few frames a second (or queues them) fails."""

import pytest

from benchmarks.playground_speed import COUNT_RENDERS, NETWORKS
from tests.playground.pages import open_page, require_browser

pytestmark = pytest.mark.browser
require_browser()

FLOOR_SHARE = 0.3  # of the rate: timing on a shared machine is noisy; the benchmark measures the rest


@pytest.mark.parametrize("name", list(NETWORKS))
def test_playing_renders_a_new_frame_most_animation_frames(page, name):
    query, floor = NETWORKS[name]
    open_page(page, query)
    page.click("#play")
    page.wait_for_function("() => window.playground.frame.playing")
    page.wait_for_timeout(500)
    counts = page.evaluate(COUNT_RENDERS, 3)
    page.click("#play")
    fps = counts["renders"] / counts["seconds"]
    assert fps >= FLOOR_SHARE * floor, counts
    assert counts["epochs"] >= counts["renders"]  # at least an epoch a frame: drawing never holds training back
    assert page.problems == []
