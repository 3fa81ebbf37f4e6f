"""Lambda: the same program in Keras 3 and glassnet (outputs, gradients, shapes, summary, masks, arguments), and
how it is saved: by its function's name only, a Python lambda refused on load with Keras's message."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers, ops
from glassnet.autodiff import Tensor
from glassnet.layers.core_lambda import LAMBDA_MESSAGE
from tests.layers.keras_peer import TOLERANCE, same_program

X = np.random.default_rng(0).normal(size=(3, 4, 5)).astype("float32")


def shift_scale(x, scale=1.0, shift=0.0):
    return x * scale + shift


def halves(input_shape):
    return (*input_shape[:-1], input_shape[-1] // 2)


CASES = {
    "python-lambda": lambda ls, o: ls.Lambda(lambda x: o.square(x) + 1.0),
    "arguments": lambda ls, o: ls.Lambda(shift_scale, arguments={"scale": 2.0, "shift": -0.5}),
    "inferred-shape": lambda ls, o: ls.Lambda(lambda x: o.sum(x, axis=-1, keepdims=True)),
    "output-shape": lambda ls, o: ls.Lambda(lambda x: x[..., :2] * x[..., 2:4], output_shape=(4, 2)),
    "output-shape-function": lambda ls, o: ls.Lambda(lambda x: x[..., :2] - x[..., 2:4], output_shape=halves),
}


@pytest.mark.parametrize("make", CASES.values(), ids=CASES.keys())
def test_lambda_is_the_keras_lambda_with_its_gradients(keras, make):
    torch = pytest.importorskip("torch")
    km, gm = same_program(keras, (4, 5), lambda ls: [make(ls, keras.ops if ls is keras.layers else ops),
                                                     ls.Dense(3)], X, random_weights=True)
    assert gm.layers[0].name == km.layers[0].name == "lambda"
    xt = torch.tensor(X, requires_grad=True)
    km(xt).sum().backward()
    xg = Tensor(X, requires_grad=True)
    gm(xg).sum().backward()
    np.testing.assert_allclose(xg.grad, xt.grad.numpy(), **TOLERANCE)


@pytest.mark.filterwarnings("ignore:Layer .lambda.*does not support masking")  # Keras, for the Lambda without mask
def test_function_gets_mask_and_training_and_the_mask_argument_sets_the_output_mask(keras):
    seen = {}

    def record(x, mask=None, training=None):
        seen.update(mask=mask, training=training)
        return x * 2.0

    model = gk.Sequential([gk.Input((4, 5)), layers.Masking(0.0), layers.Lambda(record, mask=lambda x, m: m)])
    x = X.copy()
    x[0, 2:] = 0.0
    out = model(x, training=True)
    expected = (x != 0).any(axis=-1)
    np.testing.assert_array_equal(seen["mask"].numpy(), expected)
    assert seen["training"] is True
    np.testing.assert_array_equal(out._keras_mask.numpy(), expected)
    keras_layer = keras.layers.Lambda(lambda x: x * 2.0, mask=lambda x, m: m)
    keras_out = keras_layer(keras.layers.Masking(0.0)(x))
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(keras_out._keras_mask), expected)
    no_mask = layers.Lambda(lambda x: x * 1.0)(layers.Masking(0.0)(x))
    keras_no_mask = keras.layers.Lambda(lambda x: x * 1.0)(keras.layers.Masking(0.0)(x))
    assert getattr(no_mask, "_keras_mask", None) is getattr(keras_no_mask, "_keras_mask", None) is None


def test_config_names_the_function_and_custom_objects_bring_it_back(keras):
    layer = layers.Lambda(shift_scale, output_shape=halves, arguments={"scale": 3.0})
    config = layer.get_config()
    assert config["function"] == {"module": __name__, "class_name": "function", "config": "shift_scale",
                                  "registered_name": "shift_scale"}
    assert config["output_shape"]["config"] == "halves" and config["arguments"] == {"scale": 3.0}
    keras_config = keras.layers.Lambda(shift_scale, output_shape=halves, arguments={"scale": 3.0}).get_config()
    assert {k: keras_config[k]["config"] for k in ("function", "output_shape")} == {
        "function": "shift_scale", "output_shape": "halves"}
    again = layers.deserialize(layers.serialize(layer), custom_objects={"shift_scale": shift_scale,
                                                                        "halves": halves})
    np.testing.assert_allclose(again(X).numpy(), X * 3.0)
    assert again.get_config() == config
    with pytest.raises(ValueError, match=r"Could not locate function 'shift_scale'.*custom_objects="):
        layers.deserialize(layers.serialize(layer))


def test_a_python_lambda_is_refused_on_load_with_keras_message(keras):
    config = layers.serialize(layers.Lambda(lambda x: x + 1.0))
    assert config["config"]["function"]["class_name"] == "__lambda__"
    assert "code" not in config["config"]["function"]["config"]  # glassnet's configs never hold code
    with pytest.raises(ValueError) as refused:
        layers.deserialize(config)
    keras_config = keras.layers.Lambda(lambda x: x + 1.0).get_config()
    with pytest.raises(ValueError) as keras_refused:
        keras.layers.Lambda.from_config(keras_config, safe_mode=True)
    assert str(refused.value) == str(keras_refused.value) == LAMBDA_MESSAGE
    with pytest.raises(ValueError, match="glassnet never runs"):  # Keras's own bytecode: not run, not in any mode
        layers.Lambda.from_config(keras_config, safe_mode=False)


def test_a_model_with_a_named_lambda_trains_on_replayed_steps():
    def run(run_eagerly):
        layers.reset_uids()
        gk.utils.set_random_seed(1)
        model = gk.Sequential([gk.Input((4, 5)), layers.Lambda(shift_scale, arguments={"scale": 0.5}),
                               layers.Flatten(), layers.Dense(1)])
        model.compile("sgd", "mse", run_eagerly=run_eagerly)
        model.fit(np.tile(X, (4, 1, 1)), np.arange(12.0), batch_size=4, epochs=2, shuffle=False, verbose=0)
        return model.get_weights()

    for a, b in zip(run(True), run(False)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match=r"callable `function`, received 3"):
        layers.Lambda(3)
    with pytest.raises(ValueError, match=r"`arguments` must be a dict"):
        layers.Lambda(shift_scale, arguments=[1.0])
    with pytest.raises(ValueError, match=r"config must name its `function`"):
        layers.deserialize({"class_name": "Lambda", "config": {}})


def test_a_python_lambda_is_never_written_and_keras_files_with_one_are_refused(keras, tmp_path):
    """glassnet writes no code into a file, so saving a Lambda is refused before anything is written; a .keras
    file in which Keras stored a lambda's bytecode is refused on load with Keras's own message."""
    with pytest.raises(ValueError, match="Lambda layers, whose Python code glassnet never writes"):
        gk.Sequential([gk.Input((4, 5)), layers.Lambda(lambda x: x + 1.0)]).save(tmp_path / "mine.keras")
    assert not any(tmp_path.iterdir())
    keras.Sequential([keras.Input((4, 5)), keras.layers.Lambda(lambda x: x + 1.0)]).save(tmp_path / "theirs.keras")
    with pytest.raises(Exception, match="Requested the deserialization of a `Lambda` layer"):
        gk.models.load_model(tmp_path / "theirs.keras")
