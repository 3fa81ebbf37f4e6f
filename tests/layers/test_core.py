"""Layers: Dense math and shapes, the build/call lifecycle, names, errors, Dropout statistics, configs, weights."""

import numpy as np
import pytest

from glassnet import layers, ops
from glassnet.autodiff import Tensor, gradcheck
from glassnet.layers import (
    ELU,
    Activation,
    Dense,
    Dropout,
    Flatten,
    Input,
    InputLayer,
    KerasTensor,
    Layer,
    LeakyReLU,
    ReLU,
    Softmax,
)


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_uids()


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


# ----- Dense -------------------------------------------------------------------------------------------------------
def test_dense_forward_is_x_w_plus_b():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 4)).astype(np.float32)
    layer = Dense(3, bias_initializer="random_normal")
    out = layer(x)
    w, b = layer.get_weights()
    assert w.shape == (4, 3) and b.shape == (3,)  # kernel (fan_in, units): rows are samples
    np.testing.assert_allclose(out.numpy(), x @ w + b, rtol=1e-6)
    assert out.dtype == np.float32


def test_dense_activation_and_no_bias():
    x = np.array([[1.0, 2.0]], dtype=np.float32)
    layer = Dense(2, activation="sigmoid", use_bias=False, kernel_initializer="ones")
    np.testing.assert_allclose(layer(x).numpy(), sigmoid(np.array([[3.0, 3.0]])), rtol=1e-6)
    assert [v.name for v in layer.weights] == ["dense/kernel"]


def test_dense_on_rank_3_inputs_uses_the_last_axis():
    x = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    layer = Dense(5)
    out = layer(x)
    assert out.shape == (2, 3, 5)
    np.testing.assert_allclose(out.numpy(), x @ layer.kernel.numpy(), rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 4)) == (None, 3, 5)


def test_course_2_3_1_network_parameter_counts():
    hidden, output = Dense(3, activation="sigmoid", input_shape=(2,)), Dense(1)
    x = np.array([[0.0, 1.0], [1.0, 1.0]], dtype=np.float32)
    y = output(hidden(x))
    assert y.shape == (2, 1)
    assert hidden.count_params() == 2 * 3 + 3 == 9
    assert output.count_params() == 3 * 1 + 1 == 4
    w1, b1 = hidden.get_weights()
    w2, b2 = output.get_weights()
    np.testing.assert_allclose(y.numpy(), sigmoid(x @ w1 + b1) @ w2 + b2, rtol=1e-6, atol=1e-6)  # float32 sums


def test_dense_gradients_by_central_differences():
    layer = Dense(3, activation="tanh", dtype="float64")
    layer.build((None, 4))
    layer.bias.assign(np.array([0.1, -0.2, 0.3]))
    x = np.random.default_rng(1).normal(size=(5, 4))
    gradcheck(layer, [x])  # d/dx through the layer
    layer.kernel.grad = layer.bias.grad = None
    out = ops.sum(layer(Tensor(x)))
    out.backward()
    a = np.tanh(x @ layer.kernel.numpy() + layer.bias.numpy())
    np.testing.assert_allclose(layer.kernel.grad, x.T @ (1 - a**2), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad, (1 - a**2).sum(axis=0), rtol=1e-10)


def test_dense_rejects_bad_units():
    with pytest.raises(ValueError, match="units=0"):
        Dense(0)


# ----- lifecycle, names, errors ------------------------------------------------------------------------------------
def test_wrong_input_dimension_names_layer_expected_and_received():
    layer = Dense(10, input_shape=(784,))
    layer(np.zeros((32, 784), dtype=np.float32))
    second = Dense(10)
    second.build((None, 784))
    with pytest.raises(ValueError, match=r"Dense 'dense_1' expects inputs with last dimension 784, received shape "
                                         r"\(32, 100\)"):
        second(np.zeros((32, 100), dtype=np.float32))
    with pytest.raises(ValueError, match=r"Dense 'dense' expects inputs with at least 2 dimensions.*\(784,\)"):
        layer(np.zeros(784, dtype=np.float32))


def test_automatic_names_are_unique_per_class():
    names = [Dense(1).name, Dense(1).name, Dropout(0.1).name, Dense(1).name, ReLU().name, InputLayer((3,)).name]
    assert names == ["dense", "dense_1", "dropout", "dense_2", "re_lu", "input_layer"]
    assert Dense(1, name="out").name == "out"
    layers.reset_uids()
    assert Dense(1).name == "dense"
    with pytest.raises(ValueError, match="name"):
        Dense(1, name="a/b")


