"""plot_model: Keras 3's picture of a model's layers, drawn without Graphviz: SVG as plain text, PNG (and PDF, JPG)
with matplotlib.

Each layer is a box as Keras draws it (a black title row, then activation, shapes, dtype and trainable cells);
edges follow the layers' calls (``inbound_nodes`` and their ``parent_nodes``), a Sequential model is a chain. The
layout is layered: a layer's rank is its longest path from an input, ranks run top to bottom (``rankdir='TB'``) or
left to right (``'LR'``). The model is only read through its public attributes (layers, ``output_shape_of``,
``inputs``), so this module stays below ``glassnet.models``.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

CHAR = 7.4  # width of one character of the 12-point text, in points
TITLE_CHAR = 8.6  # of the 14-point bold title
ROW = 24.0  # height of one row of a box
PAD = 10.0
RANK_GAP, BOX_GAP = 42.0, 26.0
FORMATS = ("svg", "png", "pdf", "jpg", "jpeg")


@dataclass
class Box:
    """One layer's box: its rows (a title, then lines of cells) and where the layout put it."""

    key: int
    name: str
    title: str
    rows: list[list[tuple[str, str]]] = field(default_factory=list)  # each row: cells of (text, fill colour)
    cluster: str = ""  # the nested model it belongs to (expand_nested)
    x: float = 0.0
    y: float = 0.0

    @property
    def width(self) -> float:
        widths = [len(self.title) * TITLE_CHAR] + [sum(len(t) * CHAR + 2 * PAD for t, _ in row) for row in self.rows]
        return max(widths) + 2 * PAD

    @property
    def height(self) -> float:
        return ROW * (1 + len(self.rows))


def _is_model(layer) -> bool:
    return callable(getattr(layer, "output_shape_of", None)) and hasattr(layer, "layers")


def _is_sequential(model) -> bool:
    return any(cls.__name__ == "Sequential" for cls in type(model).__mro__)


def _is_functional(model) -> bool:
    return any(cls.__name__ == "Functional" for cls in type(model).__mro__)


def _shape_text(shape) -> str:
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{k}: {_shape_text(v)}" for k, v in shape.items())
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple)):
        return "[" + ", ".join(_shape_text(s) for s in shape) + "]"
    return str(tuple(shape))


def _activation_name(layer) -> str:
    activation = layer.activation
    return getattr(activation, "name", None) or getattr(activation, "__name__", None) or str(activation)


