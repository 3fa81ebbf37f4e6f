"""The Watch log: one row per (step, layer), as a tidy table, written as CSV or Parquet, drawn with matplotlib, and
shown live in Jupyter as one output that is replaced in place (IPython's ``display_id``), not a stream.
"""

from __future__ import annotations

import csv
import math
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

COLUMNS = ("step", "epoch", "layer", "loss", "weight_norm", "grad_norm", "update_ratio", "activation",
           "act_mean", "act_std", "dead_fraction", "saturated_fraction")
PLOTTED = ("weight_norm", "grad_norm", "update_ratio", "act_std", "dead_fraction", "saturated_fraction")


def table(rows: list[dict]):
    """The rows as a pandas DataFrame when pandas is installed, else the list of dicts itself."""
    try:
        import pandas as pd
    except ImportError:
        return rows
    return pd.DataFrame(rows, columns=list(COLUMNS))


def write_csv(rows: list[dict], path: str | os.PathLike) -> Path:
    """The rows as CSV (a header of ``COLUMNS``), written whole or not at all."""
    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    return _atomically(path, write)


def write_parquet(rows: list[dict], path: str | os.PathLike) -> Path:
    """The rows as Parquet (needs pyarrow), written whole or not at all."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("Watch.to_parquet needs pyarrow (`pip install pyarrow`); Watch.to_csv needs nothing"
                          ) from None
    columns = {name: [row.get(name) for row in rows] for name in COLUMNS}
    return _atomically(path, lambda tmp: pq.write_table(pa.table(columns), tmp))


def _atomically(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Write through a temporary file in the target folder, then rename it over ``path``."""
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"Watch: cannot write {str(path)!r}: the folder {str(path.parent)!r} does not exist")
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def plot(rows: list[dict], columns: Sequence[str] = PLOTTED, axes=None):
    """One panel per column: its value per step, one line per layer (log scale for norms and ratios). Returns
    the matplotlib Figure; without ``axes`` a standalone Figure (no window, pyplot's state left alone)."""
    unknown = [c for c in columns if c not in COLUMNS]
    if unknown:
        raise ValueError(f"Watch.plot: unknown column(s) {unknown}; expected some of {list(COLUMNS)}")
    if axes is None:
        from matplotlib.figure import Figure
        figure = Figure(figsize=(4 * len(columns), 3.2), layout="constrained")
        axes = figure.subplots(1, len(columns), squeeze=False)[0]
    figure = axes[0].figure
    layers = list(dict.fromkeys(row["layer"] for row in rows))
    for ax, column in zip(axes, columns):
        for layer in layers:
            points = [(r["step"], r[column]) for r in rows if r["layer"] == layer and _plottable(r[column])]
            if points:
                ax.plot(*zip(*points), marker=".", label=layer)
        if column in ("weight_norm", "grad_norm", "update_ratio") and ax.lines:
            ax.set_yscale("log")
        ax.set_title(column)
        ax.set_xlabel("step")
    if layers:
        axes[0].legend(fontsize="small")
    return figure


def _plottable(value) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(value)


def html(rows: list[dict], findings: Sequence, loss_check: str) -> str:
    """The latest row of each layer and the findings so far, as one small HTML table (the live Jupyter view)."""
    if not rows:
        return "<p>Watch: no step recorded yet.</p>"
    step = rows[-1]["step"]
    latest = [r for r in rows if r["step"] == step]
    shown = ("layer", "weight_norm", "grad_norm", "update_ratio", "act_mean", "act_std", "dead_fraction",
             "saturated_fraction")
    head = "".join(f"<th>{c}</th>" for c in shown)
    body = "".join("<tr>" + "".join(f"<td>{_cell(r[c])}</td>" for c in shown) + "</tr>" for r in latest)
    notes = "".join(f"<li><code>{f.code}</code> {_escape(f.message)}</li>" for f in findings)
    return (f"<div><b>Watch</b> — step {step}, epoch {rows[-1]['epoch']}, loss {_cell(rows[-1]['loss'])}"
            f"{'; ' + _escape(loss_check) if loss_check else ''}<table><tr>{head}</tr>{body}</table>"
            f"{'<ul>' + notes + '</ul>' if notes else '<p>No findings.</p>'}</div>")


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    return _escape(str(value))


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
