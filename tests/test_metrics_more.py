"""TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC, Precision, Recall (thresholds, top_k, class_id),
F1Score/FBetaScore and R2Score against Keras 3 on torch: the same batches (with and without sample weights) give the
same results, variables, configs and errors; and a Keras-style Metric subclass (state made by add_variable or
add_weight in __init__, after super().__init__) works alone and in compile/fit/evaluate as in Keras."""

import numpy as np
import pytest

import glassnet
from glassnet import metrics


def batches(kind: str, seed=0, n=2, rows=16, classes=5):
    """``n`` batches (y_true, y_pred, sample_weight) for a kind of metric; scores without ties."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        scores = rng.permuted(np.tile(np.linspace(0.01, 0.99, classes), (rows, 1)), axis=1).astype("float32")
        scores += rng.uniform(0, 0.001, scores.shape).astype("float32")
        labels = rng.integers(0, classes, rows)
        if kind == "sparse":
            y = labels
        elif kind == "onehot":
            y = np.eye(classes, dtype="float32")[labels]
        elif kind == "multilabel":
            y = (rng.random((rows, classes)) < 0.4).astype("float32")
        elif kind == "binary":
            y = rng.integers(0, 2, rows).astype("float32")
            scores = np.clip(0.3 * y + rng.random(rows) * 0.7, 0, 1).astype("float32")
        else:  # regression
            y = rng.standard_normal((rows, 3)).astype("float32")
            scores = (y + rng.standard_normal((rows, 3)) * 0.5).astype("float32")
        out.append((y, scores, rng.random(rows).astype("float32")))
    return out


def same_results(keras, name, kwargs, kind, weighted, rtol=1e-5):
    ours, theirs = getattr(metrics, name)(**kwargs), getattr(keras.metrics, name)(**kwargs)
    for y, p, w in batches(kind):
        ours.update_state(y, p, sample_weight=w if weighted else None)
        theirs.update_state(y, p, sample_weight=w if weighted else None)
        expected = keras.ops.convert_to_numpy(theirs.result())
        np.testing.assert_allclose(np.asarray(ours.result()), expected, rtol=rtol, atol=1e-6,
                                   err_msg=f"{name}({kwargs}) weighted={weighted}")
    assert [v.name.split("/")[-1] for v in ours.variables] == [v.name for v in theirs.variables]
    k_config = {k: v if v is None or isinstance(v, (str, int, float, list)) else
                keras.ops.convert_to_numpy(v).tolist() for k, v in theirs.get_config().items()}  # tensors: lists
    assert {k: ours.get_config().get(k, "missing") for k in k_config if k not in ("name", "dtype")} == {
        k: v for k, v in k_config.items() if k not in ("name", "dtype")}
    assert ours.name == name_of(theirs)
    again = metrics.deserialize(metrics.serialize(ours))
    assert type(again) is type(ours) and again.get_config() == ours.get_config()
    ours.reset_state()
    theirs.reset_state()
    np.testing.assert_allclose(np.asarray(ours.result()), keras.ops.convert_to_numpy(theirs.result()), atol=1e-7)
    # (R2Score's reset result is 0/0 = nan in both)


def name_of(keras_metric):
    """Keras numbers a repeated default name (precision_3); the base name is the one to compare."""
    base = keras_metric.name
    return base.rsplit("_", 1)[0] if base.rsplit("_", 1)[-1].isdigit() else base


LABEL_WEIGHTS = [1.0, 0.5, 2.0, 0.25, 1.0]
CASES = [
    ("TopKCategoricalAccuracy", {}, "onehot"), ("TopKCategoricalAccuracy", {"k": 2}, "onehot"),
    ("SparseTopKCategoricalAccuracy", {}, "sparse"), ("SparseTopKCategoricalAccuracy", {"k": 1}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {"k": 3}, "sparse"),
    ("AUC", {}, "binary"), ("AUC", {"curve": "PR"}, "binary"), ("AUC", {"num_thresholds": 13}, "binary"),
    ("AUC", {"curve": "PR", "summation_method": "minoring"}, "binary"),
    ("AUC", {"summation_method": "majoring", "num_thresholds": 50}, "binary"),
    ("AUC", {"multi_label": True}, "multilabel"), ("AUC", {"multi_label": True, "curve": "PR"}, "multilabel"),
    ("AUC", {"multi_label": True, "num_labels": 5, "label_weights": LABEL_WEIGHTS}, "multilabel"),
    ("AUC", {"label_weights": LABEL_WEIGHTS, "curve": "PR", "summation_method": "minoring"}, "multilabel"),
    ("Precision", {}, "binary"), ("Recall", {}, "binary"), ("Precision", {"thresholds": 0.3}, "binary"),
    ("Recall", {"thresholds": [0.2, 0.7]}, "binary"),
    ("Precision", {"class_id": 2}, "multilabel"), ("Recall", {"class_id": 1, "thresholds": 0.4}, "multilabel"),
    ("Precision", {"top_k": 2}, "multilabel"), ("Recall", {"top_k": 3, "class_id": 0}, "multilabel"),
    ("F1Score", {}, "onehot"), ("F1Score", {"average": "micro"}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.5}, "multilabel"),
    ("F1Score", {"average": "weighted", "threshold": 0.35}, "multilabel"),
    ("FBetaScore", {"beta": 2.0, "average": "macro"}, "multilabel"),
    ("R2Score", {}, "regression"), ("R2Score", {"class_aggregation": None}, "regression"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "regression"),
    ("R2Score", {"num_regressors": 2}, "regression"),
]


@pytest.mark.parametrize("name, kwargs, kind", CASES)
@pytest.mark.parametrize("weighted", [False, True])
def test_results_variables_and_configs_equal_keras(keras, name, kwargs, kind, weighted):
    same_results(keras, name, kwargs, kind, weighted)


@pytest.mark.parametrize("name, kwargs, message", [
    ("F1Score", {"average": "mean"}, "Invalid `average` argument value"),
    ("FBetaScore", {"beta": 2}, "Invalid `beta` argument value. It should be a Python float"),
    ("FBetaScore", {"beta": -1.0}, "Invalid `beta` argument value. It should be > 0"),
    ("F1Score", {"threshold": 1.5}, "It should verify 0 < threshold <= 1"),
    ("R2Score", {"class_aggregation": "median"}, "Invalid value for argument `class_aggregation`"),
    ("R2Score", {"num_regressors": -1}, "Invalid value for argument `num_regressors`"),
    ("AUC", {"curve": "XY"}, 'Invalid AUC curve value: "XY". Expected values are ["PR", "ROC"'),
    ("AUC", {"summation_method": "simpson"}, 'Invalid AUC summation method value: "simpson"'),
    ("Precision", {"thresholds": 1.5}, "Threshold values must be in [0, 1]"),
    ("AUC", {"num_labels": 3}, "`num_labels` is needed only when `multi_label` is True."),
])
def test_bad_arguments_raise_keras_errors(keras, name, kwargs, message):
    for lib in (keras, glassnet):
        with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
            getattr(lib.metrics, name)(**kwargs)


def test_inputs_of_the_wrong_rank_are_named(keras):
    for lib in (keras, glassnet):
        with pytest.raises(ValueError, match=r"R2Score expects 2D inputs with shape \(batch_size, output_dim\)"):
            lib.metrics.R2Score().update_state(np.zeros((2, 3, 1)), np.zeros((2, 3, 1)))
        with pytest.raises(ValueError, match=r"FBetaScore expects 2D inputs"):
            lib.metrics.F1Score().update_state(np.zeros(4), np.zeros(4))
        with pytest.raises(ValueError, match=r"`y_pred` must have rank 2 when `multi_label=True`. Found rank 1"):
            lib.metrics.AUC(multi_label=True).update_state(np.zeros(4), np.zeros(4))


def test_get_by_name_as_keras(keras):
    for identifier in ("top_k_categorical_accuracy", "sparse_top_k_categorical_accuracy", "TopKCategoricalAccuracy",
                       "F1Score", "R2Score", "r2_score", "AUC", "auc", "precision", "Recall"):
        theirs = keras.metrics.get(identifier)
        ours = metrics.get(identifier)
        kind = type(theirs).__name__ if isinstance(theirs, keras.metrics.Metric) else theirs.__name__
        assert kind in (type(ours).__name__, ours._fn.__name__ if hasattr(ours, "_fn") else None), identifier


# ----- a Keras-style custom metric -------------------------------------------------------------------------------
def chollet_rmse(lib, with_add_weight: bool):
    """The root mean squared error of one-hot targets, written as Chollet's Deep Learning with Python writes it."""

    class RootMeanSquaredError(lib.metrics.Metric):
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            if with_add_weight:  # the 2nd edition's spelling
                self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
                self.total_samples = self.add_weight(name="total_samples", initializer="zeros", dtype="int32")
            else:
                self.mse_sum = self.add_variable(shape=(), initializer="zeros", name="mse_sum")
                self.total_samples = self.add_variable(shape=(), initializer="zeros", name="total_samples",
                                                       dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = lib.ops.one_hot(y_true, num_classes=lib.ops.shape(y_pred)[1])
            mse = lib.ops.sum(lib.ops.square(y_true - y_pred))
            self.mse_sum.assign_add(mse)
            num_samples = lib.ops.shape(y_pred)[0]
            self.total_samples.assign_add(num_samples)

        def result(self):
            return lib.ops.sqrt(self.mse_sum / lib.ops.cast(self.total_samples, "float32"))

        if with_add_weight:
            def reset_state(self):
                self.mse_sum.assign(0.0)
                self.total_samples.assign(0)

    return RootMeanSquaredError


@pytest.mark.parametrize("with_add_weight", [False, True])
def test_a_custom_metric_alone_equals_keras(keras, with_add_weight):
    ours, theirs = chollet_rmse(glassnet, with_add_weight)(), chollet_rmse(keras, with_add_weight)()
    assert [v.name.split("/")[-1] for v in ours.variables] == [v.name for v in theirs.variables]
    for y, p, _ in batches("sparse", seed=3):
        ours.update_state(y, p)
        theirs.update_state(y, p)
        assert float(np.asarray(ours.result())) == pytest.approx(float(theirs.result()), rel=1e-6)
    ours.reset_state()
    assert float(ours.mse_sum.numpy()) == 0 and int(ours.total_samples.numpy()) == 0
    assert ours.total_samples.dtype == "int32"


def test_forgetting_super_init_is_named(keras):
    for lib in (keras, glassnet):
        class Broken(lib.metrics.Metric):
            def __init__(self):
                self.total = self.add_variable(shape=(), initializer="zeros", name="total")

        with pytest.raises(RuntimeError, match=r"You forgot to call `super\(\).__init__\(\)`"):
            Broken()


@pytest.mark.parametrize("with_add_weight", [False, True])
def test_a_custom_metric_in_compile_fit_evaluate_equals_keras(keras, with_add_weight):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((40, 6)).astype("float32")
    y = rng.integers(0, 3, 40)
    results = []
    for lib in (keras, glassnet):
        model = lib.Sequential([lib.layers.Input((6,)), lib.layers.Dense(3, activation="softmax")])
        if results:
            model.set_weights(results[0][0])
        start = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy",
                      metrics=[chollet_rmse(lib, with_add_weight)(), "accuracy",
                               lib.metrics.SparseTopKCategoricalAccuracy(k=2)])
        history = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        results.append((start, history.history, model.evaluate(x, y, verbose=0, return_dict=True)))
    (_, k_history, k_eval), (_, g_history, g_eval) = results
    assert sorted(g_history) == sorted(k_history)
    for key in k_history:
        np.testing.assert_allclose(g_history[key], k_history[key], rtol=1e-5, err_msg=key)
    assert sorted(g_eval) == sorted(k_eval)
    for key in k_eval:
        assert g_eval[key] == pytest.approx(k_eval[key], rel=1e-5), key


def test_keras_metrics_in_compile_fit_equal_keras(keras):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((48, 4)).astype("float32")
    y = (x[:, :1] + 0.3 * rng.standard_normal((48, 1)) > 0).astype("float32")
    results = []
    for lib in (keras, glassnet):
        model = lib.Sequential([lib.layers.Input((4,)), lib.layers.Dense(1, activation="sigmoid")])
        if results:
            model.set_weights(results[0][0])
        start = model.get_weights()
        model.compile(optimizer=lib.optimizers.SGD(0.2), loss="binary_crossentropy",
                      metrics=[lib.metrics.AUC(name="auc"), lib.metrics.AUC(curve="PR", name="pr_auc"),
                               lib.metrics.Precision(name="precision"),
                               lib.metrics.Recall(thresholds=0.3, name="recall"), "r2_score"])
        history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
        results.append((start, history.history))
    (_, theirs), (_, ours) = results
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], theirs[key], rtol=1e-5, atol=1e-6, err_msg=key)
