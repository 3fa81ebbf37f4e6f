"""Plots: a History's curves and a 2-D decision boundary; without matplotlib, an error naming the extra."""

import sys

import numpy as np
import pytest

from glassnet.inspect import plot_decision_boundary, plot_history


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"glassnet\[plot\]"):
        plot_history({"loss": [1.0, 0.5]})


def test_plots_draw_the_data():
    pytest.importorskip("matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_history({"loss": [1.0, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.4]})
    assert [list(line.get_ydata()) for line in ax.get_lines()] == [[1.0, 0.5, 0.25], [1.1, 0.7, 0.4]]

    class Halfplane:  # predicts class 1 right of x = 0
        def __call__(self, grid):
            return (grid[:, :1] > 0).astype("float32")

    x = np.array([[-1.0, 0.0], [1.0, 0.5], [0.5, -1.0]], dtype="float32")
    ax = plot_decision_boundary(Halfplane(), x, np.array([0, 1, 1]))
    np.testing.assert_array_equal(ax.collections[-1].get_offsets(), x)
    with pytest.raises(ValueError, match=r"shape \(3, 1\)"):
        plot_decision_boundary(Halfplane(), x[:, :1], np.array([0, 1, 1]))
