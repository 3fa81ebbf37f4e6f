"""benchmarks/imdb_seeds.py: the seed lists, the peer names and the statistics, on tiny made-up runs."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # benchmarks/ is a folder of the repository
from benchmarks.imdb_seeds import format_table, parse_peers, parse_seeds, summarize  # noqa: E402


def runs(accuracies, first_seed=0):
    return [{"seed": first_seed + i, "accuracy": a, "loss": 0.2} for i, a in enumerate(accuracies)]


def test_seeds_are_ranges_and_single_seeds():
    assert parse_seeds("0-3,7, 10-11") == [0, 1, 2, 3, 7, 10, 11]


@pytest.mark.parametrize("text", ["a-3", "3-1", "-2", ""])
def test_bad_seeds_are_refused_by_name(text):
    with pytest.raises(ValueError, match="--seeds"):
        parse_seeds(text)


def test_peers_are_checked():
    assert parse_peers("keras, glassnet,glassnet:keras-init") == ["keras", "glassnet", "glassnet:keras-init"]
    for bad in ("torch", "glassnet:shuffled", "keras:keras-init"):
        with pytest.raises(ValueError, match="unknown peer"):
            parse_peers(bad)


def test_summary_counts_the_bar_and_tests_spread_and_location():
    table = summarize({"keras": runs([0.87, 0.88, 0.89]), "wide": runs([0.86, 0.88, 0.90]),
                       "higher": runs([0.90, 0.91, 0.92]), "other seeds": runs([0.90, 0.91, 0.92], 3),
                       "replay": runs([0.87, 0.88, 0.89])})
    assert table["keras"]["mean"] == pytest.approx(0.88) and table["keras"]["std"] == pytest.approx(0.01)
    assert table["keras"]["at_bar"] == 2 and table["higher"]["at_bar"] == 3
    # Levene (median-centred): |deviations| 0.01, 0, 0.01 against 0.02, 0, 0.02 give W = 0.8, the F(1, 4) tail
    assert table["wide"]["levene_p"] == pytest.approx(0.421648, abs=1e-6)
    # Mann-Whitney: every run above every reference run, U = 0, exact two-sided p = 2 / C(6, 3)
    assert table["higher"]["mannwhitney_p"] == pytest.approx(0.1)
    # the same seeds pair up: every difference 0.03, so the exact Wilcoxon p of 3 positive signs is 2 / 2³
    assert table["higher"]["paired_mean_abs_diff"] == pytest.approx(0.03)
    assert table["higher"]["wilcoxon_p"] == pytest.approx(0.25)
    assert "paired_mean_abs_diff" not in table["other seeds"]
    assert table["replay"]["paired_mean_abs_diff"] == 0 and "wilcoxon_p" not in table["replay"]
    text = format_table(table)
    assert "| higher | 3 | 0.9100 ± 0.0100 | 3/3 |" in text and "| every seed identical |" in text
