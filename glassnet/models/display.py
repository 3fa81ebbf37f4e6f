"""Rich display in Jupyter: a model's summary as an HTML table (the same rows and totals as ``model.summary()``).

Jupyter shows an object through its ``_repr_html_``; Sequential's returns :func:`summary_html`.
"""

from __future__ import annotations

from html import escape

from glassnet.models.summary import layout, param_bytes, param_count, readable_size, summary_rows

_STYLE = "border-collapse: collapse; font-family: monospace; text-align: left"
_CELL = "padding: 2px 10px; border-bottom: 1px solid #ccc"


def _cells(values, tag: str) -> str:
    """One table row; the third column (Param #) right-aligned as in the text summary."""
    cells = [f'<{tag} style="{_CELL}{"; text-align: right" if i == 2 else ""}">{escape(str(v))}'
             f"</{tag}>" for i, v in enumerate(values)]
    return "<tr>" + "".join(cells) + "</tr>"


def summary_totals(model) -> list[tuple[str, str]]:
    """``(label, "count (size)")`` for total, trainable, non-trainable (and optimizer) parameters."""
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer_variables = model.optimizer_variables()
    groups = [("Total params", trainable + non_trainable + optimizer_variables), ("Trainable params", trainable),
              ("Non-trainable params", non_trainable)]
    if optimizer_variables:
        groups.append(("Optimizer params", optimizer_variables))
    return [(label, f"{param_count(weights):,} ({readable_size(param_bytes(weights))})") for label, weights in groups]


def summary_html(model) -> str:
    """The summary as an HTML table: a caption with the model's name, one row per layer, the totals below."""
    caption = f'<caption style="text-align: left; font-weight: bold">Model: "{escape(model.name)}"</caption>'
    head = "<thead>" + _cells(layout(model)[0], "th") + "</thead>"
    body = "<tbody>" + "".join(_cells(row, "td") for row in summary_rows(model)) + "</tbody>"
    totals = "".join(f"<div><b>{escape(label)}:</b> {escape(value)}</div>" for label, value in summary_totals(model))
    return (f'<div class="glassnet-summary"><table style="{_STYLE}">{caption}{head}{body}</table>'
            f'<div style="font-family: monospace; margin-top: 4px">{totals}</div></div>')
