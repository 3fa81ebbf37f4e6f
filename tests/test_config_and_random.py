"""glassnet.config and glassnet.random, each checked against Keras 3 (torch backend) where Keras has the same
function: defaults, setters, errors; the random draws' shapes, dtypes, seeding and statistics."""

import math

import numpy as np
import pytest

import glassnet
from glassnet import backend, config


@pytest.fixture
def restore_config():
    saved = config.floatx(), config.epsilon(), config.image_data_format()
    yield
    config.set_floatx(saved[0])
    config.set_epsilon(saved[1])
    config.set_image_data_format(saved[2])


# ----- config -------------------------------------------------------------------------------------------------

def test_config_defaults_equal_keras(keras):
    assert glassnet.config is config
    assert config.floatx() == keras.config.floatx() == "float32"
    assert config.epsilon() == keras.config.epsilon() == 1e-7
    assert config.image_data_format() == keras.config.image_data_format() == "channels_last"
    assert keras.config.backend() == "torch" and config.backend() == "glassnet"  # the engine that runs the math


def test_set_floatx_sets_the_engines_default(keras, restore_config):
    for dtype in ("float64", "float16", "float32"):
        config.set_floatx(dtype)
        keras.config.set_floatx(dtype)
        assert config.floatx() == backend.floatx() == keras.config.floatx() == dtype
        assert glassnet.ops.convert_to_tensor([1, 2]).dtype == dtype
    config.set_floatx("float64")
    for bad in ("float8", "int32", np.float32, None):
        with pytest.raises(ValueError, match="Expected one of"):
            keras.config.set_floatx(bad)
        with pytest.raises(ValueError, match=r"Unknown `floatx` value: .*Expected one of"):
            config.set_floatx(bad)
    with pytest.raises(ValueError, match="bfloat16"):
        config.set_floatx("bfloat16")
    assert config.floatx() == "float64"
    keras.config.set_floatx("float32")


def test_set_epsilon(keras, restore_config):
    config.set_epsilon(1e-5)
    keras.config.set_epsilon(1e-5)
    assert config.epsilon() == keras.config.epsilon() == 1e-5
    keras.config.set_epsilon(1e-7)
    config.set_epsilon(0)
    assert config.epsilon() == 0.0 and isinstance(config.epsilon(), float)
    for bad in ("1e-7", -1e-7, math.inf, math.nan, True, None):
        with pytest.raises(ValueError, match=r"set_epsilon expects a finite, non-negative float\. Received: value="):
            config.set_epsilon(bad)
    assert config.epsilon() == 0.0


def test_image_data_format_is_channels_last_only(keras, restore_config):
    config.set_image_data_format("channels_last")
    config.set_image_data_format("CHANNELS_LAST")  # Keras lower-cases it
    assert config.image_data_format() == "channels_last"
    with pytest.raises(NotImplementedError, match="channels_last' only.*Received: data_format='channels_first'"):
        config.set_image_data_format("channels_first")
    assert config.image_data_format() == "channels_last"
    for bad in ("nhwc", None):
        with pytest.raises(ValueError, match="must be one of"):
            keras.config.set_image_data_format(bad)
        with pytest.raises(ValueError, match=r"must be one of \{'channels_first', 'channels_last'\}\. Received"):
            config.set_image_data_format(bad)
