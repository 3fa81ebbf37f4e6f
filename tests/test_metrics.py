"""Metrics: epoch averages weighted by samples, accuracy resolution, precision/recall, AUC vs an exact computation."""

import math

import numpy as np
import pytest

from glassnet import metrics

rng = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def fresh_rng():
    """Each test draws from a generator of its own, seeded alike: its data do not depend on which tests ran before
    it (the tolerances against scikit-learn held for some orders' data only by the luck of the draw)."""
    global rng
    rng = np.random.default_rng(0)


def batches(*arrays, sizes=(5, 3, 8)):
    """Split arrays into consecutive batches of unequal sizes (so a per-batch average would be wrong)."""
    start = 0
    for n in sizes:
        yield tuple(a[start:start + n] for a in arrays)
        start += n


def test_mean_is_weighted_by_samples_not_batches():
    values = rng.normal(size=16)
    m = metrics.Mean()
    for (v,) in batches(values):
        m.update_state(v)
    assert m.result() == pytest.approx(values.mean(), rel=1e-12)
    w = rng.random(16)
    m.reset_state()
    for v, wb in batches(values, w):
        m.update_state(v, sample_weight=wb)
    assert m.result() == pytest.approx((values * w).sum() / w.sum(), rel=1e-12)


def test_accuracy_family_over_batches():
    labels = rng.integers(0, 4, size=16)
    probs = rng.random((16, 4))
    expected = (probs.argmax(-1) == labels).mean()
    sparse, cat = metrics.SparseCategoricalAccuracy(), metrics.CategoricalAccuracy()
    for y, p in batches(labels, probs):
        sparse.update_state(y, p)
        cat.update_state(np.eye(4)[y], p)
    assert sparse.result() == pytest.approx(expected) and cat.result() == pytest.approx(expected)

    y01 = rng.integers(0, 2, size=(16, 1)).astype(float)
    p1 = rng.random((16, 1))
    binary = metrics.BinaryAccuracy(threshold=0.3)
    for y, p in batches(y01, p1):
        binary.update_state(y[:, 0], p)  # (m,) labels against (m, 1) outputs
    assert binary.result() == pytest.approx(((p1 > 0.3) == y01).mean())

    exact = metrics.Accuracy()
    exact.update_state([1, 2, 3, 4], [1, 2, 0, 4])
    assert exact.result() == pytest.approx(0.75)


def test_regression_metrics_over_batches():
    y, p = rng.normal(size=(16, 2)), rng.normal(size=(16, 2))
    mse, mae, rmse = metrics.MeanSquaredError(), metrics.MeanAbsoluteError(), metrics.RootMeanSquaredError()
    for yb, pb in batches(y, p):
        for m in (mse, mae, rmse):
            m.update_state(yb, pb)
    assert mse.result() == pytest.approx(((y - p) ** 2).mean(), rel=1e-6)
    assert mae.result() == pytest.approx(np.abs(y - p).mean(), rel=1e-6)
    assert rmse.result() == pytest.approx(math.sqrt(((y - p) ** 2).mean()), rel=1e-6)


def test_precision_and_recall():
    y = np.array([1, 1, 1, 0, 0, 1, 0, 0])
    p = np.array([0.9, 0.6, 0.4, 0.7, 0.1, 0.5, 0.2, 0.51])
    pred = p > 0.5  # strictly above the threshold
    tp, fp, fn = np.sum(pred & (y == 1)), np.sum(pred & (y == 0)), np.sum(~pred & (y == 1))
    prec, rec = metrics.Precision(), metrics.Recall()
    for yb, pb in batches(y, p, sizes=(3, 5)):
        prec.update_state(yb, pb)
        rec.update_state(yb, pb)
    assert prec.result() == pytest.approx(tp / (tp + fp)) and rec.result() == pytest.approx(tp / (tp + fn))
    several = metrics.Precision(thresholds=[0.8, 0.3])
    several.update_state(y, p)
    expected = [np.sum((p > t) & (y == 1)) / np.sum(p > t) for t in (0.8, 0.3)]
    np.testing.assert_allclose(several.result(), expected)
    empty = metrics.Precision()
    empty.update_state([1, 0], [0.1, 0.2])
    assert empty.result() == 0.0  # no predicted positives: 0, not NaN, as Keras


