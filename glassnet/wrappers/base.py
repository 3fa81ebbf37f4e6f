"""What the classifier and the regressor share: the parameters, building a fresh model for every fit, seeding,
compiling and training. The subclasses say how targets are encoded and how outputs become predictions."""

from __future__ import annotations

import contextlib
import inspect
import numbers
import threading
from collections.abc import Iterator

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from glassnet import backend, layers, losses, optimizers
from glassnet.models import Sequential
from glassnet.wrappers.rows import as_dense, predict_in_blocks

#: scipy sparse formats taken as they are; scikit-learn converts the others (DOK, LIL, DIA, BSR) to CSR first,
#: checking their values for NaN and inf on the way
SPARSE_FORMATS = ("csr", "csc", "coo")

_FIT_LOCK = threading.RLock()


@contextlib.contextmanager
def seeded(random_state) -> Iterator[None]:
    """Run the block with glassnet's global generator seeded from ``random_state`` (an int or a NumPy RandomState),
    then put the previous generator back, so a seeded fit is reproducible without changing the caller's
    randomness. ``None`` leaves the global generator as it is. Blocks in threads of one process (joblib or Dask
    thread workers) run one at a time, so no other fit can draw from a seeded generator."""
    if random_state is None:
        seed = None
    elif isinstance(random_state, np.random.RandomState):
        seed = int(random_state.randint(np.iinfo(np.int32).max))
    elif isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool) and random_state >= 0:
        seed = int(random_state)
    else:
        raise ValueError(f"random_state must be None, a non-negative integer or a numpy RandomState, received "
                         f"{random_state!r}")
    with _FIT_LOCK, backend.temporary_seed(seed):
        yield


def hidden_sizes(hidden_layer_sizes) -> tuple[int, ...]:
    """``hidden_layer_sizes`` as a tuple of positive ints (an int means one hidden layer, as in scikit-learn)."""
    sizes = (hidden_layer_sizes,) if isinstance(hidden_layer_sizes, numbers.Integral) else tuple(hidden_layer_sizes)
    if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must hold positive integers, received {hidden_layer_sizes!r}")
    return tuple(int(s) for s in sizes)