class _Drawing:
    """The boxes and edges of a model (nested models expanded into clusters when asked)."""

    def __init__(self, model, options: dict, expand_nested: bool):
        self.options, self.expand_nested = options, expand_nested
        self.boxes: dict[int, Box] = {}
        self.edges: list[tuple[int, int]] = []
        self.add_model(model, "")

    def add_model(self, model, cluster: str) -> None:
        if not (_is_sequential(model) or _is_functional(model)):
            self.add_box(model, model, cluster)  # a subclassed model is one box, as in Keras
            return
        for layer in model.layers:
            if self.expand_nested and _is_model(layer):
                self.add_model(layer, layer.name)
            else:
                self.add_box(layer, model, cluster)
        if _is_sequential(model):
            for i in range(1, len(model.layers)):
                self.edge(self.last(model.layers[i - 1]), self.first(model.layers[i]))
            return
        members = {id(layer) for layer in model.layers}
        for layer in model.layers:
            for node in layer.inbound_nodes:
                parents = node.parent_nodes
                if not all(id(p.operation) in members for p in parents):
                    continue  # a call of a shared layer in another model
                for parent in parents:
                    self.edge(self.last(parent.operation), self.first(layer))

    def first(self, layer):
        """The box an edge into ``layer`` ends at: a nested model's first layer when expanded."""
        while self.expand_nested and _is_model(layer) and layer.layers:
            layer = layer.layers[0]
        return layer

    def last(self, layer):
        """The box an edge out of ``layer`` starts at: a nested model's output layer when expanded."""
        while self.expand_nested and _is_model(layer) and layer.layers:
            layer = layer.layers[-1]
        return layer

    def edge(self, source, target) -> None:
        pair = (id(source), id(target))
        if pair not in self.edges and source is not target:
            self.edges.append(pair)

    def add_box(self, layer, model, cluster: str) -> None:
        o = self.options
        class_name = type(layer).__name__
        box = Box(id(layer), layer.name, f"{layer.name} ({class_name})" if o["show_layer_names"] else class_name,
                  cluster=cluster)
        if o["show_layer_activations"] and getattr(layer, "activation", None) is not None:
            box.rows.append([(f"Activation: {_activation_name(layer)}", "white")])
        cells = []
        if o["show_shapes"]:
            if class_name != "InputLayer":
                cells.append((f"Input shape: {_shape_text(_input_shape(layer, model))}", "white"))
            cells.append((f"Output shape: {_shape_text(_output_shape(layer, model))}", "white"))
        if o["show_dtype"]:
            dtype = getattr(layer, "compute_dtype", None) or getattr(layer, "dtype", None)
            cells.append((f"Output dtype: {dtype or '?'}", "white"))
        if o["show_trainable"] and getattr(layer, "weights", None):
            cells.append(("Trainable", "forestgreen") if layer.trainable else ("Non-trainable", "firebrick"))
        if cells:
            box.rows.append(cells)
        self.boxes[id(layer)] = box

    # ----- layout ----------------------------------------------------------------------------------------------
    def layout(self, rankdir: str) -> tuple[float, float]:
        """Place the boxes in ranks; returns the drawing's (width, height)."""
        rank = {key: 0 for key in self.boxes}
        for _ in self.boxes:  # longest path from a source: at most one pass per box
            changed = False
            for source, target in self.edges:
                if rank[target] < rank[source] + 1:
                    rank[target], changed = rank[source] + 1, True
            if not changed:
                break
        for key in self.boxes:  # an input sits just before its first reader (no edge across the ranks between)
            targets = [rank[t] for s, t in self.edges if s == key]
            if targets and not any(t == key for _, t in self.edges):
                rank[key] = min(targets) - 1
        ranks: dict[int, list[Box]] = {}
        for key, box in self.boxes.items():
            ranks.setdefault(rank[key], []).append(box)
        across = [sum((b.width if rankdir == "TB" else b.height) for b in row) + BOX_GAP * (len(row) - 1)
                  for row in ranks.values()]
        total_across = max(across)
        position = PAD
        for r in sorted(ranks):
            row = ranks[r]
            depth = max((b.height if rankdir == "TB" else b.width) for b in row)
            offset = PAD + (total_across - across[list(ranks).index(r)]) / 2
            for b in row:
                if rankdir == "TB":
                    b.x, b.y = offset, position + (depth - b.height) / 2
                    offset += b.width + BOX_GAP
                else:
                    b.x, b.y = position + (depth - b.width) / 2, offset
                    offset += b.height + BOX_GAP
            position += depth + RANK_GAP
        extent = position - RANK_GAP + PAD
        return (total_across + 2 * PAD, extent) if rankdir == "TB" else (extent, total_across + 2 * PAD)

    def edge_points(self, source: Box, target: Box, rankdir: str, splines: str) -> list[tuple[float, float]]:
        if rankdir == "TB":
            start, end = (source.x + source.width / 2, source.y + source.height), (target.x + target.width / 2,
                                                                                   target.y)
            middle = [(start[0], (start[1] + end[1]) / 2), (end[0], (start[1] + end[1]) / 2)]
        else:
            start, end = (source.x + source.width, source.y + source.height / 2), (target.x,
                                                                                   target.y + target.height / 2)
            middle = [((start[0] + end[0]) / 2, start[1]), ((start[0] + end[0]) / 2, end[1])]
        return [start, *middle, end] if splines == "ortho" else [start, end]


def _output_shape(layer, model):
    try:
        return model.output_shape_of(layer)
    except (AttributeError, ValueError, TypeError):
        return None


def _input_shape(layer, model):
    """The shape(s) the layer reads: its symbolic input's, or in a Sequential the previous layer's output."""
    try:
        value = layer.input
        return [t.shape for t in value] if isinstance(value, list) else value.shape
    except (AttributeError, ValueError):
        pass
    layers = list(getattr(model, "layers", []))
    index = next((i for i, candidate in enumerate(layers) if candidate is layer), None)
    if index:
        return _output_shape(layers[index - 1], model)
    return getattr(model, "input_shape", None)


# ----- drawing ---------------------------------------------------------------------------------------------------
def _cells(box: Box):
    """(x, y, width, height, text, fill, bold, text colour) of every cell of a box, title first."""
    yield box.x, box.y, box.width, ROW, box.title, "black", True, "white"
    for k, row in enumerate(box.rows):
        total = sum(len(t) for t, _ in row) or 1
        x = box.x
        for text, fill in row:
            width = box.width * len(text) / total if len(row) > 1 else box.width
            yield x, box.y + ROW * (k + 1), width, ROW, text, fill, False, "black" if fill == "white" else "white"
            x += width


