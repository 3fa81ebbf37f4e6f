"""Sequential: building, parameter counts (the course's 2-3-1 net, Chollet's models), Keras 3's summary table,
weights get/set with checked shapes, configs."""

import numpy as np
import pytest

from glassnet import layers, models
from glassnet.layers import Dense, Input


def course_net():
    return models.Sequential([Dense(3, activation="tanh", input_shape=(2,)), Dense(1, activation="sigmoid")])


def summary_text(model, **kwargs):
    lines = []
    model.summary(print_fn=lines.append, **kwargs)
    return "\n".join(lines)


def test_course_2_3_1_network_counts_13_parameters_and_gives_one_output_per_sample():
    model = course_net()
    assert model.count_params() == 2 * 3 + 3 + 3 * 1 + 1 == 13
    out = model.predict(np.ones((5, 2)), verbose=0)
    assert out.shape == (5, 1)
    a1 = np.tanh(np.ones((5, 2)) @ model.get_weights()[0] + model.get_weights()[1])
    expected = 1 / (1 + np.exp(-(a1 @ model.get_weights()[2] + model.get_weights()[3])))
    np.testing.assert_allclose(out, expected, rtol=1e-5)
    text = summary_text(model)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert rows[0].rstrip("│ ").endswith("9") and rows[1].rstrip("│ ").endswith("4")


@pytest.mark.parametrize("build, expected", [
    (lambda: [Dense(512, activation="relu", input_shape=(784,)), Dense(10, activation="softmax")], 407_050),
    (lambda: [Dense(16, activation="relu", input_shape=(10000,)), Dense(16, activation="relu"),
              Dense(1, activation="sigmoid")], 160_305),
    (lambda: [Dense(64, activation="relu", input_shape=(13,)), Dense(64, activation="relu"), Dense(1)], 5_121),
])
def test_chollet_models_parameter_counts(build, expected):
    model = models.Sequential(build())
    assert model.count_params() == expected == sum(w.size for w in model.get_weights())


def test_summary_reproduces_keras3_layout():
    layers.clear_session()
    model = models.Sequential([Input((784,)), Dense(512, activation="relu"), Dense(10, activation="softmax")])
    # Keras 3 at its default width in an 80-column terminal (line_length 76): rich table, widths 31/22/13
    expected = "\n".join([
        'Model: "sequential"',
        "┏" + "━" * 33 + "┳" + "━" * 24 + "┳" + "━" * 15 + "┓",
        "┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃",
        "┡" + "━" * 33 + "╇" + "━" * 24 + "╇" + "━" * 15 + "┩",
        "│ dense (Dense)                   │ (None, 512)            │       401,920 │",
        "├" + "─" * 33 + "┼" + "─" * 24 + "┼" + "─" * 15 + "┤",
        "│ dense_1 (Dense)                 │ (None, 10)             │         5,130 │",
        "└" + "─" * 33 + "┴" + "─" * 24 + "┴" + "─" * 15 + "┘",
        " Total params: 407,050 (1.55 MB)",
        " Trainable params: 407,050 (1.55 MB)",
        " Non-trainable params: 0 (0.00 B)",
    ])
    assert summary_text(model, line_length=76) == expected
    assert 407_050 * 4 / 1024**2 == pytest.approx(1.5528, abs=1e-4)  # the "1.55 MB": float32 bytes in MiB


def test_summary_wraps_long_cells_and_unbuilt_model_says_so():
    model = models.Sequential([Dense(4, name="a_rather_long_layer_name_for_wrapping")])
    text = summary_text(model, line_length=76)
    rows = [line for line in text.splitlines() if line.startswith("│")]
    assert rows[0].startswith("│ a_rather_long_layer_name_for_wr │ ?  ")  # 31 characters, then the rest below
    assert rows[1].startswith("│ apping (Dense)                  │    ")
    assert "0 (unbuilt)" in text and " Total params: 0 (0.00 B)" in text
    assert all(len(line) == 76 for line in text.splitlines()[1:-3])
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()


def test_add_pop_and_lazy_build_on_first_call():
    model = models.Sequential()
    model.add(Dense(4, activation="relu"))
    model.add(Dense(2))
    assert not model.built
    out = model(np.zeros((3, 5)))
    assert model.built and out.shape == (3, 2) and model.input_shape == (None, 5)
    assert [w.shape for w in model.weights] == [(5, 4), (4,), (4, 2), (2,)]
    popped = model.pop()
    assert popped.units == 2 and len(model.layers) == 1
    with pytest.raises(ValueError, match="Only instances of `glassnet.layers.Layer`"):
        model.add("dense")


def test_input_object_first_declares_the_shape_and_builds():
    model = models.Sequential()
    model.add(Input(shape=(6,)))
    model.add(Dense(2))
    assert model.built and model.count_params() == 14 and len(model.layers) == 1
    with pytest.raises(ValueError, match="Input"):
        model.add(Input(shape=(3,)))


def test_set_weights_checks_length_and_shapes_before_changing_anything():
    model = course_net()
    before = model.get_weights()
    with pytest.raises(ValueError, match="length 3, but the model was expecting 4 weights"):
        model.set_weights(before[:3])
    bad = [np.zeros((2, 3)), np.zeros(3), np.zeros((3, 2)), np.zeros(1)]
    with pytest.raises(ValueError, match=r"shape \(3, 1\) \(weight 2.*not compatible with .* shape \(3, 2\)"):
        model.set_weights(bad)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    new = [np.full(w.shape, 0.5, dtype=np.float32) for w in before]
    model.set_weights(new)
    assert all(np.all(w == 0.5) for w in model.get_weights())


def test_trainable_weights_and_frozen_layers():
    model = course_net()
    model.layers[0].trainable = False
    assert len(model.trainable_weights) == 2 and len(model.non_trainable_weights) == 2
    text = summary_text(model)
    assert " Trainable params: 4 (16.00 B)" in text and " Non-trainable params: 9 (36.00 B)" in text


def test_get_config_from_config_round_trip():
    model = course_net()
    clone = models.Sequential.from_config(model.get_config())
    assert [type(layer).__name__ for layer in clone.layers] == ["Dense", "Dense"]
    assert clone.count_params() == 13 and clone.input_shape == (None, 2)
    assert clone.layers[0].activation.__name__ == model.layers[0].activation.__name__


def test_wrong_feature_dimension_is_named_at_the_call():
    model = course_net()
    with pytest.raises(ValueError, match=r"expects inputs of shape \(None, 2\)"):
        model(np.zeros((4, 3)))
