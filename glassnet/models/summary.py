"""``model.summary()``: Keras 3's table (Layer (type) | Output Shape | Param #) and the parameter totals.

The layout is the one Keras 3 prints through ``rich``: heavy box-drawing header, a rule between rows, column widths
from ``positions`` of ``line_length`` (default min(88, terminal width − 4)), long cells wrapped onto extra lines.
"""

from __future__ import annotations

import shutil
import textwrap

import numpy as np

HEADER = ("Layer (type)", "Output Shape", "Param #")
ALIGN = ("left", "left", "right")
POSITIONS = (0.45, 0.80, 1.0)
# a functional model that is not a chain adds the column of what each layer is connected to, on wider lines
GRAPH_HEADER = (*HEADER, "Connected to")
GRAPH_ALIGN = (*ALIGN, "left")
GRAPH_POSITIONS = (0.3, 0.56, 0.74, 1.0)
# summary(show_flops=True) adds a FLOPs column after Param #: each layer's forward FLOPs for one sample
FLOPS_HEADER = "FLOPs"
_flop_counters: list = []  # the counter glassnet's package init hands in (count_flops_with)


def count_flops_with(counter) -> None:
    """Set how ``summary(show_flops=True)`` counts FLOPs: ``counter(model)`` returns {layer name: forward FLOPs of
    one sample}. glassnet/__init__.py hands in glassnet.inspect's cost model, which sits above models (models may not
    import it) and is imported only when a summary asks for FLOPs."""
    _flop_counters[:] = [counter]


def _with_flops(header: tuple, align: tuple, positions: tuple) -> tuple[tuple, tuple, tuple]:
    """The columns with FLOPs inserted after Param #, taking 18% of the line from the others in proportion."""
    at = header.index("Param #") + 1
    scaled = [p * 0.82 for p in positions]
    return ((*header[:at], FLOPS_HEADER, *header[at:]), (*align[:at], "right", *align[at:]),
            (*scaled[:at], scaled[at - 1] + 0.18, *(p + 0.18 for p in scaled[at:])))


def readable_size(num_bytes: float) -> str:
    """``1.55 MB``: binary units (1 KB = 1024 B), two decimals, as Keras prints weight memory."""
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if num_bytes / 1024 < 1:
            return f"{num_bytes:.2f} {unit}"
        num_bytes /= 1024
    return f"{num_bytes:.2f} PB"


def _reduce_evenly(widths: list[int], excess: int) -> list[int]:
    """Take ``excess`` characters off the columns in equal shares, rounding each share as rich does."""
    widths = list(widths)
    remaining, ratio_left = excess, len(widths)
    for i, width in enumerate(widths):
        share = min(width, round(remaining / ratio_left))
        widths[i] = width - share
        remaining -= share
        ratio_left -= 1
    return widths


def column_widths(line_length: int, positions=POSITIONS) -> list[int]:
    """Content widths of the columns, for a table whose full width (borders included) is ``line_length``."""
    widths, current = [], 0
    for pos in positions:
        width = int(pos * line_length) if pos <= 1 else int(pos)
        if width - current < 4:
            raise ValueError("Insufficient console width to print summary.")
        widths.append(width - current)
        current = width
    padded = [w + 2 for w in widths]  # one space each side
    available = line_length - (len(widths) + 1)  # the vertical borders
    if sum(padded) > available:
        padded = _reduce_evenly(padded, sum(padded) - available)
    return [w - 2 for w in padded]


def _cell_lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def _row(cells, widths, align, vertical: str) -> list[str]:
    wrapped = [_cell_lines(c, w) for c, w in zip(cells, widths)]
    height = max(len(w) for w in wrapped)
    lines = []
    for i in range(height):
        parts = []
        for cell_lines, width, side in zip(wrapped, widths, align):
            text = cell_lines[i] if i < len(cell_lines) else ""
            parts.append(" " + (text.rjust(width) if side == "right" else text.ljust(width)) + " ")
        lines.append(vertical + vertical.join(parts) + vertical)
    return lines


