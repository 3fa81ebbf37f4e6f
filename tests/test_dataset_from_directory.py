"""image_dataset_from_directory and text_dataset_from_directory against Keras 3. Keras builds the datasets on
tf.data (not installed here), so the comparisons are with the parts of Keras that run without it: the file listing
and its seeded shuffle (keras.src.utils.dataset_utils.index_directory), the validation split, the resizing
(keras.ops.image.resize on torch) and the argument errors; the batches are checked against the documented result
(float32 images of 0–255, int32 / one-hot / 0-1 column labels)."""

import numpy as np
import pytest

import glassnet as gk
from glassnet.utils import directories, images

PIL = pytest.importorskip("PIL.Image", reason="image datasets decode with Pillow (pip install 'glassnet[images]')")
SIZES = {"cats": [(8, 6), (5, 9), (7, 7)], "dogs": [(6, 8), (9, 4)], "zebras": [(4, 4), (10, 5), (6, 6), (3, 8)]}


def pixels(height: int, width: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(height, width, 3), dtype=np.uint8)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("images")
    seed = 0
    for name, sizes in SIZES.items():
        (root / name).mkdir()
        for i, (h, w) in enumerate(sizes):
            seed += 1
            PIL.fromarray(pixels(h, w, seed)).save(root / name / f"{i}.png")
    (root / "cats" / "notes.txt").write_text("not an image")
    (root / "cats" / "more").mkdir()
    PIL.fromarray(pixels(5, 5, 99)).save(root / "cats" / "more" / "deep.PNG")
    (root / ".hidden").mkdir()
    return root


@pytest.fixture(scope="module")
def text_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("texts")
    for label, texts in {"neg": ["bad film", "awful, long", "no"], "pos": ["great film", "loved it"]}.items():
        (root / label).mkdir()
        for i, text in enumerate(texts):
            (root / label / f"{i}.txt").write_text(text, encoding="utf-8")
    return root


@pytest.mark.parametrize("kwargs", [dict(shuffle=False), dict(shuffle=True, seed=5), dict(shuffle=True, seed=11),
                                    dict(shuffle=False, class_names=["zebras", "cats"])])
def test_files_are_listed_and_shuffled_as_keras(keras, image_folder, kwargs):
    from keras.src.utils import dataset_utils

    ours = directories.index_directory(str(image_folder), "inferred", directories.IMAGE_FORMATS, verbose=False,
                                       **kwargs)
    theirs = dataset_utils.index_directory(str(image_folder), "inferred", directories.IMAGE_FORMATS, verbose=False,
                                           **kwargs)
    assert ours[0] == theirs[0]
    np.testing.assert_array_equal(ours[1], theirs[1])
    assert ours[2] == theirs[2]
    for subset in ("training", "validation"):
        ours_split = directories._split(ours[0], ours[1], 0.3, subset, verbose=False)
        theirs_split = dataset_utils.get_training_or_validation_split(theirs[0], theirs[1], 0.3, subset)
        assert ours_split[0] == theirs_split[0]
        np.testing.assert_array_equal(ours_split[1], theirs_split[1])


@pytest.mark.parametrize("labels", [None, [3, 1, 4, 1, 5, 9, 2, 6, 5, 3]])
def test_explicit_and_no_labels_are_listed_as_keras(keras, image_folder, labels):
    from keras.src.utils import dataset_utils

    args = (str(image_folder), labels, directories.IMAGE_FORMATS)
    ours = directories.index_directory(*args, seed=8, verbose=False)
    theirs = dataset_utils.index_directory(*args, seed=8, verbose=False)
    assert ours[0] == theirs[0] and ours[2] == theirs[2]
    np.testing.assert_array_equal(ours[1] if labels else [], theirs[1] if labels else [])
    for lib in (directories, dataset_utils):
        with pytest.raises(ValueError, match="Expected the lengths of `labels` to match the number of files"):
            lib.index_directory(str(image_folder), [0, 1], directories.IMAGE_FORMATS, verbose=False)


@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("aspect", [{}, {"crop_to_aspect_ratio": True}, {"pad_to_aspect_ratio": True}])
@pytest.mark.parametrize("shape, size", [((7, 5, 3), (4, 6)), ((10, 12, 1), (10, 12)), ((4, 9, 3), (9, 4))])
def test_resize_matches_keras_ops_image_resize(keras, interpolation, aspect, shape, size):
    image = np.random.default_rng(0).uniform(0, 255, size=shape).astype(np.float32)
    ours = images.resize(image, size, interpolation, **aspect)
    theirs = keras.ops.convert_to_numpy(keras.ops.image.resize(image, size, interpolation=interpolation,
                                                               **aspect))
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-3)


