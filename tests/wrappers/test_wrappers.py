"""scikit-learn wrappers: scikit-learn's own estimator checks, labels of any type, reproducible fits, and use in
Pipeline, cross_val_score and GridSearchCV (checked against the same computation done by hand)."""

import pickle

import numpy as np
import pytest
import scipy.sparse

pytest.importorskip("sklearn", reason="the scikit-learn wrappers need the 'sklearn' extra")

from sklearn.base import clone  # noqa: E402
from sklearn.datasets import load_iris, make_blobs  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

import glassnet as keras  # noqa: E402
from glassnet import backend  # noqa: E402
from glassnet.models import data_adapters  # noqa: E402
from glassnet.wrappers import GlassnetClassifier, GlassnetRegressor, rows  # noqa: E402

# Small, fast settings for scikit-learn's checks (its tiny datasets need a few epochs at a higher rate).
FAST = {"epochs": 5, "batch_size": 32, "learning_rate": 0.01}

SGD_IS_NOT_REPETITION = (
    "training is stochastic mini-batch gradient descent: a sample of weight 2 is not the same as the sample seen "
    "twice (the batches and the Adam steps differ), as for scikit-learn's own SGD-trained estimators"
)
EXPECTED_FAILED_CHECKS = {  # the one property, checked on dense and on sparse data
    "check_sample_weight_equivalence_on_dense_data": SGD_IS_NOT_REPETITION,
    "check_sample_weight_equivalence_on_sparse_data": SGD_IS_NOT_REPETITION,
}


@parametrize_with_checks([GlassnetClassifier(), GlassnetRegressor(), GlassnetClassifier(**FAST),
                          GlassnetRegressor(**FAST)],
                         expected_failed_checks=lambda estimator: EXPECTED_FAILED_CHECKS)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("estimator", [GlassnetClassifier(epochs=3, random_state=1),
                                       GlassnetRegressor(epochs=3, random_state=1)], ids=["classifier", "regressor"])
def test_a_rows_prediction_does_not_depend_on_the_other_rows(estimator):
    rng = np.random.RandomState(0)
    x = 3 * rng.uniform(size=(300, 30))
    y = (x[:, 0] > 1.5).astype(int)
    estimator.fit(x, y)
    predict = getattr(estimator, "predict_proba", estimator.predict)
    whole = predict(x)
    one_by_one = np.concatenate([predict(x[i:i + 1]) for i in range(0, 300, 7)])
    np.testing.assert_array_equal(one_by_one, whole[::7])  # exactly: BLAS sees the same shape for every row
    np.testing.assert_array_equal(predict(x[::-1]), whole[::-1])


def test_prediction_blocks_stay_under_the_size_that_predict_stores_by_rows():
    assert rows.block_rows(3) == rows.BLOCK_ROWS == 64
    assert rows.block_rows(10_000) == 16  # 16 rows of 10,000 float32: 640 kB < 1 MiB
    assert rows.block_rows(1_000_000) == 1


SPARSE_FORMATS = [scipy.sparse.csr_matrix, scipy.sparse.csc_matrix, scipy.sparse.coo_matrix, scipy.sparse.csr_array,
                  scipy.sparse.coo_array, scipy.sparse.dok_matrix]


@pytest.mark.parametrize("to_sparse", SPARSE_FORMATS, ids=[f.__name__ for f in SPARSE_FORMATS])
def test_scipy_sparse_inputs_give_the_dense_inputs_model_and_predictions(to_sparse):
    rng = np.random.RandomState(0)
    x = rng.binomial(1, 0.05, size=(120, 40)).astype(np.float64)
    y = (x[:, :20].sum(axis=1) > x[:, 20:].sum(axis=1)).astype(int)
    dense = GlassnetClassifier(epochs=3, random_state=0).fit(x, y)
    sparse = GlassnetClassifier(epochs=3, random_state=0).fit(to_sparse(x), y)
    for a, b in zip(dense.model_.get_weights(), sparse.model_.get_weights()):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(sparse.predict_proba(to_sparse(x)), dense.predict_proba(x))
    np.testing.assert_array_equal(sparse.predict(x), dense.predict(x))


def test_a_large_sparse_matrix_trains_on_the_sparse_rows_path(monkeypatch):
    stored = []
    real = data_adapters.store_inputs
    monkeypatch.setattr(data_adapters, "store_inputs", lambda x, layers: stored.append(real(x, layers)) or stored[-1])
    rng = np.random.RandomState(0)
    x = scipy.sparse.random(800, 400, density=0.02, format="csr", random_state=rng, dtype=np.float32)
    y = rng.normal(size=800)
    model = GlassnetRegressor(epochs=1, random_state=0).fit(x, y)
    expected = "SparseRows" if backend.numba() is not None else "ndarray"  # SparseRows need the fast kernels
    assert type(stored[0]).__name__ == expected  # 800 × 400 float32 = 1.28 MB, 2 % nonzeros
    assert model.predict(x).shape == (800,)