def test_lazy_build_and_explicit_build():
    layer = Dense(4)
    assert not layer.built and layer.weights == []
    with pytest.raises(ValueError, match="isn't built"):
        layer.count_params()
    with pytest.raises(AttributeError, match="input_shape"):  # gone in Keras 3: a layer may be called on many
        _ = layer.input_shape
    layer.build((None, 6))
    assert layer.built and layer.count_params() == 28
    assert layer.get_build_config() == {"input_shape": (None, 6)}
    assert layer.compute_output_shape((None, 6)) == (None, 4)


def test_ops_are_labelled_with_the_layer_name():
    layer = Dense(2, activation="relu", name="hidden")
    x = Tensor(np.ones((1, 3), dtype=np.float32))
    out = layer(x)
    assert out.op.scope == "hidden" and out.op.inputs[0].op.scope == "hidden"


def test_input_shape_kwargs_are_kept_for_sequential():
    assert Dense(16, activation="relu", input_shape=(10000,))._input_shape_arg == (10000,)
    assert Dense(16, input_dim=8)._input_shape_arg == (8,)
    layer = Dense(16, input_shape=(4,), batch_size=32)
    assert (layer._input_shape_arg, layer._batch_size_arg) == ((4,), 32)
    assert Dense(3)._input_shape_arg is None


def test_unknown_keyword_arguments_are_named():
    with pytest.raises(TypeError, match=r"Unrecognized keyword arguments passed to Dense: \{'activaton': 'relu'\}"):
        Dense(3, activaton="relu")


def test_float64_data_is_cast_to_the_layer_dtype():
    layer = Dense(2)
    assert layer(np.ones((3, 4))).dtype == np.float32
    assert Dense(2, dtype="float64")(np.ones((3, 4), dtype=np.float32)).dtype == np.float64


def test_trainable_false_freezes_the_weights():
    layer = Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    out = ops.sum(layer(Tensor(np.ones((1, 3), dtype=np.float32), requires_grad=True)))
    out.backward()
    assert layer.kernel.grad is None
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer.kernel.trainable


def test_non_trainable_weight_is_listed_after_trainable_ones():
    class Scaled(Layer):
        def build(self, input_shape):
            self.scale = self.add_weight((), "ones", trainable=False, name="scale")
            self.shift = self.add_weight((input_shape[-1],), "zeros", name="shift")

        def call(self, x):
            return x * self.scale + self.shift

    layer = Scaled()
    layer(np.ones((2, 3), dtype=np.float32))
    assert [v.name for v in layer.weights] == ["scaled/shift", "scaled/scale"]
    assert layer.non_trainable_weights == [layer.scale]
    assert layer.compute_output_shape((None, 3)) == (None, 3)  # found by running call


# ----- weights -----------------------------------------------------------------------------------------------------
def test_set_weights_checks_length_and_shapes():
    layer = Dense(3)
    layer.build((None, 2))
    w, b = np.arange(6, dtype=np.float32).reshape(2, 3), np.array([1, 2, 3], dtype=np.float32)
    layer.set_weights([w, b])
    np.testing.assert_array_equal(layer.kernel.numpy(), w)
    returned = layer.get_weights()
    returned[0][0, 0] = 99  # a copy: the layer is unchanged
    assert layer.kernel.numpy()[0, 0] == 0
    with pytest.raises(ValueError, match="weight list of length 1, but the layer was expecting 2 weights"):
        layer.set_weights([w])
    with pytest.raises(ValueError, match=r"weight shape \(2, 3\).*not compatible with provided weight shape \(3, 2\)"):
        layer.set_weights([w.T, b])
    np.testing.assert_array_equal(layer.kernel.numpy(), w)  # nothing assigned on error


# ----- Dropout -----------------------------------------------------------------------------------------------------
def test_dropout_is_identity_at_inference():
    x = np.random.default_rng(0).normal(size=(8, 5)).astype(np.float32)
    assert np.array_equal(Dropout(0.5)(x).numpy(), x)
    assert np.array_equal(Dropout(0.5)(x, training=False).numpy(), x)


def test_dropout_in_training_zeroes_about_rate_and_preserves_the_mean():
    rate = 0.3
    x = np.full((400, 500), 2.0, dtype=np.float32)
    out = Dropout(rate, seed=0)(x, training=True).numpy()
    dropped = out == 0
    assert abs(dropped.mean() - rate) < 0.005
    np.testing.assert_allclose(out[~dropped], 2.0 / (1 - rate), rtol=1e-6)  # inverted dropout scaling
    assert abs(out.mean() - 2.0) < 0.02