class GlassnetEstimator(BaseEstimator):
    """Parameters and training shared by :class:`GlassnetClassifier` and :class:`GlassnetRegressor`.

    ``model``: None (a multilayer perceptron of ``hidden_layer_sizes`` with ``activation``, like scikit-learn's
    MLP), a Sequential (its architecture is copied, with fresh weights, at every fit), or a function returning a
    Sequential; the function receives those of ``n_features_in_``, ``n_classes_``, ``classes_``, ``n_outputs_``
    and this estimator's parameters that it names as arguments. ``optimizer``: a name or an Optimizer (copied per
    fit), with ``learning_rate`` overriding its rate when given. ``loss``: None picks one from the task.
    ``batch_size=None`` means min(200, n_samples), as scikit-learn's MLP. ``random_state`` seeds every random
    choice of a fit (initial weights, shuffling, dropout): the same value gives identical predictions.
    """

    def __init__(self, model=None, hidden_layer_sizes=(100,), activation="relu", optimizer="adam",
                 learning_rate: float | None = None, loss=None, epochs: int = 200, batch_size: int | None = None,
                 validation_split: float = 0.0, shuffle: bool = True, verbose: int = 0, random_state=None):
        self.model = model
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.loss = loss
        self.epochs = epochs
        self.batch_size = batch_size
        self.validation_split = validation_split
        self.shuffle = shuffle
        self.verbose = verbose
        self.random_state = random_state

    # ----- what subclasses define ------------------------------------------------------------------------------
    def _read_targets(self, y) -> dict:
        """Set the fitted target attributes (classes_, n_outputs_, ...) and return the meta for model functions."""
        raise NotImplementedError

    def _output_layer(self) -> tuple[int, str]:
        """(units, activation) of the default model's output layer."""
        raise NotImplementedError

    def _default_loss(self, output_units: int) -> str:
        raise NotImplementedError

    def _encode_targets(self, y, loss, output_units: int) -> np.ndarray:
        raise NotImplementedError

    # ----- the model -------------------------------------------------------------------------------------------
    def _default_model(self, n_features: int) -> Sequential:
        units, activation = self._output_layer()
        hidden = [layers.Dense(size, activation=self.activation) for size in hidden_sizes(self.hidden_layer_sizes)]
        return Sequential([layers.Input((n_features,)), *hidden, layers.Dense(units, activation=activation)])

    def _new_model(self, meta: dict) -> Sequential:
        """A fresh, built model: the default MLP, a copy of the given Sequential, or the model function's result."""
        if self.model is None:
            model = self._default_model(meta["n_features_in_"])
        elif isinstance(self.model, Sequential):
            model = type(self.model).from_config(self.model.get_config())
        elif callable(self.model):
            model = self.model(**self._model_arguments(meta))
            if not isinstance(model, Sequential):
                raise TypeError(f"{type(self).__name__}: the model function must return a glassnet Sequential, "
                                f"received {type(model).__name__}")
        else:
            raise TypeError(f"{type(self).__name__}: `model` must be None, a glassnet Sequential or a function "
                            f"returning one, received {type(self.model).__name__}")
        if not model.built:
            model.build((None, meta["n_features_in_"]))
        return model

    def _model_arguments(self, meta: dict) -> dict:
        """The meta values and estimator parameters that the model function names (all meta for ``**kwargs``)."""
        parameters = inspect.signature(self.model).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return dict(meta)
        available = {**self.get_params(deep=False), **meta}
        available.pop("model")
        return {name: available[name] for name in parameters if name in available}

    def _new_optimizer(self) -> optimizers.Optimizer:
        """A state-free copy of ``optimizer`` (so refits start fresh), with ``learning_rate`` applied if given."""
        config = optimizers.serialize(optimizers.get(self.optimizer))
        if self.learning_rate is not None:
            config["config"]["learning_rate"] = float(self.learning_rate)
        return optimizers.deserialize(config)

    # ----- fit -------------------------------------------------------------------------------------------------
    def _fit(self, X, y, sample_weight=None, **validate_kwargs):
        X, y = validate_data(self, X, y, dtype=(np.float64, np.float32), accept_sparse=SPARSE_FORMATS,
                             **validate_kwargs)
        X = as_dense(X)  # fit stores large, mostly-zero inputs as SparseRows again
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float32, ensure_non_negative=True)
        meta = {"n_features_in_": self.n_features_in_, **self._read_targets(y)}
        with seeded(self.random_state):
            model = self._new_model(meta)
            output_units = int(model.output_shape[-1])
            loss = self.loss if self.loss is not None else self._default_loss(output_units)
            targets = self._encode_targets(y, losses.get(loss), output_units)
            model.compile(optimizer=self._new_optimizer(), loss=loss)
            batch_size = self.batch_size if self.batch_size is not None else min(200, len(X))
            history = model.fit(X, targets, batch_size=batch_size, epochs=self.epochs, verbose=self.verbose,
                                validation_split=self.validation_split, shuffle=self.shuffle,
                                sample_weight=sample_weight)
        self.model_ = model
        self.history_ = {key: list(values) for key, values in history.history.items()}
        return self

    # ----- pickling (joblib, Dask and model persistence send fitted estimators between processes) ----------------
    def __getstate__(self) -> dict:
        """The fitted model travels as data (config, compile settings, weights), never as live training objects."""
        state = dict(super().__getstate__())  # object.__getstate__ may return the live __dict__
        model = state.pop("model_", None)
        if model is not None:
            state["_model_data"] = {"config": model.get_config(), "compile_config": model.get_compile_config(),
                                    "weights": model.get_weights()}
        return state

    def __setstate__(self, state: dict) -> None:
        model_data = state.pop("_model_data", None)
        super().__setstate__(state)
        if model_data is not None:
            model = Sequential.from_config(model_data["config"])
            model.set_weights(model_data["weights"])
            if model_data["compile_config"]:
                model.compile_from_config(model_data["compile_config"])
            self.model_ = model

    def _outputs(self, X) -> np.ndarray:
        """The fitted model's outputs for validated ``X`` (dense or scipy sparse), as float64; each row's output
        depends on that row alone."""
        check_is_fitted(self, "model_")
        X = validate_data(self, X, dtype=(np.float64, np.float32), accept_sparse=SPARSE_FORMATS, reset=False)
        return predict_in_blocks(self.model_, X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