@pytest.fixture(scope="module")
def iris():
    x, y = load_iris(return_X_y=True)
    return StandardScaler().fit_transform(x), y


# ----- classifier ------------------------------------------------------------------------------------------------
def test_default_classifier_learns_iris(iris):
    x, y = iris
    clf = GlassnetClassifier(random_state=0).fit(x, y)
    assert clf.score(x, y) > 0.95
    assert clf.n_features_in_ == 4 and list(clf.classes_) == [0, 1, 2]
    hidden, output = clf.model_.layers
    assert (hidden.units, hidden.activation.__name__, output.units) == (100, "relu", 3)
    assert type(clf.model_.optimizer).__name__ == "Adam"
    assert len(clf.history_["loss"]) == 200 and clf.history_["loss"][-1] < clf.history_["loss"][0]


@pytest.fixture
def global_seed_restored(monkeypatch):
    """set_random_seed replaces glassnet's global generator and reseeds NumPy's legacy one: both are put back after
    the test, so the tests that run later do not draw from a generator this one seeded."""
    monkeypatch.setattr(backend, "_global_rng", backend._global_rng)
    legacy = np.random.get_state()  # noqa: NPY002 - set_random_seed reseeds the legacy generator, as Keras does
    yield
    np.random.set_state(legacy)  # noqa: NPY002


def test_same_random_state_same_predictions_and_caller_randomness_untouched(iris, global_seed_restored):
    x, y = iris
    backend.set_random_seed(123)
    expected_draw = backend.make_rng().random()
    backend.set_random_seed(123)
    a = GlassnetClassifier(epochs=10, random_state=7).fit(x, y).predict_proba(x)
    assert backend.make_rng().random() == expected_draw  # the seeded fit put the global generator back
    b = GlassnetClassifier(epochs=10, random_state=7).fit(x, y).predict_proba(x)
    c = GlassnetClassifier(epochs=10, random_state=8).fit(x, y).predict_proba(x)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)


@pytest.mark.parametrize("labels", [np.array(["setosa", "versicolor", "virginica"]), np.array([10, -3, 7])])
def test_multiclass_labels_of_any_type(iris, labels):
    x, codes = iris
    y = labels[codes]
    clf = GlassnetClassifier(epochs=50, learning_rate=0.01, random_state=0).fit(x, y)
    np.testing.assert_array_equal(clf.classes_, np.sort(labels))
    proba = clf.predict_proba(x)
    # columns follow classes_: the softmax output's column j is the probability of classes_[j]
    np.testing.assert_allclose(proba, clf.model_.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), clf.classes_[proba.argmax(axis=1)])
    assert clf.score(x, y) > 0.9


def test_binary_labels_use_one_sigmoid_unit():
    x, codes = make_blobs(200, centers=2, random_state=0)
    y = np.array(["no", "yes"])[codes]
    clf = GlassnetClassifier(epochs=100, learning_rate=0.01, random_state=0).fit(x, y)
    assert clf.model_.layers[-1].units == 1
    p = clf.model_.predict(x, verbose=0)[:, 0]
    np.testing.assert_allclose(clf.predict_proba(x), np.column_stack([1 - p, p]), rtol=1e-6)
    np.testing.assert_array_equal(clf.predict(x), np.where(p > 0.5, "yes", "no"))
    assert clf.score(x, y) >= LogisticRegression().fit(x, y).score(x, y) - 0.02  # the blobs overlap a little


def test_one_class_is_refused():
    with pytest.raises(ValueError, match="at least 2 classes"):
        GlassnetClassifier(epochs=1).fit(np.zeros((4, 2)), ["a"] * 4)


def test_model_function_receives_meta_and_named_parameters(iris):
    x, y = iris
    received = {}

    def build(n_features_in_, n_classes_, hidden_layer_sizes):
        received.update(n_features_in_=n_features_in_, n_classes_=n_classes_, hidden=hidden_layer_sizes)
        return keras.Sequential([keras.Input((n_features_in_,)), keras.layers.Dense(8, activation="tanh"),
                                 keras.layers.Dense(n_classes_, activation="softmax")])

    clf = GlassnetClassifier(model=build, hidden_layer_sizes=(8,), loss="categorical_crossentropy", epochs=60,
                             learning_rate=0.05, random_state=0).fit(x, y)
    assert received == {"n_features_in_": 4, "n_classes_": 3, "hidden": (8,)}
    assert clf.model_.layers[0].units == 8 and clf.score(x, y) > 0.9  # one-hot targets for categorical CE


def test_model_instance_is_copied_with_fresh_weights_per_fit(iris):
    x, y = iris
    template = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    before = template.get_weights()
    clf = GlassnetClassifier(model=template, epochs=5, random_state=0)
    first = clf.fit(x, y).predict_proba(x)
    assert clf.model_ is not template
    for w0, w1 in zip(before, template.get_weights()):
        np.testing.assert_array_equal(w0, w1)  # the template was not trained
    np.testing.assert_array_equal(clf.fit(x, y).predict_proba(x), first)  # a refit starts from scratch


