"""keras.models.clone_model against Keras 3: the same architecture, names and parameter counts, new weights."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from tests.models.test_functional import XA, XB, two_in_two_out


def sequential(k):
    return k.Sequential([k.Input((4,)), k.layers.Dense(3, activation="relu", name="hidden"),
                         k.layers.Dense(1, name="out")], name="stack")


@pytest.mark.parametrize("make, x", [(sequential, XA), (two_in_two_out, [XA, XB])])
def test_a_clone_has_the_architecture_and_new_weights(keras, make, x):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = make(keras), make(gk)
    kc, gc = keras.models.clone_model(km), gk.models.clone_model(gm)
    assert gc.name == kc.name and type(gc) is type(gm)
    assert [layer.name for layer in gc.layers] == [layer.name for layer in kc.layers]
    assert gc.count_params() == kc.count_params() == gm.count_params()
    assert not any(np.array_equal(a, b) for a, b in zip(gc.get_weights(), gm.get_weights()) if a.any())
    gc.set_weights(gm.get_weights())
    got, expected = gc.predict(x, verbose=0), gm.predict(x, verbose=0)
    for a, b in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        np.testing.assert_array_equal(a, b)


def test_clone_function_makes_each_layer():
    layers.reset_uids()
    made = []

    def clone(layer):
        made.append(layer.name)
        return type(layer).from_config(layer.get_config())

    gk.models.clone_model(two_in_two_out(gk), clone_function=clone)
    assert made == ["da", "db", "cat", "out1", "out2"]
    with pytest.raises(ValueError, match="Expected `model` argument to be a `Model` instance"):
        gk.models.clone_model(layers.Dense(2))