def test_dropout_gradient_uses_the_same_mask():
    x = Tensor(np.ones((50, 40), dtype=np.float32), requires_grad=True)
    out = Dropout(0.5, seed=1)(x, training=True)
    ops.sum(out).backward()
    np.testing.assert_array_equal(x.grad, out.numpy())  # d(sum(x·m))/dx = m, and out = 1·m


def test_dropout_seed_noise_shape_and_validation():
    x = np.ones((6, 10), dtype=np.float32)
    a, b = Dropout(0.5, seed=3), Dropout(0.5, seed=3)
    assert np.array_equal(a(x, training=True).numpy(), b(x, training=True).numpy())
    assert not np.array_equal(a(x, training=True).numpy(), a(x, training=True).numpy())  # a new mask each call
    shared = Dropout(0.5, noise_shape=(None, 1), seed=0)(x, training=True).numpy()
    assert all(len(set(row)) == 1 for row in shared)  # one decision per sample, shared across features
    assert np.array_equal(Dropout(0.0)(x, training=True).numpy(), x)
    for bad in (1.0, -0.1, "0.5"):
        with pytest.raises(ValueError, match="rate"):
            Dropout(bad)


# ----- Flatten, Activation layers, Input -------------------------------------------------------------------------
def test_flatten():
    x = np.arange(2 * 28 * 28, dtype=np.float32).reshape(2, 28, 28)
    out = Flatten()(x)
    np.testing.assert_array_equal(out.numpy(), x.reshape(2, 784))
    assert Flatten().compute_output_shape((None, 28, 28)) == (None, 784)
    assert Flatten()(np.ones(5, dtype=np.float32)).shape == (5, 1)


@pytest.mark.parametrize(
    ("layer", "closed_form"),
    [(Activation("tanh"), np.tanh), (ReLU(), lambda z: np.maximum(z, 0)),
     (ReLU(max_value=1.0), lambda z: np.clip(z, 0, 1)), (LeakyReLU(), lambda z: np.where(z > 0, z, 0.3 * z)),
     (ELU(alpha=0.5), lambda z: np.where(z > 0, z, 0.5 * (np.exp(z) - 1))),
     (Softmax(), lambda z: np.exp(z) / np.exp(z).sum(-1, keepdims=True))],
)
def test_activation_layers(layer, closed_form):
    z = np.array([[-2.0, -0.5, 0.5, 3.0]], dtype=np.float32)
    np.testing.assert_allclose(layer(z).numpy(), closed_form(z), rtol=1e-6)
    assert layer.weights == [] and layer.compute_output_shape((None, 4)) == (None, 4)


def test_input_declares_the_shape():
    t = Input(shape=(784,))
    assert isinstance(t, KerasTensor) and t.shape == (None, 784) and t.dtype == "float32"
    assert isinstance(t.operation, InputLayer) and t.operation._input_shape_arg == (784,)
    layer = InputLayer(shape=(3,))
    x = np.ones((2, 3), dtype=np.float32)
    assert np.array_equal(layer(x).numpy(), x)
    with pytest.raises(ValueError, match=r"InputLayer 'input_layer_1' expects inputs of shape \(None, 3\), received"):
        layer(np.ones((2, 4), dtype=np.float32))
    with pytest.raises(ValueError, match="shape"):
        InputLayer()


# ----- configs -----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "layer",
    [Dense(4, activation="relu", kernel_initializer="he_normal", kernel_regularizer="l2", input_shape=(3,)),
     Activation("softmax"), Dropout(0.25, seed=2), Flatten(), ReLU(max_value=6.0), LeakyReLU(0.1), ELU(2.0),
     Softmax(axis=1), InputLayer(shape=(3,))],
)
def test_get_config_from_config_round_trip(layer):
    config = layers.serialize(layer)
    rebuilt = layers.deserialize(config)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    out = layer(x)
    if layer.weights:
        rebuilt.build(layer.get_build_config()["input_shape"])
        rebuilt.set_weights(layer.get_weights())
    np.testing.assert_allclose(rebuilt(x).numpy(), out.numpy())


def test_deserialize_knows_only_listed_classes():
    with pytest.raises(ValueError, match="Unknown layer: 'PythonCode'"):  # never built from a name it lacks
        layers.deserialize({"class_name": "PythonCode", "config": {}})

    class Custom(Layer):
        pass

    assert isinstance(layers.deserialize({"class_name": "Custom", "config": {}}, custom_objects={"Custom": Custom}),
                      Custom)
    assert isinstance(layers.get("Flatten"), Flatten)