def exact_roc_auc(y, scores):
    """Probability that a random positive scores above a random negative (ties count one half)."""
    pos, neg = scores[y == 1], scores[y == 0]
    diff = pos[:, None] - neg[None, :]
    return ((diff > 0).sum() + 0.5 * (diff == 0).sum()) / diff.size


def test_auc_matches_exact_on_scores_on_the_threshold_grid():
    """Scores on Keras's grid k/(n−1) are split exactly by its thresholds: the trapezoid sum is the exact AUC."""
    n = 200
    y = rng.integers(0, 2, size=500)
    scores = np.clip(np.round((0.35 * y + 0.65 * rng.random(500)) * (n - 1)), 1, n - 2) / (n - 1)
    auc = metrics.AUC(num_thresholds=n)
    for yb, sb in batches(y, scores, sizes=(100, 250, 150)):
        auc.update_state(yb, sb)
    assert auc.result() == pytest.approx(exact_roc_auc(y, scores), abs=1e-9)


def keras_auc(y, scores, num_thresholds=200, curve="ROC", summation_method="interpolation", sample_weight=None):
    """Keras 3's AUC written from its definition (keras/src/metrics/confusion_metrics.py: AUC.result and
    interpolate_pr_auc), in float64: weighted confusion counts at the thresholds −ε, 1/(n−1), …, (n−2)/(n−1), 1 + ε
    (a prediction counts as positive strictly above one), then a Riemann sum over the curve's points; PR with
    interpolation integrates precision between thresholds as Davis & Goadrich do."""
    w = np.ones(len(y)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    thresholds = np.array([-1e-7, *[(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)], 1 + 1e-7])
    above = scores[None, :] > thresholds[:, None]
    tp, fp = above @ (w * (y == 1)), above @ (w * (y == 0))
    fn, tn = np.sum(w * (y == 1)) - tp, np.sum(w * (y == 0)) - fp

    def ratio(a, b):  # Keras's divide_no_nan: 0 where the divisor is 0
        return np.divide(a, b, out=np.zeros(np.broadcast(a, b).shape), where=b != 0)

    if curve == "PR" and summation_method == "interpolation":
        p = tp + fp
        dtp, dp = tp[:-1] - tp[1:], p[:-1] - p[1:]
        slope = ratio(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        p_ratio = np.where((p[:-1] > 0) & (p[1:] > 0), ratio(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return np.sum(ratio(slope * (dtp + intercept * np.log(p_ratio)), np.maximum(tp[1:] + fn[1:], 0)))
    recall = ratio(tp, tp + fn)
    x, h = (ratio(fp, fp + tn), recall) if curve == "ROC" else (recall, ratio(tp, tp + fp))
    heights = {"interpolation": (h[:-1] + h[1:]) / 2, "minoring": np.minimum(h[:-1], h[1:]),
               "majoring": np.maximum(h[:-1], h[1:])}[summation_method]
    return np.sum((x[:-1] - x[1:]) * heights)


def off_the_grid_scores(y, num_thresholds=200):
    """Scores correlated with the labels, each inside one interval between thresholds, at least 1% of its width
    from either end (so float rounding cannot move one across a threshold)."""
    bucket = np.minimum(rng.integers(0, num_thresholds - 1, len(y)) + (num_thresholds // 3) * y, num_thresholds - 2)
    return (bucket + rng.uniform(0.01, 0.99, len(y))) / (num_thresholds - 1)


def test_auc_well_separated_and_against_scikit_learn():
    y = np.array([0] * 50 + [1] * 50)
    scores = np.concatenate([rng.uniform(0.0, 0.4, 50), rng.uniform(0.6, 1.0, 50)])
    auc = metrics.AUC()
    auc.update_state(y, scores)
    assert auc.result() == pytest.approx(1.0, abs=1e-9)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")
    y = rng.integers(0, 2, size=2000)
    scores = np.clip(0.3 * y + 0.7 * rng.random(2000), 0, 1)
    auc.reset_state()
    auc.update_state(y, scores)
    assert auc.result() == pytest.approx(keras_auc(y, scores), rel=1e-12)
    assert auc.result() == pytest.approx(sklearn_metrics.roc_auc_score(y, scores), abs=2e-3)  # 200 thresholds


@pytest.mark.parametrize("curve", ["ROC", "PR"])
@pytest.mark.parametrize("method", ["interpolation", "minoring", "majoring"])
def test_auc_equals_keras_definition_for_each_curve_and_summation(curve, method):
    y = rng.integers(0, 2, size=400)
    scores = off_the_grid_scores(y)
    weights = rng.uniform(0.2, 2.0, size=400)
    m = metrics.AUC(curve=curve, summation_method=method)
    for yb, sb, wb in batches(y, scores, weights, sizes=(100, 250, 50)):
        m.update_state(yb, sb, sample_weight=wb)
    assert m.result() == pytest.approx(keras_auc(y, scores, curve=curve, summation_method=method,
                                                 sample_weight=weights), rel=1e-12)


def test_auc_pr_and_summation_bounds():
    y = rng.integers(0, 2, size=400)
    scores = off_the_grid_scores(y)
    results = {}
    for method in ("minoring", "interpolation", "majoring"):
        m = metrics.AUC(summation_method=method)
        m.update_state(y, scores)
        results[method] = m.result()
    assert results["minoring"] <= results["interpolation"] <= results["majoring"]
    pr = metrics.AUC(curve="PR")
    pr.update_state(y, scores)
    assert pr.result() == pytest.approx(keras_auc(y, scores, curve="PR"), rel=1e-12)
    sklearn_metrics = pytest.importorskip("sklearn.metrics")  # a different estimator of the same area
    assert pr.result() == pytest.approx(sklearn_metrics.average_precision_score(y, scores), abs=0.03)
    with pytest.raises(ValueError, match=r"expects predictions in \[0, 1\]"):
        metrics.AUC().update_state([0, 1], [-2.0, 3.0])
    logits = metrics.AUC(from_logits=True)
    logits.update_state([0, 1, 0, 1], [-2.0, 3.0, 0.5, 0.2])  # σ: 0.12, 0.95, 0.62, 0.55
    assert logits.result() == pytest.approx(0.75)  # 3 of the 4 positive-negative pairs ordered right


@pytest.mark.parametrize("ident, output_shape, y_true_shape, loss, cls", [
    ("accuracy", (None, 1), (None,), None, metrics.BinaryAccuracy),
    ("acc", (None, 1), (None, 1), "mse", metrics.BinaryAccuracy),
    ("accuracy", (None, 10), (None,), None, metrics.SparseCategoricalAccuracy),
    ("accuracy", (None, 10), (None, 1), None, metrics.SparseCategoricalAccuracy),
    ("accuracy", (None, 10), (None, 10), None, metrics.CategoricalAccuracy),
    ("accuracy", None, None, "sparse_categorical_crossentropy", metrics.SparseCategoricalAccuracy),
    ("Accuracy", None, None, "binary_crossentropy", metrics.BinaryAccuracy),
    ("acc", (None, 10), None, "categorical_crossentropy", metrics.CategoricalAccuracy),
])
def test_accuracy_resolution_keeps_the_users_name(ident, output_shape, y_true_shape, loss, cls):
    m = metrics.get(ident, loss=loss, output_shape=output_shape, y_true_shape=y_true_shape)
    assert type(m) is cls and m.name == ident


def test_get_names_are_what_the_user_passed():
    assert metrics.get("mae").name == "mae" and isinstance(metrics.get("mae"), metrics.MeanAbsoluteError)
    assert metrics.get("mean_squared_error").name == "mean_squared_error"
    assert isinstance(metrics.get("AUC"), metrics.AUC) and metrics.get("auc").name == "auc"
    assert metrics.get("precision").name == "precision"
    bce = metrics.get("binary_crossentropy")
    y, p = np.array([[1.0], [0.0]]), np.array([[0.8], [0.4]])
    bce.update_state(y, p)
    assert bce.result() == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2, rel=1e-6)

    def doubled_error(y_true, y_pred):
        return 2 * np.abs(y_true - y_pred).mean(axis=-1)

    custom = metrics.get(doubled_error)
    custom.update_state(y, p)
    assert custom.name == "doubled_error" and custom.result() == pytest.approx(0.6)
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        metrics.get("accuracyy")


def test_serialize_round_trip():
    for m in (metrics.get("acc", output_shape=(None, 1)), metrics.AUC(num_thresholds=50, curve="PR"),
              metrics.get("binary_crossentropy"), metrics.Precision(thresholds=0.7)):
        again = metrics.deserialize(metrics.serialize(m))
        assert type(again) is type(m) and again.name == m.name and again.get_config() == m.get_config()
