"""keras.constraints against Keras 3 (torch backend): each constraint's values, configs, names and errors, and the
optimizer applying ``variable.constraint`` right after each update: a few steps of fit from identical weights give
Keras's weights (a Dense kernel large enough for the compiled update, a Conv2D kernel, a bias)."""

import numpy as np
import pytest

import glassnet
from glassnet import constraints, optimizers
from glassnet.autodiff.tensor import Variable
from glassnet.kernels import updates

CASES = [
    ("MaxNorm", {}), ("MaxNorm", {"max_value": 0.7, "axis": 1}), ("MaxNorm", {"max_value": 1.5, "axis": [0, 1, 2]}),
    ("MinMaxNorm", {}), ("MinMaxNorm", {"min_value": 1.2, "max_value": 1.6, "rate": 0.5, "axis": 1}),
    ("NonNeg", {}), ("UnitNorm", {}), ("UnitNorm", {"axis": [0, 1, 2]}), ("Constraint", {}),
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_values_and_configs_equal_keras(keras, name, kwargs):
    w = np.random.default_rng(0).standard_normal((3, 3, 4, 5)).astype("float32")
    ours, theirs = getattr(constraints, name)(**kwargs), getattr(keras.constraints, name)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(keras.ops.convert_to_tensor(w)))
    got = ours(w)
    assert got.dtype == "float32"
    np.testing.assert_allclose(got.numpy(), expected, atol=1e-6, rtol=1e-6)
    assert ours.get_config() == theirs.get_config()
    again = constraints.deserialize(constraints.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()


def test_names_get_and_errors_as_keras(keras):
    for alias in ("max_norm", "min_max_norm", "non_neg", "unit_norm", "MaxNorm", "NonNeg"):
        assert type(constraints.get(alias)).__name__ == type(keras.constraints.get(alias)).__name__
    assert constraints.get(None) is None and constraints.get(constraints.NonNeg) is not None
    assert isinstance(constraints.get({"class_name": "MaxNorm", "config": {"max_value": 3}}), constraints.MaxNorm)
    custom = constraints.get(lambda w: w * 0)
    assert callable(custom)
    for bad in ("no_such", 3):
        with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
            keras.constraints.get(bad)
        with pytest.raises(ValueError, match="Could not interpret constraint identifier"):
            constraints.get(bad)
    with pytest.raises(ValueError, match="Unknown constraint: 'Nope'"):
        constraints.deserialize({"class_name": "Nope", "config": {}})
    variable = Variable(np.zeros(2, "float32"))
    assert variable.constraint is None
    with pytest.raises(ValueError, match="Invalid value for attribute `constraint`.*Received: constraint=3"):
        variable.constraint = 3
    with pytest.raises(ValueError, match="Invalid value for attribute `constraint`"):
        keras.Variable(np.zeros(2)).constraint = 3


def models(keras, lib, conv: bool):
    """The same small model in Keras or glassnet, with constraints on a Dense kernel (80×64: the compiled update
    when Numba runs), a Dense bias and (``conv``) a Conv2D kernel."""
    L = lib.layers
    head = [L.Input((6, 6, 2)), L.Conv2D(3, 3, kernel_constraint=lib.constraints.MaxNorm(0.3, axis=[0, 1, 2]),
                                         bias_constraint="non_neg"), L.Flatten()] if conv else [L.Input((80,))]
    return lib.Sequential([*head, L.Dense(64, activation="tanh", kernel_constraint=lib.constraints.MaxNorm(0.6),
                                          bias_constraint=lib.constraints.NonNeg()),
                           L.Dense(2, kernel_constraint=lib.constraints.UnitNorm(axis=0))])


@pytest.mark.parametrize("conv", [False, True])
def test_fit_applies_constraints_after_each_update_as_keras(keras, conv):
    assert 80 * 64 >= updates.COMPILED_MIN_SIZE
    rng = np.random.default_rng(1)
    x = rng.standard_normal((32, 6, 6, 2) if conv else (32, 80)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    theirs = models(keras, keras, conv)
    ours = models(keras, glassnet, conv)
    start = [w * 3 for w in theirs.get_weights()]  # norms well past the bounds, negative biases
    theirs.set_weights(start)
    ours.set_weights(start)
    for model, lib in ((theirs, keras), (ours, glassnet)):
        model.compile(optimizer=lib.optimizers.SGD(0.05, momentum=0.9), loss="mse")
        model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-5, rtol=1e-5)
    kernel = ours.layers[-2].kernel.numpy()
    assert np.linalg.norm(kernel, axis=0).max() <= 0.6 + 1e-5 and ours.layers[-2].bias.numpy().min() >= 0
    np.testing.assert_allclose(np.linalg.norm(ours.layers[-1].kernel.numpy(), axis=0), 1, rtol=1e-5)


def test_layer_configs_carry_constraints_as_keras(keras):
    for lib_layer, keras_layer in ((glassnet.layers.Dense(4, kernel_constraint="max_norm", bias_constraint="non_neg"),
                                    keras.layers.Dense(4, kernel_constraint="max_norm", bias_constraint="non_neg")),
                                   (glassnet.layers.Conv1D(2, 3, kernel_constraint=constraints.UnitNorm([0, 1])),
                                    keras.layers.Conv1D(2, 3, kernel_constraint=keras.constraints.UnitNorm([0, 1])))):
        ours, theirs = lib_layer.get_config(), keras_layer.get_config()
        for key in ("kernel_constraint", "bias_constraint"):
            assert (ours[key] is None) == (theirs[key] is None)
            if ours[key] is not None:
                assert (ours[key]["class_name"], ours[key]["config"]) == (theirs[key]["class_name"],
                                                                          theirs[key]["config"])
        rebuilt = type(lib_layer).from_config(ours)
        assert rebuilt.get_config() == ours
    dense = glassnet.layers.Dense(3, kernel_constraint="unit_norm")
    dense.build((None, 2))
    assert isinstance(dense.kernel.constraint, constraints.UnitNorm) and dense.bias.constraint is None


def test_a_custom_layers_weight_and_a_plain_callable_constraint():
    class Scale(glassnet.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1],), "ones", name="w", constraint=lambda w: glassnet.ops.clip(
                w, 0.0, 1.0))

        def call(self, x):
            return x * self.w

    layer = Scale()
    layer(np.ones((1, 3), "float32"))
    opt = optimizers.SGD(1.0)
    opt.apply([np.array([-5.0, 0.25, 5.0], "float32")], [layer.w])
    np.testing.assert_allclose(layer.w.numpy(), [1.0, 0.75, 0.0])


def test_a_constrained_model_round_trips_through_a_glassnet_file(tmp_path):
    model = models(None, glassnet, conv=True)
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "model.glassnet")
    loaded = glassnet.load_model(tmp_path / "model.glassnet")
    for ours, again in zip(model.layers, loaded.layers):
        assert ours.get_config() == again.get_config()
    kernel = loaded.layers[-2].kernel
    assert isinstance(kernel.constraint, constraints.MaxNorm) and kernel.constraint.max_value == 0.6
    assert isinstance(loaded.layers[0].bias.constraint, constraints.NonNeg)
