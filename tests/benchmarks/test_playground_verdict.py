"""The playground benchmark's verdicts: a floor is met by its rate, or, where the floor is the screen's own rate,
by a new picture in nearly every animation frame the browser makes."""

from benchmarks.playground_speed import verdict


def test_a_rate_at_or_above_its_floor_passes():
    assert verdict(30.0, 54.7, 30) == "PASS"
    assert verdict(60.0, 60.1, 60) == "PASS"


def test_below_a_floor_the_screen_does_not_limit_fails():
    assert verdict(29.9, 54.7, 30) == "FAIL"  # the browser drew 54.7 animation frames: 30 was reachable


def test_the_screens_rate_passes_when_nearly_every_animation_frame_shows_a_new_picture():
    assert verdict(59.8, 60.1, 60) == "PASS (the screen's rate: 99.5% of the animation frames)"
    assert verdict(59.4, 60.1, 60) == "FAIL"  # 98.8 %: pictures were missing from the screen
    assert verdict(58.9, 59.2, 60) == "FAIL"  # the page held the browser below the screen's rate
