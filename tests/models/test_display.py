"""Rich display: the HTML summary carries exactly the text summary's rows and totals."""

from html.parser import HTMLParser

import glassnet as keras
from glassnet.models import display
from glassnet.models.summary import summary_lines


class _Table(HTMLParser):
    """Collects the text of every table row's cells, and the caption."""

    def __init__(self):
        super().__init__()
        self.rows, self.caption, self._cell, self._in_caption = [], "", None, False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = ""
        elif tag == "caption":
            self._in_caption = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.rows[-1].append(self._cell)
            self._cell = None
        elif tag == "caption":
            self._in_caption = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell += data
        elif self._in_caption:
            self.caption += data


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="tanh", name="hidden"),
                              keras.layers.Dense(1, activation="sigmoid", name="out<&>")], name="two_three_one")
    model.compile(optimizer="adam", loss="binary_crossentropy")
    return model


def test_html_summary_has_the_layers_shapes_and_counts_of_the_2_3_1_network():
    model = _model()
    table = _Table()
    table.feed(display.summary_html(model))
    assert table.caption == 'Model: "two_three_one"'
    assert table.rows == [["Layer (type)", "Output Shape", "Param #"],
                          ["hidden (Dense)", "(None, 3)", f"{2 * 3 + 3}"],   # W[1]: 2×3, b[1]: 3
                          ["out<&> (Dense)", "(None, 1)", f"{3 * 1 + 1}"]]   # W[2]: 3×1, b[2]: 1; name escaped


def test_html_totals_equal_the_text_summary():
    model = _model()
    text = "\n".join(summary_lines(model, line_length=80))
    totals = display.summary_totals(model)
    assert totals[0] == ("Total params", "13 (52.00 B)")  # 13 float32 parameters, before any optimizer state
    for label, value in totals:
        assert f" {label}: {value}" in text