def test_image_batches_hold_the_resized_files_with_keras_label_encodings(keras, image_folder):
    ds = gk.utils.image_dataset_from_directory(image_folder, image_size=(6, 5), batch_size=4, seed=3,
                                               verbose=False)
    assert ds.class_names == ["cats", "dogs", "zebras"] and len(ds.file_paths) == 10 and len(ds) == 3
    x, y = ds[0]
    assert x.shape == (4, 6, 5, 3) and x.dtype == np.float32 and y.dtype == np.int32
    for image, label, path in zip(x, y, ds.file_paths[:4]):
        decoded = np.asarray(PIL.open(path).convert("RGB"), dtype=np.float32)
        expected = keras.ops.convert_to_numpy(keras.ops.image.resize(decoded, (6, 5)))
        np.testing.assert_allclose(image, expected, rtol=1e-5, atol=1e-3)
        assert ds.class_names[label] in path
    one_hot = gk.utils.image_dataset_from_directory(image_folder, label_mode="categorical", image_size=4,
                                                    shuffle=False, color_mode="grayscale", verbose=False)
    x, y = one_hot[0]
    assert x.shape == (10, 4, 4, 1) and y.dtype == np.float32
    np.testing.assert_array_equal(y.argmax(1), [0, 0, 0, 0, 1, 1, 2, 2, 2, 2])
    np.testing.assert_array_equal(y.sum(1), np.ones(10))
    unlabelled = gk.utils.image_dataset_from_directory(image_folder, labels=None, image_size=(3, 3), batch_size=None,
                                                       shuffle=False, verbose=False)
    assert unlabelled[0].shape == (3, 3, 3) and len(unlabelled) == 10


def test_validation_split_reshuffling_and_fit(image_folder):
    train, val = gk.utils.image_dataset_from_directory(image_folder, image_size=(5, 5), batch_size=3,
                                                       validation_split=0.3, subset="both", seed=1, verbose=False)
    assert (len(train.file_paths), len(val.file_paths)) == (7, 3)
    assert not set(train.file_paths) & set(val.file_paths)
    first = np.concatenate([y for _, y in train])
    train.on_epoch_end()  # each epoch a new order of the same files
    second = np.concatenate([y for _, y in train])
    assert sorted(first) == sorted(second)
    model = gk.Sequential([gk.Input((5, 5, 3)), gk.layers.Rescaling(1 / 255), gk.layers.Flatten(),
                           gk.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train, validation_data=val, epochs=2, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert model.predict(val, verbose=0).shape == (3, 3)


def test_binary_labels_need_two_classes(keras, image_folder, tmp_path):
    for lib in (gk, keras):
        with pytest.raises(ValueError, match='When passing `label_mode="binary"`, there must be exactly 2'):
            lib.utils.image_dataset_from_directory(image_folder, label_mode="binary", verbose=False)
    two = gk.utils.image_dataset_from_directory(image_folder, label_mode="binary", class_names=["dogs", "zebras"],
                                                image_size=2, shuffle=False, verbose=False)
    _, y = two[0]
    assert y.dtype == np.float32 and y.shape == (6, 1)
    np.testing.assert_array_equal(y[:, 0], [0, 0, 1, 1, 1, 1])


@pytest.mark.parametrize("kwargs, message", [
    (dict(label_mode="sparse"), '`label_mode` argument must be one of "int", "categorical", "binary"'),
    (dict(color_mode="cmyk"), '`color_mode` must be one of {"rgb", "rgba", "grayscale"}'),
    (dict(image_size=(1, 2, 3)), "Invalid `image_size` value. Expected a tuple of 2 integers"),
    (dict(validation_split=0.2), "If `subset` is set, `validation_split` must be set, and inversely"),
    (dict(validation_split=0.2, subset="training"), "If using `validation_split` and shuffling the data, you must"),
    (dict(validation_split=0.2, subset="train", seed=1), '`subset` must be either "training", "validation" or'),
    (dict(labels="cats"), "`labels` argument should be a list/tuple of integer labels"),
    (dict(class_names=["cats", "lions"]), "The `class_names` passed did not match the names of the subdirectories"),
])
def test_bad_arguments_get_keras_errors(keras, image_folder, kwargs, message):
    for lib in (gk, keras):
        with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
            lib.utils.image_dataset_from_directory(image_folder, verbose=False, **kwargs)


def test_text_batches_and_their_listing_match_keras(keras, text_folder):
    from keras.src.utils import dataset_utils

    ds = gk.utils.text_dataset_from_directory(text_folder, batch_size=2, seed=4, max_length=5, verbose=False)
    paths, labels, names = dataset_utils.index_directory(str(text_folder), "inferred", (".txt",), seed=4,
                                                         verbose=False)
    assert ds.file_paths == paths and ds.class_names == names == ["neg", "pos"]
    texts = np.concatenate([x for x, _ in ds])
    np.testing.assert_array_equal(np.concatenate([y for _, y in ds]), labels)
    assert texts.dtype.kind == "U" and list(texts) == [open(p, encoding="utf-8").read()[:5] for p in paths]
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        keras.utils.text_dataset_from_directory(text_folder, subset="training")
    with pytest.raises(ValueError, match="If `subset` is set, `validation_split` must be set"):
        gk.utils.text_dataset_from_directory(text_folder, subset="training")


def test_listing_prints_what_keras_prints(image_folder, capsys):
    gk.utils.image_dataset_from_directory(image_folder, validation_split=0.2, subset="training", seed=2)
    assert capsys.readouterr().out.splitlines() == ["Found 10 files belonging to 3 classes.",
                                                    "Using 8 files for training."]
