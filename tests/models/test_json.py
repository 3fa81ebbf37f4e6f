"""model.to_json / keras.models.model_from_json, both ways with Keras 3: the same architecture, names and
parameter counts, for Sequential and functional models."""

import numpy as np
import pytest

import glassnet as gk
from glassnet import layers
from tests.models.test_cloning import sequential
from tests.models.test_functional import XA, XB, two_in_two_out


@pytest.mark.parametrize("make, x", [(sequential, XA), (two_in_two_out, [XA, XB])])
def test_json_both_ways(keras, make, x):
    keras.utils.clear_session(free_memory=False)
    layers.reset_uids()
    km, gm = make(keras), make(gk)
    from_keras = gk.models.model_from_json(km.to_json())
    from_glassnet = keras.models.model_from_json(gm.to_json())
    for rebuilt in (from_keras, from_glassnet):
        assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in km.layers]
        assert rebuilt.count_params() == km.count_params()
    from_keras.set_weights(km.get_weights())
    got, expected = from_keras.predict(x, verbose=0), km.predict(x, verbose=0)
    for a, b in zip(got if isinstance(got, list) else [got], expected if isinstance(expected, list) else [expected]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_bad_json_is_named():
    with pytest.raises(ValueError, match="not valid JSON"):
        gk.models.model_from_json("{not json")
    with pytest.raises(TypeError, match="expects the JSON text"):
        gk.models.model_from_json({"class_name": "Sequential"})