def to_svg(drawing: _Drawing, rankdir: str, splines: str) -> str:
    """The drawing as an SVG document (text)."""
    width, height = drawing.layout(rankdir)
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
           f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
           'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="black"/></marker></defs>',
           f'<rect width="{width:.0f}" height="{height:.0f}" fill="white"/>']
    for source, target in drawing.edges:
        points = drawing.edge_points(drawing.boxes[source], drawing.boxes[target], rankdir, splines)
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        ends = f'data-source="{escape(drawing.boxes[source].name)}" data-target="{escape(drawing.boxes[target].name)}"'
        out.append(f'<polyline class="edge" {ends} points="{path}" fill="none" stroke="black" '
                   'marker-end="url(#arrow)"/>')
    for box in drawing.boxes.values():
        out.append(f'<g class="layer" data-name="{escape(box.name)}">')
        for x, y, w, h, text, fill, bold, colour in _cells(box):
            out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="{fill}" '
                       'stroke="black"/>')
            weight = ' font-weight="bold"' if bold else ""
            out.append(f'<text x="{x + w / 2:.1f}" y="{y + h / 2 + 4.5:.1f}" text-anchor="middle" '
                       f'font-size="{14 if bold else 12}" fill="{colour}"{weight}>{escape(text)}</text>')
        out.append("</g>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _save_matplotlib(drawing: _Drawing, rankdir: str, splines: str, path: str, dpi: int, extension: str) -> None:
    """The same drawing through matplotlib (one point per layout unit), saved at ``dpi``."""
    try:
        import matplotlib

        matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
        from matplotlib.patches import Rectangle
    except ImportError as error:
        raise ImportError(f"plot_model draws .{extension} files with matplotlib, which is not installed: pip "
                          "install matplotlib (or write an .svg file, which needs nothing)") from error
    width, height = drawing.layout(rankdir)
    figure = plt.figure(figsize=(width / 72, height / 72))
    axes = figure.add_axes((0, 0, 1, 1))
    axes.set_xlim(0, width)
    axes.set_ylim(height, 0)
    axes.axis("off")
    for source, target in drawing.edges:
        points = drawing.edge_points(drawing.boxes[source], drawing.boxes[target], rankdir, splines)
        xs, ys = zip(*points)
        axes.plot(xs, ys, color="black", linewidth=1)
        axes.annotate("", xy=points[-1], xytext=points[-2], arrowprops={"arrowstyle": "-|>", "color": "black"})
    for box in drawing.boxes.values():
        for x, y, w, h, text, fill, bold, colour in _cells(box):
            axes.add_patch(Rectangle((x, y), w, h, facecolor=fill, edgecolor="black", linewidth=1))
            axes.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=14 if bold else 12,
                      color=colour, fontweight="bold" if bold else "normal")
    try:
        figure.savefig(path, dpi=dpi, format="jpg" if extension == "jpeg" else extension)
    finally:
        plt.close(figure)


def plot_model(model, to_file: str | os.PathLike = "model.png", show_shapes: bool = False, show_dtype: bool = False,
               show_layer_names: bool = False, rankdir: str = "TB", expand_nested: bool = False, dpi: int = 200,
               show_layer_activations: bool = False, show_trainable: bool = False, splines: str = "ortho",
               **kwargs):
    """``keras.utils.plot_model``: draw the model's layers to ``to_file`` (.svg as text, .png/.pdf/.jpg with
    matplotlib; no extension means .png). Returns IPython's Image/SVG of the file where IPython is installed."""
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")
    if not hasattr(model, "layers") or not callable(getattr(model, "output_shape_of", None)):
        raise TypeError(f"plot_model expects a glassnet model (Sequential, functional or subclassed), received "
                        f"{type(model).__name__}")
    if not model.built:
        raise ValueError("This model has not yet been built. Build the model first by calling `build()` or by "
                         "calling the model on a batch of data.")
    if rankdir not in ("TB", "LR"):
        raise ValueError(f"plot_model: argument `rankdir` must be 'TB' (top to bottom) or 'LR' (left to right), "
                         f"received {rankdir!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, int) or dpi <= 0:
        raise ValueError(f"plot_model: argument `dpi` must be a positive integer, received {dpi!r}")
    to_file = os.fspath(to_file)
    extension = os.path.splitext(to_file)[1][1:].lower() or "png"
    if extension not in FORMATS:
        raise ValueError(f"plot_model: the file's extension must be one of {', '.join(FORMATS)} (glassnet draws "
                         f"without Graphviz), received '{to_file}'")
    options = {"show_shapes": show_shapes, "show_dtype": show_dtype, "show_layer_names": show_layer_names,
               "show_layer_activations": show_layer_activations, "show_trainable": show_trainable}
    drawing = _Drawing(model, options, expand_nested)
    folder = os.path.dirname(os.path.abspath(to_file))
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise OSError(f"plot_model: cannot write '{to_file}': the folder '{folder}' does not exist or is not "
                      "writable")
    handle, temporary = tempfile.mkstemp(dir=folder, suffix=f".{extension}")  # written whole, then renamed
    os.close(handle)
    try:
        if extension == "svg":
            with open(temporary, "w", encoding="utf-8") as f:
                f.write(to_svg(drawing, rankdir, splines))
        else:
            _save_matplotlib(drawing, rankdir, splines, temporary, dpi, extension)
        os.replace(temporary, to_file)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return _displayed(to_file, extension)


def _displayed(path: str, extension: str):
    """IPython's view of the written file (as Keras returns it), or None without IPython or for a PDF."""
    if extension == "pdf":
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.SVG(filename=path) if extension == "svg" else display.Image(filename=path)
