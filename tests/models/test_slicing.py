"""Batch slicing (models/slicing.py): a batch too big for the cache is trained on in slices, with the same result
as the whole batch; models whose samples could interact are never sliced."""

import numpy as np
import pytest

import glassnet as keras
from glassnet import layers, losses, ops, regularizers
from glassnet.models import slicing


def make_model(seed=0, **dense):
    keras.backend.set_random_seed(seed)
    model = keras.Sequential([layers.Input((20,)), layers.Dense(16, activation="relu", **dense),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def data(n=200):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 20)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 1)
    return x, y, rng.uniform(0.5, 2.0, n).astype("float32")


def input_shapes(model) -> set:
    """The input shapes the model's training step has plans for (a plan's key starts with its x's leaves)."""
    return {key[0][1][1] for key in model._cached_step.plans}


@pytest.mark.fast_kernels
@pytest.mark.parametrize("shuffle", [True, False])
def test_sliced_batches_train_like_whole_batches(monkeypatch, shuffle):
    x, y, sw = data()
    extras = dict(kernel_regularizer=regularizers.L2(1e-3), activity_regularizer=regularizers.L1(1e-4))
    whole, sliced = make_model(**extras), make_model(**extras)
    batch_bytes = 64 * x[0].nbytes
    monkeypatch.setattr(slicing, "SLICE_BYTES", batch_bytes // 3 + 1)  # 64 rows → slices of 22, 22, 20
    assert slicing.rows_per_slice(sliced.layers, sliced._compiled.loss_fn, x, 64) == 22
    keras.backend.set_random_seed(5)
    h_sliced = sliced.fit(x, y, sample_weight=sw, batch_size=64, epochs=3, shuffle=shuffle, verbose=0)
    monkeypatch.setattr(slicing, "SLICE_BYTES", 10 * batch_bytes)
    keras.backend.set_random_seed(5)
    h_whole = whole.fit(x, y, sample_weight=sw, batch_size=64, epochs=3, shuffle=shuffle, verbose=0)
    shapes = input_shapes(sliced)
    assert {(22, 20), (20, 20)} <= shapes and (64, 20) not in shapes
    assert input_shapes(whole) >= {(64, 20)}
    for a, b in zip(sliced.get_weights(), whole.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h_sliced.history["loss"], h_whole.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_sliced.history["accuracy"], h_whole.history["accuracy"], rtol=1e-6)
    assert h_whole.history["loss"][-1] < h_whole.history["loss"][0]


@pytest.mark.fast_kernels
def test_large_batches_of_a_plain_model_are_sliced():
    x = np.zeros((512, 10000), dtype="float32")
    model = make_model()
    rows = slicing.rows_per_slice(model.layers, model._compiled.loss_fn, x, 512)
    assert rows == 128  # 20 MB in slices of 5 MB
    assert slicing.rows_per_slice(model.layers, model._compiled.loss_fn, x[:, :784], 128) is None  # MNIST: fits


def custom_activation(z):
    return z - ops.mean(z, axis=0)  # mixes the samples of a batch: slices would change it


@pytest.mark.parametrize("case", ["custom activation", "softmax over the batch", "custom loss", "sum reduction",
                                  "ignored class", "custom activity regularizer"])
def test_models_whose_samples_may_interact_are_not_sliced(case):
    model = make_model()
    if case == "custom activation":
        model.layers[0].activation = custom_activation
    elif case == "softmax over the batch":
        model.add(layers.Softmax(axis=0))
    elif case == "custom activity regularizer":
        model.layers[0].activity_regularizer = lambda a: ops.sum(a)
    loss = {"custom loss": lambda t, p: ops.mean(ops.square(p), axis=-1),
            "sum reduction": losses.SparseCategoricalCrossentropy(reduction="sum"),
            "ignored class": losses.SparseCategoricalCrossentropy(ignore_class=0)}.get(case)
    if loss is not None:
        model.compile(optimizer="rmsprop", loss=loss)
    x = np.zeros((512, 10000), dtype="float32")
    assert slicing.rows_per_slice(model.layers, model._compiled.loss_fn, x, 512) is None


def test_numpy_kernels_never_slice(monkeypatch):
    monkeypatch.setattr(keras.backend, "_kernels", "numpy")
    model = make_model()
    x = np.zeros((512, 10000), dtype="float32")
    assert slicing.rows_per_slice(model.layers, model._compiled.loss_fn, x, 512) is None
