"""Issue 16's examples: the ch. 8 convnets (MNIST, Fashion-MNIST), the ch. 11 IMDB models (bidirectional LSTM,
bigrams) and ch. 5's overfitting demo.

Fast tests check that each is registered, builds the book's model (parameter counts equal to Keras's) and runs its
``--quick`` version end to end; the full runs assert the issue's bars on seeds 0-2 and are marked slow
(GLASSNET_SLOW=1).
"""

import json

import numpy as np
import pytest

from glassnet import cli, examples
from glassnet.datasets import imdb
from glassnet.examples import _common, convnet_fashion_mnist, convnet_mnist, imdb_bigrams, imdb_lstm, overfitting

NEW_EXAMPLES = ("convnet_mnist", "convnet_fashion_mnist", "imdb_lstm", "imdb_bigrams", "overfitting")
SEEDS = ("0", "1", "2")


def test_the_new_examples_are_listed_by_the_command(capsys):
    assert set(NEW_EXAMPLES) <= set(examples.EXAMPLES)
    assert cli.main(["example", "--help"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in NEW_EXAMPLES)


@pytest.mark.parametrize("module, build, input_shape, params", [
    (convnet_mnist, "build_model", (None, 28, 28, 1), 104_202),  # the book's summary
    (imdb_lstm, "build_model", (None, 200), 20000 * 256 + 2 * 4 * 32 * (256 + 32 + 1) + 64 + 1),
    (imdb_bigrams, "get_model", (None, 20000), 20000 * 16 + 16 + 16 + 1),
    (overfitting, "l2_model", (None, 10000), 10000 * 16 + 16 + 16 * 16 + 16 + 16 + 1),
    (overfitting, "dropout_model", (None, 10000), 10000 * 16 + 16 + 16 * 16 + 16 + 16 + 1),
])
def test_the_book_models_have_keras_parameter_counts(keras, monkeypatch, module, build, input_shape, params):
    """The example's own model code, run once with glassnet and once with Keras 3 swapped in for its import."""
    counts = []
    for library in (None, keras):
        if library is not None:
            for name, value in (("keras", keras), ("layers", keras.layers), ("regularizers", keras.regularizers)):
                if hasattr(module, name):
                    monkeypatch.setattr(module, name, value)
        model = getattr(module, build)()
        if not model.built:
            model.build(input_shape)
        counts.append(model.count_params())
    assert counts == [params, params]


def test_l2_model_carries_the_books_regularizer():
    model = overfitting.l2_model()
    model.build((None, 10000))
    config = model.layers[0].get_config()["kernel_regularizer"]
    assert config["config"]["l2"] == pytest.approx(0.002)


def test_reviews_decode_back_to_their_words():
    word_index = {"the": 1, "film": 2, "was": 3, "brilliant": 4}
    texts = imdb_bigrams.decode_reviews([[1, 4, 5, 6, 7], [1, 7, 2]], word_index)  # 1: start mark, 2: unknown
    assert list(texts) == ["the film was brilliant", "brilliant"]


def test_epochs_must_be_positive():
    with pytest.raises(SystemExit):
        convnet_mnist.main(["--epochs", "0"])


def test_a_quick_run_trains_its_own_epochs():
    def epochs(*argv):
        return _common.parse_args(list(argv), "overfitting", "d", quick="q", epochs=20, quick_epochs=4).epochs

    assert (epochs(), epochs("--epochs", "7"), epochs("--quick"), epochs("--quick", "--epochs", "7")) == (20, 7, 4, 4)


def test_the_text_examples_hold_out_the_first_training_reviews():
    (train, y_train), (val, y_val), (test, y_test) = _common.imdb_splits(quick=True, num_words=100)
    assert (len(train), len(val), len(test)) == (1500, 500, 2000)  # a quarter of the quick run's 2,000 held out
    (all_train, all_labels), (all_test, _) = imdb.load_data(num_words=100)
    assert list(val[0]) == list(all_train[0]) and list(train[0]) == list(all_train[500])
    assert list(test[-1]) == list(all_test[1999])
    assert y_train.dtype == y_val.dtype == y_test.dtype == np.float32
    assert np.array_equal(y_train, np.asarray(all_labels[500:2000], dtype=np.float32))


def check_outputs(results: dict, out) -> None:
    saved = json.loads((out / "results.json").read_text())
    assert saved["example"] == results["example"] and saved["passed"] is None
    if results["plot"] is not None:
        with open(results["plot"], "rb") as f:
            assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_convnet_quick_run_learns_from_2000_images(tmp_path, capsys):
    results = convnet_mnist.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    assert "Total params: 104,202" in capsys.readouterr().out
    assert results["epochs"] == 1 and results["train_samples"] == convnet_mnist.QUICK_SAMPLES
    assert results["test_accuracy"] >= 0.6  # seed 0 measured 0.810 (1 epoch of 32 steps; chance is 0.1)
    check_outputs(results, tmp_path)


def test_bigrams_quick_run_learns_from_1500_reviews(tmp_path):
    results = imdb_bigrams.main(["--quick", "--seed", "0", "--out", str(tmp_path)])
    assert results["vocabulary_size"] == imdb_bigrams.MAX_TOKENS
    assert results["test_accuracy"] >= 0.75  # seed 0 measured 0.836
    check_outputs(results, tmp_path)


def full_runs(module, tmp_path, *extra: str) -> list[dict]:
    return [module.main(["--seed", seed, "--out", str(tmp_path / seed), *extra]) for seed in SEEDS]


@pytest.mark.slow
@pytest.mark.parametrize("module", [convnet_mnist, convnet_fashion_mnist, imdb_lstm, imdb_bigrams])
def test_full_runs_reach_the_issue_bars(module, tmp_path):
    accuracies = [r["test_accuracy"] for r in full_runs(module, tmp_path)]
    assert min(accuracies) >= module.BAR_TEST_ACCURACY, accuracies  # every seed


@pytest.mark.slow
def test_regularization_keeps_the_validation_loss_down(tmp_path):
    for results in full_runs(overfitting, tmp_path):
        final = results["final_val_loss"]
        assert final["l2"] < final["original"] and final["dropout"] < final["original"]
        original = results["history"]["original"]["val_loss"]
        assert np.argmin(original) < len(original) - 1  # the original overfits: its best epoch is not its last
