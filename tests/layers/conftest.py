"""Layer tests: automatic layer names restart for every test, as they do in Keras after clear_session."""

import pytest

from glassnet import layers


@pytest.fixture(autouse=True)
def fresh_names():
    layers.reset_uids()
