"""scrub: a notebook widget that steps through a training run's epochs, one layer and one unit at a time.

Given the weights of each epoch (a list of ``model.get_weights()`` results, as ``Watch(snapshots=True)`` keeps them),
``epoch_view`` puts one epoch's weights in the model, runs one training step on a batch with ``inspect.step`` (and
undoes it), and returns the chosen unit's incoming weights, pre-activations, activations and weight gradients under
the step's own names (W1, Z1, A1, dW1). ``scrub_epochs`` wraps it in ipywidgets: an epoch slider, a layer and a unit,
and their histograms (matplotlib), redrawn in one output.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from glassnet.inspect.step_debugger import StepValues, undone_step


def _epoch_values(model, snapshots: Sequence[list[np.ndarray]], epoch: int, x, y) -> StepValues:
    """The values of one undone step at epoch ``epoch``'s weights (the model keeps the weights it had)."""
    if not snapshots:
        raise ValueError("scrub: argument `snapshots` must hold the weights of at least one epoch (a list of "
                         "model.get_weights() results), received an empty list")
    if isinstance(epoch, bool) or not isinstance(epoch, int) or not 0 <= epoch < len(snapshots):
        raise ValueError(f"scrub: argument `epoch` must be an integer in [0, {len(snapshots)}), received {epoch!r}")
    current = model.get_weights()
    if len(snapshots[epoch]) != len(current):
        raise ValueError(f"scrub: the snapshot of epoch {epoch} holds {len(snapshots[epoch])} arrays, the model has "
                         f"{len(current)} weights")
    model.set_weights(snapshots[epoch])
    try:
        return undone_step(model, x, y)
    finally:
        model.set_weights(current)


def _widths(values: StepValues) -> dict[int, int]:
    """{layer l: its units}, for the layers with a kernel W[l]."""
    return {int(n[1:]): w.shape[-1] for n, w in values.weights.items() if n[0] == "W" and n[1:].isdigit()}


def _unit_view(values: StepValues, layer: int, unit: int) -> dict[str, np.ndarray]:
    widths = _widths(values)
    if layer not in widths:
        raise ValueError(f"scrub: argument `layer` must be one of the step's layers {sorted(widths)}, received "
                         f"{layer!r}")
    if isinstance(unit, bool) or not isinstance(unit, int) or not 0 <= unit < widths[layer]:
        raise ValueError(f"scrub: argument `unit` must be an integer in [0, {widths[layer]}) (the units of layer "
                         f"{layer}), received {unit!r}")
    view = {"W": values.weights[f"W{layer}"][..., unit], "dW": values.backward[f"dW{layer}"][..., unit]}
    for key in ("b", "Z", "A"):
        found = values.weights.get(f"{key}{layer}", values.forward.get(f"{key}{layer}"))
        if found is not None:
            view[key] = found[..., unit]
    return view


def epoch_view(model, snapshots: Sequence[list[np.ndarray]], epoch: int, layer: int, unit: int, x, y
               ) -> dict[str, np.ndarray]:
    """Layer ``layer``'s ``unit`` at ``epoch``: {"W": its incoming weights, "b": its bias, "Z": its pre-activations
    on ``x``, "A": its activations, "dW": its weights' gradients on (x, y)}."""
    return _unit_view(_epoch_values(model, snapshots, epoch, x, y), layer, unit)


def scrub_epochs(model, snapshots: Sequence[list[np.ndarray]], x, y):
    """An ipywidgets box: sliders for the epoch and the unit, a layer menu, and the histograms of ``epoch_view``."""
    try:
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError("scrub_epochs needs ipywidgets and matplotlib: pip install 'glassnet[notebook]'") from error
    widths = _widths(_epoch_values(model, snapshots, 0, x, y))  # checks the arguments before any widget is made
    epoch = widgets.IntSlider(value=0, min=0, max=len(snapshots) - 1, description="epoch")
    layer = widgets.Dropdown(options=sorted(widths), description="layer")
    unit = widgets.BoundedIntText(value=0, min=0, max=widths[layer.value] - 1, description="unit")
    output = widgets.Output()

    def draw(*_) -> None:
        unit.max = widths[layer.value] - 1
        view = epoch_view(model, snapshots, epoch.value, layer.value, unit.value, x, y)
        with output:
            output.clear_output(wait=True)
            shown = [(k, view[k]) for k in ("W", "dW", "Z", "A") if k in view]
            figure, axes = plt.subplots(1, len(shown), figsize=(3.2 * len(shown), 2.6))
            for ax, (name, value) in zip(np.atleast_1d(axes), shown):
                ax.hist(np.ravel(value), bins=30, color="#4c72b0")
                ax.set_title(f"{name}{layer.value}[…, {unit.value}] at epoch {epoch.value}", fontsize=9)
            figure.tight_layout()
            plt.show()

    for control in (epoch, layer, unit):
        control.observe(draw, names="value")
    draw()
    return widgets.VBox([widgets.HBox([epoch, layer, unit]), output])
