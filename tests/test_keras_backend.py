"""keras.backend against Keras 3: ``import glassnet as keras; keras.backend.epsilon()`` and the other settings are
keras.config's (the same functions, the same errors), and ``clear_session`` restarts automatic layer names as
Keras's does, leaving the random state alone."""

import numpy as np
import pytest

import glassnet


@pytest.fixture
def restore(keras):
    saved = glassnet.backend.floatx(), glassnet.backend.epsilon()
    yield
    for lib in (glassnet, keras):
        lib.backend.set_floatx(saved[0])
        lib.backend.set_epsilon(saved[1])


def test_settings_are_keras_configs(keras, restore):
    gb, kb = glassnet.backend, keras.backend
    assert gb.epsilon() == kb.epsilon() == 1e-7 and gb.floatx() == kb.floatx() == "float32"
    assert gb.image_data_format() == kb.image_data_format() == "channels_last"
    assert gb.backend() == glassnet.config.backend() == "glassnet"
    for name in ("epsilon", "set_epsilon", "floatx", "set_floatx", "image_data_format", "set_image_data_format"):
        assert getattr(gb, name) is getattr(glassnet.config, name)
    gb.set_epsilon(1e-4)
    kb.set_epsilon(1e-4)
    assert glassnet.config.epsilon() == kb.epsilon() == 1e-4
    gb.set_floatx("float64")
    kb.set_floatx("float64")
    assert glassnet.config.floatx() == kb.floatx() == "float64"
    assert glassnet.Variable([1, 2]).dtype == "float64"


@pytest.mark.parametrize("call, bad", [("set_floatx", "int32"), ("set_floatx", 32),
                                       ("set_image_data_format", "channels_middle")])
def test_bad_settings_raise_keras_errors(keras, restore, call, bad):
    with pytest.raises(ValueError) as theirs:
        getattr(keras.backend, call)(bad)
    with pytest.raises(ValueError) as ours:
        getattr(glassnet.backend, call)(bad)
    assert str(theirs.value).split(".")[0] == str(ours.value).split(".")[0]


def test_a_bad_epsilon_is_refused_at_once(restore):
    for bad in ("small", -1.0, float("nan")):  # Keras stores any of them and fails (or divides) later
        with pytest.raises(ValueError, match="set_epsilon expects a finite, non-negative float. Received: value="):
            glassnet.backend.set_epsilon(bad)
    assert glassnet.backend.epsilon() == 1e-7


def test_clear_session_restarts_layer_names_as_keras(keras):
    for lib in (keras, glassnet):
        lib.backend.clear_session()
        names = [lib.layers.Dense(2).name for _ in range(3)]
        assert names == ["dense", "dense_1", "dense_2"]
        lib.backend.clear_session(free_memory=False)
        assert lib.layers.Dense(2).name == "dense"
        assert lib.layers.Conv2D(1, 3).name == "conv2d"


def test_clear_session_leaves_the_random_state():
    glassnet.utils.set_random_seed(3)
    first = glassnet.random.normal((4,)).numpy()
    glassnet.utils.set_random_seed(3)
    glassnet.backend.clear_session()
    np.testing.assert_array_equal(glassnet.random.normal((4,)).numpy(), first)
