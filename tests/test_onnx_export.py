"""``model.export(path, format="onnx")``: the exported file, run by onnxruntime, predicts what glassnet predicts
(1e-5) for Dense, convolution and pooling models; a layer without a conversion is refused before anything is
written."""

import numpy as np
import pytest

onnx = pytest.importorskip("onnx", reason="ONNX export needs the 'onnx' extra")
ort = pytest.importorskip("onnxruntime", reason="the exported files are checked with onnxruntime")

import glassnet as gk  # noqa: E402
from glassnet.keras_format import onnx_export  # noqa: E402

RNG = np.random.default_rng(0)
MODELS = {
    "mlp": (lambda: gk.Sequential([
        gk.Input((6,)), gk.layers.Dense(16, activation="relu"), gk.layers.Dropout(0.5),
        gk.layers.Dense(8, activation="swish"), gk.layers.LeakyReLU(0.1), gk.layers.Dense(4, activation="elu"),
        gk.layers.Activation("tanh"), gk.layers.Dense(3, activation="softmax")]), (6,)),
    "convnet": (lambda: gk.Sequential([
        gk.Input((9, 9, 2)), gk.layers.Conv2D(4, 3, padding="same", activation="relu"), gk.layers.MaxPooling2D(2),
        gk.layers.Conv2D(5, 2, strides=2, activation="sigmoid", use_bias=False),
        gk.layers.AveragePooling2D(2, padding="same"), gk.layers.Flatten(), gk.layers.Dense(3),
        gk.layers.Softmax()]), (9, 9, 2)),
    "conv1d": (lambda: gk.Sequential([
        gk.Input((12, 3)), gk.layers.Conv1D(4, 3, padding="same", dilation_rate=2), gk.layers.ReLU(),
        gk.layers.MaxPooling1D(2), gk.layers.GlobalAveragePooling1D(), gk.layers.Dense(2, activation="sigmoid")]),
        (12, 3)),
    "global-max": (lambda: gk.Sequential([
        gk.Input((7, 7, 3)), gk.layers.Rescaling(1 / 255, 0.5), gk.layers.Conv2D(4, 3), gk.layers.GlobalMaxPooling2D(),
        gk.layers.Dense(2)]), (7, 7, 3)),
    "batchnorm-reshape": (lambda: trained_batch_normalization(), (12,)),
}


def trained_batch_normalization():
    """Dense → BatchNormalization → Reshape → Conv1D, trained a little so the moving statistics are not 0 and 1."""
    model = gk.Sequential([gk.Input((12,)), gk.layers.Dense(8), gk.layers.BatchNormalization(),
                           gk.layers.Reshape((4, 2)), gk.layers.Conv1D(3, 2), gk.layers.Flatten(), gk.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    x = RNG.normal(loc=2.0, size=(64, 12)).astype("float32")
    model.fit(x, x[:, :1], epochs=2, verbose=0)
    return model


@pytest.mark.parametrize("kind", sorted(MODELS))
def test_onnxruntime_predicts_what_glassnet_predicts(tmp_path, kind):
    build, shape = MODELS[kind]
    model = build()
    path = tmp_path / "model.onnx"
    model.export(path, format="onnx")
    proto = onnx.load(path)
    assert [o.version for o in proto.opset_import] == [onnx_export.OPSET]
    session = ort.InferenceSession(str(path))
    for batch in (1, 5):  # the batch size stays free
        x = RNG.normal(size=(batch, *shape)).astype("float32")
        np.testing.assert_allclose(session.run(None, {"input": x})[0], model.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-5)


def test_what_does_not_export_is_refused_before_writing(tmp_path):
    model = gk.Sequential([gk.Input((4, 4, 1)), gk.layers.UpSampling2D(2), gk.layers.Flatten(), gk.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"layer 'up_sampling2d\w*' \(UpSampling2D\) has no ONNX conversion; the "
                                         r"layers that export are .*Conv2D"):
        model.export(tmp_path / "m.onnx", format="onnx")
    custom = gk.Sequential([gk.Input((3,)), gk.layers.Dense(2, activation="gelu")])
    with pytest.raises(ValueError, match="activation 'gelu'"):
        custom.export(tmp_path / "m.onnx", format="onnx")
    with pytest.raises(ValueError, match="Unrecognized format='tf_saved_model'"):
        custom.export(tmp_path / "m", format="tf_saved_model")
    class Subclassed(gk.Model):
        def __init__(self):
            super().__init__()
            self.dense = gk.layers.Dense(1)

        def call(self, x):
            return self.dense(x)

    subclassed = Subclassed()
    subclassed(np.ones((1, 3), np.float32))
    with pytest.raises(ValueError, match="writes Sequential and functional models; .* is a Subclassed"):
        subclassed.export(tmp_path / "m.onnx", format="onnx")
    assert not list(tmp_path.iterdir())


def test_functional_model_with_two_inputs_merges_and_a_shared_layer(tmp_path):
    a, b = gk.Input((4,), name="a"), gk.Input((4,), name="b")
    shared = gk.layers.Dense(4, activation="tanh")
    ha, hb = shared(a), shared(b)  # one layer called twice: its second call is node 1
    merged = [gk.layers.Add()([ha, hb]), gk.layers.Subtract()([ha, hb]), gk.layers.Multiply()([ha, hb]),
              gk.layers.Average()([ha, hb]), gk.layers.Maximum()([ha, hb]), gk.layers.Minimum()([ha, hb])]
    h = gk.layers.Concatenate()(merged)
    model = gk.Model([a, b], [gk.layers.Dense(2, activation="softmax", name="probabilities")(h),
                              gk.layers.Dense(1, name="score")(h)])
    model.export(tmp_path / "two.onnx", format="onnx")
    session = ort.InferenceSession(str(tmp_path / "two.onnx"))
    assert [i.name for i in session.get_inputs()] == ["a", "b"]
    assert [o.name for o in session.get_outputs()] == ["probabilities", "score"]
    xa, xb = RNG.normal(size=(5, 4)).astype("float32"), RNG.normal(size=(5, 4)).astype("float32")
    for got, want in zip(session.run(None, {"a": xa, "b": xb}), model.predict([xa, xb], verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
