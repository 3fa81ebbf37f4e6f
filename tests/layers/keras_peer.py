"""The same program in Keras 3 and in glassnet, compared: what every layer test of this folder checks."""

import os

import numpy as np

import glassnet as gk
from glassnet import layers

TOLERANCE = {"rtol": 1e-5, "atol": 1e-5}


def summary_text(model) -> str:
    """The text of ``model.summary()``; Keras prints it through rich, whose console is as wide as COLUMNS."""
    lines, columns = [], os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "120"
    try:
        model.summary(line_length=96, print_fn=lambda text, **_: lines.append(text))
    finally:
        os.environ.pop("COLUMNS") if columns is None else os.environ.__setitem__("COLUMNS", columns)
    return "\n".join(lines).strip()


def same_logs(got: dict, expected: dict, rtol: float = 1e-4, atol: float = 1e-5) -> None:
    """Two History (or evaluate) dicts with the same keys and values within tolerance."""
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], np.asarray(expected[key]), rtol=rtol, atol=atol)


def comparable(config: dict) -> dict:
    """A layer config without the keys each library fills its own way (name, dtype policy) and with initializers
    reduced to their class name and arguments (Keras also stores its module)."""
    out = {}
    for key, value in config.items():
        if key in ("name", "trainable", "dtype"):
            continue
        if isinstance(value, dict) and "class_name" in value:
            value = (value["class_name"], value.get("config"))
        out[key] = value
    return out


def same_program(keras, input_shape, make, x, random_weights: bool = False):
    """``Sequential([Input(input_shape), *make(layers)])`` in Keras and in glassnet, glassnet's weights set from
    Keras's (made random first when asked): the two agree on the outputs for ``x`` at inference, the parameter
    counts, every layer's output shape and the summary."""
    keras.utils.clear_session(free_memory=False)  # automatic names restart in both: conv2d, conv2d_1, ...
    layers.reset_uids()
    km = keras.Sequential([keras.Input(input_shape), *make(keras.layers)])
    gm = gk.Sequential([gk.Input(input_shape), *make(gk.layers)])
    if random_weights:
        rng = np.random.default_rng(5)
        km.set_weights([rng.normal(size=w.shape).astype("float32") for w in km.get_weights()])
    assert [w.shape for w in gm.get_weights()] == [tuple(w.shape) for w in km.get_weights()]
    gm.set_weights(km.get_weights())
    expected = keras.ops.convert_to_numpy(km(x, training=False))
    got = gm(x, training=False).numpy()
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, **TOLERANCE)
    assert gm.count_params() == km.count_params()
    assert [gm.output_shape_of(layer) for layer in gm.layers] == [tuple(layer.output.shape) for layer in km.layers]
    assert summary_text(gm) == summary_text(km)
    return km, gm


def same_layer(keras, input_shape, name: str, config: dict, x):
    """One layer after an Input, as ``same_program`` compares it (with random weights), plus its weights' names and
    its config, which also rebuilds the layer."""
    km, gm = same_program(keras, input_shape, lambda ls: [getattr(ls, name)(**config)], x, random_weights=True)
    assert [w.name for w in gm.weights] == [w.path.split("/", 1)[1] for w in km.weights]  # Keras adds the model
    k_config, g_config = comparable(km.layers[0].get_config()), comparable(gm.layers[0].get_config())
    assert {k: g_config.get(k, "missing") for k in k_config} == k_config
    rebuilt = layers.deserialize(layers.serialize(gm.layers[0]))
    assert rebuilt.get_config() == gm.layers[0].get_config()
    return km, gm


def round_trips(keras, model, x, folder) -> None:
    """``model`` saved in glassnet's format and loaded back predicts the same; saved as a .keras file, Keras loads it
    and predicts the same; saved again by Keras, glassnet loads the same layers and predicts the same."""
    model.save(folder / "native.keras")
    np.testing.assert_array_equal(gk.models.load_model(folder / "native.keras").predict(x, verbose=0),
                                  model.predict(x, verbose=0))
    model.save(folder / "for_keras.keras", format="keras")
    km = keras.models.load_model(folder / "for_keras.keras")
    np.testing.assert_allclose(km.predict(x, verbose=0), model.predict(x, verbose=0), **TOLERANCE)
    km.save(folder / "from_keras.keras")
    back = gk.models.load_model(folder / "from_keras.keras")
    assert [type(layer).__name__ for layer in back.layers] == [type(layer).__name__ for layer in model.layers]
    np.testing.assert_allclose(back.predict(x, verbose=0), model.predict(x, verbose=0), **TOLERANCE)