def _rule(widths, left: str, mid: str, right: str, fill: str) -> str:
    return left + mid.join(fill * (w + 2) for w in widths) + right


def format_shape(shape) -> str:
    """``(None, 10)``; a list of shapes (a layer with several outputs) as Keras prints it."""
    if shape is None:
        return "?"
    if shape and not all(d is None or isinstance(d, int) for d in shape):
        return "[" + ", ".join(format_shape(s) for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def summary_rows(model, flops: dict[str, int] | None = None) -> list[tuple[str, ...]]:
    """One row per layer: ``name (type)``, output shape, parameter count (``0 (unbuilt)`` for an unbuilt layer),
    its FLOPs when ``flops`` are given and, when the model has that column, what the layer is connected to."""
    rows = []
    for layer in model.layers:
        name = f"{layer.name} ({type(layer).__name__})"
        if layer.built and model.built:
            row = (name, format_shape(model.output_shape_of(layer)), f"{layer.count_params():,}")
        else:
            row = (name, "?", "0 (unbuilt)")
        if flops is not None:
            row = (*row, f"{flops.get(layer.name, 0):,}")
        connections = model.connections_of(layer)
        rows.append(row if connections is None else (*row, connections))
    return rows


def layout(model) -> tuple[tuple, tuple, tuple, int]:
    """(header, alignment, column positions, default line length) of the model's table, as Keras 3 picks them."""
    if model.layers and model.connections_of(model.layers[0]) is not None:
        return GRAPH_HEADER, GRAPH_ALIGN, GRAPH_POSITIONS, 108
    return HEADER, ALIGN, POSITIONS, 88


def param_count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def param_bytes(weights) -> int:
    return int(sum(int(np.prod(w.shape)) * np.dtype(w.dtype).itemsize for w in weights))


def summary_lines(model, line_length: int | None = None, positions=None, show_flops: bool = False) -> list[str]:
    """The lines of ``model.summary()``; with ``show_flops``, a FLOPs column and their total."""
    header, align, default_positions, default_length = layout(model)
    flops = None
    if show_flops:
        if not model.built:
            raise ValueError(f"summary: model '{model.name}' has not been built, so its FLOPs cannot be counted yet. "
                             "Call `model.build(input_shape)` or start it with `Input(shape)` first.")
        header, align, default_positions = _with_flops(header, align, default_positions)
        flops = _flop_counters[0](model)
    if line_length is None:
        line_length = min(default_length, shutil.get_terminal_size().columns - 4)
    widths = column_widths(line_length, positions or default_positions)
    lines = [f'Model: "{model.name}"']
    lines.append(_rule(widths, "┏", "┳", "┓", "━"))
    lines += _row(header, widths, align, "┃")
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    rows = [_row(cells, widths, align, "│") for cells in summary_rows(model, flops)]
    separator = _rule(widths, "├", "┼", "┤", "─")
    for i, row in enumerate(rows):
        if i:
            lines.append(separator)
        lines += row
    lines.append(_rule(widths, "└", "┴", "┘", "─"))
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    optimizer_variables = model.optimizer_variables()
    total = param_count(trainable) + param_count(non_trainable) + param_count(optimizer_variables)
    total_bytes = param_bytes(trainable) + param_bytes(non_trainable) + param_bytes(optimizer_variables)
    lines.append(f" Total params: {total:,} ({readable_size(total_bytes)})")
    lines.append(f" Trainable params: {param_count(trainable):,} ({readable_size(param_bytes(trainable))})")
    lines.append(f" Non-trainable params: {param_count(non_trainable):,} ({readable_size(param_bytes(non_trainable))})")
    if optimizer_variables:
        lines.append(f" Optimizer params: {param_count(optimizer_variables):,} "
                     f"({readable_size(param_bytes(optimizer_variables))})")
    if flops is not None:
        lines.append(f" Total FLOPs: {sum(flops.values()):,} per sample (forward)")
    return lines
