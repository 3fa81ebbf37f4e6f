"""Loaders in fit/evaluate/predict, against Keras 3: PyDataset (Sequence) and generators give the same weights,
batches per epoch and indices read as in Keras; fit never reads a PyDataset past its length; workers, processes
and the bounded queue are real; bad loaders get Keras's errors or one naming the batch; and fitting from a loader
runs in bounded memory (an address-space cap that reading the whole dataset would blow)."""

import os
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest

import glassnet as gk
from glassnet.utils.py_dataset import prefetched

ROWS, FEATURES = 4, 3


def batch_of(i: int, rows: int = ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Batch i of a small regression dataset, the same every time it is asked for."""
    rng = np.random.default_rng(i)
    x = rng.normal(size=(rows, FEATURES)).astype(np.float32)
    return x, (x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3)


def make_dataset(base):
    """A PyDataset class on `base` (glassnet's or Keras's) that records the indices it is asked for."""

    class Batches(base):
        def __init__(self, n=5, **kwargs):
            super().__init__(**kwargs)
            self.n, self.seen, self.epochs_ended = n, [], 0

        def __len__(self):
            return self.n

        def __getitem__(self, i):
            self.seen.append(i)
            return batch_of(i)

        def on_epoch_end(self):
            self.epochs_ended += 1

    return Batches


class Endless(gk.utils.PyDataset):
    """A Keras-style loader whose __getitem__ never raises IndexError (the issue's 23.8 GB loader)."""

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        self.n, self.seen, self.lock = n, [], threading.Lock()

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        with self.lock:
            self.seen.append(i)
        return batch_of(i)


class Pids(gk.utils.PyDataset):
    """Each batch says which process made it (for the multiprocessing test; a module-level class pickles)."""

    def __len__(self):
        return 6

    def __getitem__(self, i):
        return os.getpid()


def gen(n):
    for i in range(n):
        yield batch_of(i)


def twin_models(keras):
    """A Keras model and a glassnet model with the same weights, both compiled with SGD(0.1) and MSE."""
    k_model = keras.Sequential([keras.Input((FEATURES,)), keras.layers.Dense(1)])
    k_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    g_model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    g_model.compile(optimizer=gk.optimizers.SGD(0.1), loss="mse")
    g_model.set_weights([np.asarray(w) for w in k_model.get_weights()])
    return k_model, g_model


class EpochBatches:
    """Batches trained on in each epoch, through a callback of either library."""

    @staticmethod
    def make(base):
        class Count(base):
            def __init__(self):
                super().__init__()
                self.counts = []

            def on_epoch_begin(self, epoch, logs=None):
                self.counts.append(0)

            def on_train_batch_end(self, batch, logs=None):
                self.counts[-1] += 1

        return Count()


def test_pydataset_is_the_class_and_sequence_its_alias(keras):
    assert gk.utils.Sequence is gk.utils.PyDataset
    assert keras.utils.Sequence is keras.utils.PyDataset
    ours, theirs = make_dataset(gk.utils.PyDataset)(), make_dataset(keras.utils.PyDataset)()
    for attr in ("workers", "use_multiprocessing", "max_queue_size", "num_batches"):
        assert getattr(ours, attr) == getattr(theirs, attr)
    for (gx, gy), (kx, ky) in zip(ours, theirs, strict=True):  # iterating reads 0 … len − 1, as Keras's
        np.testing.assert_array_equal(gx, kx)
        np.testing.assert_array_equal(gy, ky)
    with pytest.raises(ValueError, match="`workers` must be an integer of at least 0"):
        gk.utils.PyDataset(workers=-1)
    assert list(prefetched(make_dataset(gk.utils.PyDataset)(workers=0, use_multiprocessing=True), range(2)))


def test_fit_on_a_pydataset_matches_keras(keras):
    k_model, g_model = twin_models(keras)
    k_data, g_data = make_dataset(keras.utils.PyDataset)(), make_dataset(gk.utils.PyDataset)()
    k_hist = k_model.fit(k_data, epochs=3, shuffle=False, verbose=0)
    g_hist = g_model.fit(g_data, epochs=3, shuffle=False, verbose=0)
    assert g_data.seen == [0, 1, 2, 3, 4] * 3
    assert k_data.seen == [0] + g_data.seen  # Keras reads batch 0 once more first, to learn the batches' specs
    assert g_data.epochs_ended == 3  # once per epoch, as documented (Keras 3.15 calls it once more, at the start)
    assert k_data.epochs_ended == 4
    np.testing.assert_allclose(g_hist.history["loss"], k_hist.history["loss"], rtol=1e-5)
    for g, k in zip(g_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), rtol=1e-5, atol=1e-6)
    assert g_model.evaluate(g_data, verbose=0) == pytest.approx(k_model.evaluate(k_data, verbose=0), rel=1e-5)
    np.testing.assert_allclose(g_model.predict(g_data, verbose=0), k_model.predict(k_data, verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_steps_per_epoch_over_a_pydataset_continues_across_epochs_as_keras(keras):
    k_model, g_model = twin_models(keras)
    k_data, g_data = make_dataset(keras.utils.PyDataset)(), make_dataset(gk.utils.PyDataset)()
    k_count, g_count = EpochBatches.make(keras.callbacks.Callback), EpochBatches.make(gk.callbacks.Callback)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        g_model.fit(g_data, epochs=4, steps_per_epoch=2, shuffle=False, verbose=0, callbacks=[g_count])
    k_model.fit(k_data, epochs=4, steps_per_epoch=2, shuffle=False, verbose=0, callbacks=[k_count])
    assert g_count.counts == k_count.counts == [2, 2, 1, 2]  # the pass ends after batch 4: Keras warns
    assert g_data.seen == k_data.seen[1:] == [0, 1, 2, 3, 4, 0, 1]
    assert any("ran out of data" in str(w.message) for w in caught)
    for g, k in zip(g_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), rtol=1e-5, atol=1e-6)


def test_fit_on_generators_matches_keras(keras):
    k_model, g_model = twin_models(keras)
    k_count, g_count = EpochBatches.make(keras.callbacks.Callback), EpochBatches.make(gk.callbacks.Callback)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        k_hist = k_model.fit(gen(5), epochs=1, verbose=0, callbacks=[k_count])  # until used up
        g_hist = g_model.fit(gen(5), epochs=1, verbose=0, callbacks=[g_count])
        assert g_count.counts == k_count.counts == [5]
        np.testing.assert_allclose(g_hist.history["loss"], k_hist.history["loss"], rtol=1e-5)
        k_count, g_count = EpochBatches.make(keras.callbacks.Callback), EpochBatches.make(gk.callbacks.Callback)
        k_model.fit(gen(5), epochs=3, steps_per_epoch=2, verbose=0, callbacks=[k_count])
        g_model.fit(gen(5), epochs=3, steps_per_epoch=2, verbose=0, callbacks=[g_count])
    assert g_count.counts == k_count.counts == [2, 2, 1]
    for g, k in zip(g_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(g, np.asarray(k), rtol=1e-5, atol=1e-6)
    assert g_model.evaluate(gen(3), verbose=0) == pytest.approx(k_model.evaluate(gen(3), verbose=0), rel=1e-5)
    np.testing.assert_allclose(g_model.predict(gen(3), verbose=0), k_model.predict(gen(3), verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_a_used_up_generator_ends_fit_and_an_iterable_starts_again():
    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match="ran out of data"):
        history = model.fit(gen(3), epochs=4, verbose=0, shuffle=False)
    assert history.epoch == [0]  # the generator is used up after the first epoch

    class Batches:  # an iterable that is not its own iterator: each pass starts again
        def __iter__(self):
            return gen(3)

    history = model.fit(Batches(), epochs=3, verbose=0, shuffle=False,
                        validation_data=Batches(), validation_steps=2)
    assert history.epoch == [0, 1, 2] and len(history.history["val_loss"]) == 3


@pytest.mark.parametrize("workers", [1, 3])
def test_fit_never_reads_a_pydataset_past_its_length(workers):
    data = Endless(6, workers=workers, max_queue_size=2)
    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(data, epochs=2, verbose=0, validation_data=Endless(2))
    model.evaluate(data, verbose=0)
    assert model.predict(data, verbose=0).shape == (6 * ROWS, 1)
    assert sorted(data.seen) == sorted(list(range(6)) * 4)  # 2 epochs, evaluate, predict: 0 … 5 each time


def test_a_pydataset_that_skips_super_init_gets_keras_warning_and_defaults():
    class Bare(gk.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return batch_of(i)

    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        model.fit(Bare(), epochs=2, verbose=0)


def test_workers_run_in_threads_and_processes():
    seen_threads = []

    class Where(gk.utils.PyDataset):
        def __len__(self):
            return 6

        def __getitem__(self, i):
            seen_threads.append(threading.current_thread().name)
            return i

    assert list(prefetched(Where(workers=2), range(6))) == list(range(6))  # in order, whatever thread made it
    assert seen_threads and all(name.startswith("glassnet-pydataset") for name in seen_threads)
    pids = list(prefetched(Pids(workers=2, use_multiprocessing=True), range(6)))
    assert len(pids) == 6 and os.getpid() not in pids


def test_the_queue_holds_at_most_max_queue_size_batches_ahead():
    requested = []

    class Slow(gk.utils.PyDataset):
        def __len__(self):
            return 20

        def __getitem__(self, i):
            requested.append(i)
            return i

    for consumed, value in enumerate(prefetched(Slow(workers=4, max_queue_size=3), range(20))):
        assert value == consumed
        assert max(requested) <= consumed + 3  # never more than 3 batches made ahead of the one handed out


def test_bad_loaders_get_keras_errors(keras):
    k_model, g_model = twin_models(keras)
    x, y = batch_of(0)
    cases = [
        (lambda m, lib: m.fit(make_dataset(lib.utils.PyDataset)(), y, verbose=0),
         "When providing `x` as a PyDataset, `y` should not be passed"),
        (lambda m, lib: m.fit(gen(2), sample_weight=np.ones(ROWS), verbose=0),
         "When providing `x` as a generator, `sample_weights` should not be passed"),
        (lambda m, lib: m.fit(gen(2), class_weight={0: 1.0}, verbose=0),
         "Argument `class_weight` is not supported for Python generator inputs"),
        (lambda m, lib: m.fit((a for a in [x]), verbose=0),
         "When passing a Python generator to a Keras model, the generator must return a tuple"),
        (lambda m, lib: m.fit(iter(()) if lib is gk else (a for a in []), verbose=0),
         "the generator must yield at least one batch"),
        (lambda m, lib: m.fit(gen(3), validation_split=0.5, verbose=0),
         "Argument `validation_split` is only supported for tensors or NumPy arrays"),
    ]
    for run, message in cases:
        for model, lib in ((k_model, keras), (g_model, gk)):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
                    run(model, lib)


def test_inconsistent_batches_are_named_with_both_shapes_and_dtypes():
    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")

    def shapes():
        yield batch_of(0)
        yield batch_of(1)
        yield np.zeros((ROWS, FEATURES + 1), np.float32), np.zeros((ROWS, 1), np.float32)

    with pytest.raises(ValueError, match=r"batch 2 from the generator has `x` of shape \(4, 4\) and dtype float32, "
                                         r"but batch 0 had shape \(4, 3\) and dtype float32"):
        model.fit(shapes(), verbose=0, shuffle=False)

    def dtypes():
        yield batch_of(0)
        x, y = batch_of(1)
        yield x.astype(np.float64), y

    with pytest.raises(ValueError, match=r"batch 1 .* dtype float64, but batch 0 had .* dtype float32"):
        model.fit(dtypes(), verbose=0, shuffle=False)


def test_each_loader_batch_gets_the_checks_arrays_get():
    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = batch_of(0)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError) as from_arrays:
        model.fit(bad, y, verbose=0)

    def with_nan():
        yield batch_of(0)
        yield bad, y

    with pytest.raises(ValueError) as from_loader:
        model.fit(with_nan(), verbose=0, shuffle=False)
    assert str(from_loader.value) == str(from_arrays.value)  # "fit: argument `x` contains 1 NaN …"
    assert "contains 1 NaN" in str(from_loader.value)


def test_class_weight_weights_a_pydataset_s_batches():
    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1, activation="sigmoid")])
    model.compile(gk.optimizers.SGD(0.0), "binary_crossentropy")

    class Labels(gk.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, i):
            x, _ = batch_of(0)
            return x, np.array([0, 1, 1, 0], np.float32)

    weighted = model.fit(Labels(), class_weight={0: 1.0, 1: 3.0}, verbose=0, shuffle=False).history["loss"][0]
    x, _ = batch_of(0)
    plain = model.evaluate(x, np.array([0, 1, 1, 0], np.float32), sample_weight=np.array([1, 3, 3, 1.0]),
                           verbose=0)
    assert weighted == pytest.approx(plain, rel=1e-6)


MEMORY_PROGRAM = textwrap.dedent("""
    import resource, sys
    import numpy as np
    import glassnet as gk

    ROWS, FEATURES = 2048, 512                      # one batch: 4 MiB of float32
    BATCHES = 256                                   # the dataset: 1 GiB, made on demand

    class Big(gk.utils.PyDataset):
        def __init__(self, n, **kwargs):
            super().__init__(**kwargs)
            self.n = n
        def __len__(self):
            return self.n
        def __getitem__(self, i):                   # never raises IndexError
            return np.full((ROWS, FEATURES), i % 7 / 7, np.float32), np.ones((ROWS, 1), np.float32)

    def batches(n):
        for i in range(n):
            yield np.full((ROWS, FEATURES), i % 7 / 7, np.float32), np.ones((ROWS, 1), np.float32)

    model = gk.Sequential([gk.Input((FEATURES,)), gk.layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(Big(4, workers=2, max_queue_size=4), epochs=2, verbose=0)   # every lazy allocation made now
    model.fit(batches(4), verbose=0)

    def used():
        for line in open("/proc/self/status"):
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    cap = used() + 256 * 2**20                      # 256 MiB more: the queue and a few batches, not the data
    resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    try:
        np.ones(BATCHES * ROWS * FEATURES, np.float32)
        sys.exit("the cap did not hold: reading the dataset into memory would fit under it")
    except MemoryError:
        pass
    model.fit(Big(BATCHES, workers=2, max_queue_size=4), epochs=1, verbose=0)
    model.fit(batches(BATCHES), verbose=0)
    print("bounded", BATCHES * ROWS * FEATURES * 4 >> 20, "MiB through a cap of", (cap - used()) >> 20, "MiB")
""")


def test_fitting_from_a_loader_runs_in_bounded_memory():
    env = dict(os.environ, MALLOC_ARENA_MAX="2", OPENBLAS_NUM_THREADS="1", NUMBA_NUM_THREADS="1")
    done = subprocess.run([sys.executable, "-c", MEMORY_PROGRAM], capture_output=True, text=True, env=env,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "bounded 1024 MiB" in done.stdout