def test_wrong_output_units_are_reported(iris):
    x, y = iris
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(5, activation="softmax")])
    with pytest.raises(ValueError, match="5 output unit"):
        GlassnetClassifier(model=model, epochs=1).fit(x, y)


def test_optimizer_instance_is_copied_and_learning_rate_applied(iris):
    x, y = iris
    sgd = keras.optimizers.SGD(learning_rate=0.5, momentum=0.9)
    clf = GlassnetClassifier(optimizer=sgd, learning_rate=0.05, epochs=3, random_state=0).fit(x, y)
    assert clf.model_.optimizer is not sgd and sgd.iterations == 0
    assert clf.model_.optimizer.learning_rate == pytest.approx(0.05)
    assert clf.model_.optimizer.momentum == pytest.approx(0.9)
    assert clf.model_.optimizer.iterations == 3  # 150 samples, batch_size min(200, n) = 150: one step per epoch


def test_history_and_validation_split(iris):
    x, y = iris
    clf = GlassnetClassifier(epochs=4, validation_split=0.2, random_state=0).fit(x, y)
    assert sorted(clf.history_) == ["loss", "val_loss"] and len(clf.history_["val_loss"]) == 4
    # as Keras, the last 20% of the samples (30 of 150, not shuffled in) are held out: the last val_loss is the
    # cross-entropy of the final model's probabilities on them
    p = clf.predict_proba(x[-30:])
    assert clf.history_["val_loss"][-1] == pytest.approx(-np.mean(np.log(p[np.arange(30), y[-30:]])), rel=1e-5)


def test_pickled_estimator_predicts_the_same(iris):
    x, y = iris
    clf = GlassnetClassifier(epochs=10, random_state=0).fit(x, y)
    copy = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(copy.predict_proba(x), clf.predict_proba(x))
    assert hasattr(clf, "model_")  # pickling did not strip the original


# ----- regressor -------------------------------------------------------------------------------------------------
def test_regressor_learns_a_linear_map_one_and_two_targets():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 3))
    w = np.array([[1.0, -2.0], [0.5, 0.0], [-1.0, 1.5]])
    y = x @ w + np.array([0.3, -0.2])
    reg = GlassnetRegressor(epochs=150, learning_rate=0.01, random_state=0)
    one = clone(reg).fit(x, y[:, 0])
    assert one.predict(x).shape == (300,) and one.n_outputs_ == 1 and one.score(x, y[:, 0]) > 0.99
    two = clone(reg).fit(x, y)
    assert two.predict(x).shape == (300, 2) and two.n_outputs_ == 2 and two.score(x, y) > 0.99
    assert two.model_.loss == "mean_squared_error"


# ----- scikit-learn tools ----------------------------------------------------------------------------------------
def test_pipeline_cross_val_score_equals_the_folds_done_by_hand():
    x, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GlassnetClassifier(epochs=30, random_state=0))
    cv = KFold(3, shuffle=True, random_state=0)
    scores = cross_val_score(pipe, x, y, cv=cv)
    by_hand = []
    for train, test in cv.split(x):
        scaler = StandardScaler().fit(x[train])
        clf = GlassnetClassifier(epochs=30, random_state=0).fit(scaler.transform(x[train]), y[train])
        by_hand.append(np.mean(clf.predict(scaler.transform(x[test])) == y[test]))
    np.testing.assert_allclose(scores, by_hand)
    assert scores.mean() > 0.8


def test_grid_search_picks_the_best_mean_fold_score():
    x, y = load_iris(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), GlassnetClassifier(epochs=20, random_state=0))
    grid = {"glassnetclassifier__hidden_layer_sizes": [(2,), (16,)],
            "glassnetclassifier__learning_rate": [0.001, 0.01]}
    cv = KFold(3, shuffle=True, random_state=1)
    search = GridSearchCV(pipe, grid, cv=cv).fit(x, y)
    means = [cross_val_score(clone(pipe).set_params(**params), x, y, cv=cv).mean()
             for params in search.cv_results_["params"]]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], means)
    assert search.best_params_ == search.cv_results_["params"][int(np.argmax(means))]
    best = search.best_estimator_[-1]
    assert best.hidden_layer_sizes == search.best_params_["glassnetclassifier__hidden_layer_sizes"]
    assert search.score(x, y) > 0.8


def test_seeded_fits_in_threads_equal_the_serial_fits(iris):
    from joblib import parallel_backend

    x, y = iris
    clf = GlassnetClassifier(epochs=10, random_state=3)
    cv = KFold(4, shuffle=True, random_state=0)
    serial = cross_val_score(clf, x, y, cv=cv, scoring="neg_log_loss")
    with parallel_backend("threading", n_jobs=4):  # as Dask's thread workers run them
        threaded = cross_val_score(clf, x, y, cv=cv, scoring="neg_log_loss", n_jobs=4)
    np.testing.assert_array_equal(threaded, serial)
