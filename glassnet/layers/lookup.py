"""Categorical preprocessing, computed in NumPy (nothing here has a gradient): StringLookup and IntegerLookup
(vocabulary → indices, learned by ``adapt``), CategoryEncoding (indices → one-hot / multi-hot / count vectors),
Discretization (numbers → bucket indices, boundaries given or learned as quantiles) and Hashing (values → bins).

These layers take raw data, strings included, which glassnet Tensors cannot hold: ``__call__`` reads the values
directly (a Tensor's array, a NumPy array, a list, a string) and returns a Tensor of the result; on symbolic
inputs (``keras.Input``) they record their call like every layer.
"""

from __future__ import annotations

import heapq
import numbers
import os
from collections import Counter
from itertools import repeat
from operator import itemgetter

import numpy as np

from glassnet import backend
from glassnet.autodiff.tensor import Tensor
from glassnet.layers.base import Layer
from glassnet.layers.fingerprints import fingerprint64, siphash24
from glassnet.layers.preprocessing import batches_of
from glassnet.layers.symbolic import KerasTensor, is_symbolic

ENCODINGS = ("int", "one_hot", "multi_hot", "count")


def check_choice(value, allowed: tuple, layer: str, arg: str) -> str:
    """``value`` if it is one of ``allowed``, else Keras's message naming the argument."""
    if value not in allowed:
        raise ValueError(f"Unknown value for `{arg}` argument of layer {layer}. Allowed values are: {allowed}. "
                         f"Received: {value!r}")
    return value


def as_values(inputs) -> np.ndarray:
    """The raw values of an input: a Tensor's array, or NumPy's array of a list, string or number."""
    return inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs)


def encode_rows(indices: np.ndarray, rows: np.ndarray, num_rows: int, output_mode: str, depth: int, dtype: str,
                weights: np.ndarray | None = None) -> np.ndarray:
    """(num_rows, depth) vectors from the indices found in each row: multi_hot puts 1 where an index occurs, count
    (and tf_idf before its weights) how often, each occurrence adding ``weights`` (1 by default)."""
    if output_mode == "multi_hot":
        hot = np.zeros((num_rows, depth), dtype=dtype)
        hot[rows, indices] = 1
        return hot
    flat = rows.astype(np.int64) * depth + indices.astype(np.int64)
    counts = np.bincount(flat, weights=weights, minlength=num_rows * depth).reshape(num_rows, depth)
    return counts.astype(dtype)


def encode_categorical(indices: np.ndarray, output_mode: str, depth: int, dtype: str,
                       count_weights: np.ndarray | None = None) -> np.ndarray:
    """Keras's encoding of integer indices in [0, depth): ``int`` keeps them; ``one_hot`` gives each a row e_i (a
    trailing axis of size 1 replaced by depth); ``multi_hot``/``count`` reduce the last axis to one vector of depth
    entries (a rank-1 input is one sample)."""
    if output_mode == "int":
        return indices.astype(dtype)
    if indices.ndim == 0:
        indices = indices.reshape(1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return np.eye(depth, dtype=dtype)[indices]
    if indices.ndim > 2:
        raise ValueError(f"When output_mode is not `'int'`, maximum supported output rank is 2. Received "
                         f"output_mode {output_mode} and input shape {indices.shape}, which would result in output "
                         f"rank {indices.ndim}.")
    rows2d = indices.reshape(-1, indices.shape[-1])
    row_ids = np.repeat(np.arange(rows2d.shape[0]), rows2d.shape[1])
    weights = None if count_weights is None else np.asarray(count_weights, dtype=np.float64).reshape(-1)
    out = encode_rows(rows2d.reshape(-1), row_ids, rows2d.shape[0], output_mode, depth, dtype, weights)
    return out if indices.ndim == 2 else out[0]


def encoded_shape(input_shape: tuple, output_mode: str, depth: int) -> tuple:
    """The output shape of ``encode_categorical`` for inputs of ``input_shape``."""
    shape = tuple(input_shape)
    if output_mode == "int":
        return shape
    if output_mode == "one_hot":
        return (*shape[:-1], depth) if len(shape) > 1 and shape[-1] == 1 else (*shape, depth)
    return (shape[0], *shape[2:], depth) if len(shape) >= 2 else (depth,)


class ValueLayer(Layer):
    """A layer computed on raw values: ``compute(values)`` maps a NumPy array (strings allowed) to a NumPy array,
    returned as a Tensor of its dtype (strings, e.g. an inverted lookup's tokens, stay a NumPy array: Tensors hold
    numbers); ``output_dtype`` and ``compute_output_shape`` describe it for symbolic calls."""

    output_dtype = "int64"

    def __call__(self, inputs, *args, **kwargs):
        if is_symbolic(inputs):
            return super().__call__(inputs, *args, **kwargs)
        values = as_values(inputs)
        if not self.built:
            self.build(values.shape)
        result = self.compute(values)
        return Tensor(result, dtype=result.dtype) if result.dtype.kind in "biuf" else result

    def call(self, x):
        result = self.compute(as_values(x))
        return Tensor(result, dtype=result.dtype)

    def compute(self, values: np.ndarray) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define compute()")

    def compute_output_spec(self, inputs, *args, **kwargs):
        return KerasTensor(tuple(self.compute_output_shape(inputs.shape)), self.output_dtype)


class CategoryEncoding(ValueLayer):
    """``CategoryEncoding(num_tokens, output_mode='multi_hot', sparse=False)``: integer indices in [0, num_tokens)
    as vectors of num_tokens entries — one_hot (one row per index), multi_hot (1 where an index of the sample
    occurs), count (how often; ``count_weights`` weigh each occurrence)."""

    def __init__(self, num_tokens: int | None = None, output_mode: str = "multi_hot", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        check_choice(output_mode, ("count", "one_hot", "multi_hot"), "CategoryEncoding", "output_mode")
        if num_tokens is None:
            raise ValueError("num_tokens must be set to use this layer. If the number of tokens is not known "
                             "beforehand, use the IntegerLookup layer instead.")
        if isinstance(num_tokens, bool) or not isinstance(num_tokens, numbers.Integral) or num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError("CategoryEncoding: glassnet returns dense arrays; received sparse=True.")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False
        self.output_dtype = self.dtype

    def __call__(self, inputs, count_weights=None, **kwargs):
        if count_weights is not None:
            indices = self._indices(as_values(inputs))
            return Tensor(encode_categorical(indices, self.output_mode, self.num_tokens, self.dtype,
                                             as_values(count_weights)))
        return super().__call__(inputs, **kwargs)

    def _indices(self, values: np.ndarray) -> np.ndarray:
        self.check_input_values(values)
        return values.astype(np.int64)

    def check_input_values(self, values: np.ndarray) -> None:
        """Refuse values that are not whole numbers in [0, num_tokens); fit runs it on all the data this layer reads
        first before any step (``Model.input_readers``), and every call on its batch."""
        if values.dtype.kind not in "biuf" or (values.dtype.kind == "f" and np.any(values != np.round(values))):
            raise ValueError(f"CategoryEncoding '{self.name}' expects integer indices, received an array of dtype "
                             f"{values.dtype}")
        if values.size and (values.min() < 0 or values.max() >= self.num_tokens):
            raise ValueError(f"Input values must be in the range 0 <= values < num_tokens with num_tokens="
                             f"{self.num_tokens}. Received: min={values.min()}, max={values.max()} in layer "
                             f"'{self.name}'")

    def compute(self, values: np.ndarray) -> np.ndarray:
        return encode_categorical(self._indices(values), self.output_mode, self.num_tokens, self.dtype)

    def compute_output_shape(self, input_shape) -> tuple:
        return encoded_shape(input_shape, self.output_mode, self.num_tokens)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_tokens": self.num_tokens, "output_mode": self.output_mode}


# ----- Discretization ----------------------------------------------------------------------------------------------
def summarize(values: np.ndarray, epsilon: float) -> np.ndarray:
    """A 2×n summary of a sample, Keras's quantile sketch: about 1/ε sorted values evenly spaced by rank (every
    step-th one, step = max(n·ε, 1)), each weighing ``step`` values."""
    values = np.sort(np.reshape(values, -1))
    step = max(values.size * epsilon, 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.full(boundaries.shape, step, dtype=boundaries.dtype)])


def compress_summary(summary: np.ndarray, epsilon: float) -> np.ndarray:
    """A summary reduced to 1/ε points: values and cumulative weights interpolated at the cumulative shares
    ε, 2ε, …, 1 (left as it is when it is already that small)."""
    if summary.shape[1] * epsilon < 1:
        return summary
    shares = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    cumulative_share = cumulative / cumulative[-1]
    values = np.interp(shares, cumulative_share, summary[0])
    at_shares = np.interp(shares, cumulative_share, cumulative)
    return np.stack((values, np.diff(at_shares, prepend=0.0))).astype("float32")


def merge_summaries(first: np.ndarray, second: np.ndarray, epsilon: float) -> np.ndarray:
    """Two summaries as one: their points sorted by value, then compressed back to 1/ε points."""
    merged = np.concatenate((first, second), axis=1)
    return compress_summary(merged[:, np.argsort(merged[0], kind="stable")], epsilon)


class Discretization(ValueLayer):
    """``Discretization(bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode='int')``: a number x goes to
    bucket i with b[i−1] ≤ x < b[i] (0 below the first boundary, len(b) above the last); with ``num_bins``,
    ``adapt`` learns the boundaries as approximate quantiles (Keras's sketch of precision ``epsilon``)."""

    def __init__(self, bin_boundaries=None, num_bins: int | None = None, epsilon: float = 0.01,
                 output_mode: str = "int", sparse: bool = False, dtype=None, name: str | None = None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        check_choice(output_mode, ENCODINGS, "Discretization", "output_mode")
        if sparse:
            raise ValueError("Discretization: glassnet returns dense arrays; received sparse=True.")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError("Both `num_bins` and `bin_boundaries` should not be set. Received: "
                             f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`")
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon, self.output_mode, self.sparse = num_bins, epsilon, output_mode, False
        self.output_dtype = "int32" if output_mode == "int" else self.dtype

    def adapt(self, data) -> None:
        """Boundaries at the 1/num_bins, 2/num_bins, … quantiles of ``data`` (an array or an iterable of
        batches), found from merged summaries of each batch."""
        if self.num_bins is None:
            raise ValueError("Cannot adapt a Discretization layer that has been initialized with `bin_boundaries`, "
                             "use `num_bins` instead.")
        summary = np.array([[], []], dtype="float32")
        for batch in batches_of(data, "Discretization"):
            summary = merge_summaries(summarize(batch.astype("float32"), self.epsilon), summary, self.epsilon)
        self.bin_boundaries = compress_summary(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def compute(self, values: np.ndarray) -> np.ndarray:
        if self.bin_boundaries is None:
            raise ValueError("You need to either pass the `bin_boundaries` argument at construction time or call "
                             "`adapt(dataset)` before you can start using the `Discretization` layer.")
        indices = np.digitize(values.astype(backend.floatx()), np.asarray(self.bin_boundaries, dtype=np.float64))
        return encode_categorical(indices, self.output_mode, len(self.bin_boundaries) + 1, self.output_dtype)

    def compute_output_shape(self, input_shape) -> tuple:
        depth = len(self.bin_boundaries) + 1 if self.bin_boundaries is not None else self.num_bins
        return encoded_shape(input_shape, self.output_mode, depth)

    def get_config(self) -> dict:
        return {"bin_boundaries": self.bin_boundaries, "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse, "name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict) -> Discretization:
        config = dict(config)
        boundaries = config.pop("bin_boundaries", None) if config.get("num_bins") is not None else None
        layer = cls(**config)
        if boundaries is not None:  # adapted boundaries of a num_bins layer
            layer.bin_boundaries = boundaries
        return layer


# ----- Hashing -----------------------------------------------------------------------------------------------------
def hash_buckets(values: np.ndarray, buckets: int, salt: list[int] | None = None) -> np.ndarray:
    """TensorFlow's string hash buckets, as Keras uses them: each value's bytes (strings as UTF-8, numbers as their
    decimal text, floats first cut to integers) hashed by FarmHash's Fingerprint64, or by SipHash-2-4 keyed by the
    two numbers of ``salt``, then taken mod ``buckets``."""
    if values.dtype.kind == "f":
        values = values.astype(np.int64)
    def text(value) -> bytes:
        return value if isinstance(value, bytes) else str(value).encode("utf-8")
    if salt is None:
        hashes = [fingerprint64(text(v)) % buckets for v in values.reshape(-1).tolist()]
    else:
        hashes = [siphash24(text(v), salt[0], salt[1]) % buckets for v in values.reshape(-1).tolist()]
    return np.array(hashes, dtype=np.int64).reshape(values.shape)


def salt_pair(salt, layer: str) -> list[int] | None:
    """A salt as Keras keeps it: None, or two integers (one integer s stands for [s, s])."""
    if salt is None:
        return None
    if isinstance(salt, numbers.Integral) and not isinstance(salt, bool):
        return [int(salt), int(salt)]
    if isinstance(salt, (tuple, list)) and len(salt) == 2 and all(isinstance(s, numbers.Integral) for s in salt):
        return [int(s) for s in salt]
    raise ValueError(f"The `salt` argument for `{layer}` can only be a tuple of 2 integers, or a single integer. "
                     f"Received: salt={salt}.")


class Hashing(ValueLayer):
    """``Hashing(num_bins, mask_value=None, salt=None, output_mode='int')``: each value (string or number) to bin
    hash(value) mod num_bins, hash being FarmHash's Fingerprint64 (SipHash-2-4 keyed by ``salt`` when given), as
    Keras computes it through TensorFlow; with ``mask_value`` that value goes to bin 0 and the others to
    1 + hash mod (num_bins − 1)."""

    def __init__(self, num_bins: int, mask_value=None, salt=None, output_mode: str = "int", sparse: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(num_bins, bool) or not isinstance(num_bins, numbers.Integral) or num_bins <= 0:
            raise ValueError(f"The `num_bins` for `Hashing` cannot be `None` or non-positive values. Received: "
                             f"num_bins={num_bins}.")
        check_choice(output_mode, ENCODINGS, "Hashing", "output_mode")
        if sparse:
            raise ValueError("Hashing: glassnet returns dense arrays; received sparse=True.")
        self.num_bins, self.mask_value, self.output_mode, self.sparse = int(num_bins), mask_value, output_mode, False
        self.salt = salt_pair(salt, "Hashing")
        self.output_dtype = "int64" if output_mode == "int" else self.dtype

    def compute(self, values: np.ndarray) -> np.ndarray:
        if self.mask_value is None or self.num_bins == 1:
            bins = hash_buckets(values, self.num_bins, self.salt)
        else:
            bins = hash_buckets(values, self.num_bins - 1, self.salt) + 1
            bins[values == self.mask_value] = 0
        return encode_categorical(bins, self.output_mode, self.num_bins, self.output_dtype)

    def compute_output_shape(self, input_shape) -> tuple:
        return encoded_shape(input_shape, self.output_mode, self.num_bins)

    def get_config(self) -> dict:
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt, "mask_value": self.mask_value,
                "output_mode": self.output_mode, "sparse": self.sparse}


# ----- StringLookup and IntegerLookup ------------------------------------------------------------------------------
def inverse_document_frequency(document_counts: np.ndarray, num_documents: int) -> np.ndarray:
    """idf = ln(1 + N / (1 + df)), Keras's smoothed inverse document frequency."""
    return np.log(1 + num_documents / (1 + document_counts))


class IndexLookup(ValueLayer):
    """A vocabulary as indices: [mask token (in 'int' mode)] + OOV indices + the tokens, in that order. ``adapt``
    orders the tokens by frequency, ties by the token, both descending (Keras's rule), keeping ``max_tokens``.
    Outputs: indices ('int'), or one_hot / multi_hot / count / tf_idf vectors over the vocabulary; ``invert``
    maps indices back to tokens."""

    MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype, vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, **kwargs):
        kwargs.pop("vocabulary_size", None)  # in Keras's config: follows from the vocabulary
        super().__init__(**kwargs)
        layer = type(self).__name__
        check_choice(output_mode, self.MODES, layer, "output_mode")
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"If set, `max_tokens` must be greater than 1. Received: max_tokens={max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"If pad_to_max_tokens is True, must set `max_tokens`. Received: max_tokens="
                             f"{max_tokens}")
        if num_oov_indices < 0:
            raise ValueError(f"`num_oov_indices` must be greater than or equal to 0. Received: num_oov_indices="
                             f"{num_oov_indices}")
        if invert and output_mode != "int":
            raise ValueError(f"`output_mode` must be `'int'` when `invert` is true. Received: output_mode="
                             f"{output_mode}")
        if output_mode == "tf_idf" and vocabulary is not None and idf_weights is None:
            raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf' and a vocabulary is passed.")
        if sparse:
            raise ValueError(f"{layer}: glassnet returns dense arrays; received sparse=True.")
        check_choice(oov_method, ("floormod", "farmhash"), layer, "oov_method")
        if salt is not None and vocabulary_dtype == "int64" and oov_method != "farmhash":
            raise ValueError(f"`salt` can only be used when `oov_method='farmhash'`. Received: oov_method="
                             f"{oov_method}")
        self.oov_method, self.salt = oov_method, salt_pair(salt, "IndexLookup")
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token, self.vocabulary_dtype = mask_token, oov_token, vocabulary_dtype
        self.invert, self.output_mode, self.sparse, self.pad_to_max_tokens = invert, output_mode, False, \
            pad_to_max_tokens
        self.input_vocabulary, self.input_idf_weights = vocabulary, idf_weights
        self.output_dtype = "int64" if output_mode == "int" else self.dtype
        self.use_tokens([])
        self.idf_weights: np.ndarray | None = None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # the vocabulary
    def special_tokens(self) -> list:
        """The tokens before the learned ones: the mask (in 'int' mode), then the OOV token once per OOV index."""
        mask = [self.mask_token] if self.mask_token is not None and self.output_mode == "int" else []
        return mask + [self.oov_token] * self.num_oov_indices

    def token_start(self) -> int:
        return len(self.special_tokens())

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        """Use ``vocabulary`` (a list, an array or a text file with one token per line), which may start with the
        special tokens; repeated or misplaced special tokens are refused, as in Keras."""
        if isinstance(vocabulary, (str, os.PathLike)) and os.path.isfile(vocabulary):
            with open(vocabulary, encoding="utf-8") as f:
                vocabulary = [line.rstrip("\n") for line in f]
        tokens = [self.token_value(t) for t in np.asarray(vocabulary).reshape(-1).tolist()]
        special = self.special_tokens()
        if tokens[:len(special)] == special:
            tokens = tokens[len(special):]
        reserved = {t for t in (self.mask_token, self.oov_token) if t is not None}
        if reserved & set(tokens):
            raise ValueError(f"Found reserved tokens in `vocabulary`: {sorted(map(str, reserved & set(tokens)))}. "
                             f"Special tokens ({special}) may only appear at the start of the vocabulary.")
        if len(set(tokens)) != len(tokens):
            repeated = [t for t, c in Counter(tokens).items() if c > 1]
            raise ValueError(f"The passed vocabulary has at least one repeated term. Please uniquify your dataset. "
                             f"The repeated terms are: {repeated}")
        if self.max_tokens is not None and len(tokens) + self.token_start() > self.max_tokens:
            raise ValueError(f"Attempted to set a vocabulary larger than the maximum vocab size. Received "
                             f"vocabulary size is {len(tokens) + self.token_start()}; `max_tokens` is "
                             f"{self.max_tokens}.")
        self.use_tokens(tokens)
        if self.output_mode == "tf_idf":
            weights = np.asarray(idf_weights, dtype=self.dtype).reshape(-1)
            if weights.size == len(tokens) + self.token_start():  # given for the special tokens too
                self.idf_weights = weights
                return
            if weights.size != len(tokens):
                raise ValueError(f"`idf_weights` must be the same length as vocabulary. len(idf_weights) is "
                                 f"{weights.size}; len(vocabulary) is {len(tokens)}")
            mean = weights.mean() if weights.size else 0.0  # the OOV indices: the mean idf, as Keras
            self.idf_weights = np.concatenate([np.full(self.token_start(), mean), weights]).astype(self.dtype)

    def use_tokens(self, tokens: list) -> None:
        """Make ``tokens`` the vocabulary: token i gets index token_start + i; the mask token, 0 in 'int' mode (−1
        in the others: not counted)."""
        self.tokens = tokens
        self.table = {t: i + self.token_start() for i, t in enumerate(tokens)}
        if self.mask_token is not None:
            self.table[self.mask_token] = 0 if self.output_mode == "int" else -1

    def token_value(self, token):
        """A vocabulary entry as this layer keys it (str for strings, int for integers)."""
        raise NotImplementedError(f"{type(self).__name__} must define token_value()")

    def get_vocabulary(self, include_special_tokens: bool = True) -> list:
        """The tokens by index: the special tokens first (unless ``include_special_tokens=False``)."""
        return (self.special_tokens() if include_special_tokens else []) + list(self.tokens)

    def vocabulary_size(self) -> int:
        """The number of indices the vocabulary uses, special tokens included."""
        return self.token_start() + len(self.tokens)

    def adapt(self, data, steps: int | None = None) -> None:
        """Learn the vocabulary from ``data`` (an array or an iterable of batches; ``steps`` batches at most)."""
        counts, document_counts, documents = Counter(), Counter(), 0
        for i, batch in enumerate(batches_of(data, type(self).__name__)):
            if steps is not None and i >= steps:
                break
            values, frequencies = np.unique(batch.reshape(-1), return_counts=True)
            counts.update(dict(zip((self.token_value(v) for v in values.tolist()), frequencies.tolist())))
            if self.output_mode == "tf_idf":
                rows = batch.reshape(len(batch), -1) if batch.ndim else batch.reshape(1, 1)
                for row in rows:
                    document_counts.update({self.token_value(v) for v in row.tolist()})
                documents += len(rows)
        self.learn_vocabulary(counts, document_counts, documents)

    def learn_vocabulary(self, counts: Counter, document_counts: Counter, num_documents: int) -> None:
        """The vocabulary from token counts: by count, ties by token, both descending, after the special tokens,
        ``max_tokens`` in all; in tf_idf mode each token's idf (the OOV indices get their mean)."""
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        by_count_then_token = itemgetter(1, 0)
        if self.max_tokens:  # the same as sorting all and keeping the first ones
            ranked = heapq.nlargest(self.max_tokens - self.token_start(), counts.items(), key=by_count_then_token)
        else:
            ranked = sorted(counts.items(), key=by_count_then_token, reverse=True)
        tokens = [token for token, _ in ranked]
        self.use_tokens(tokens)
        if self.output_mode == "tf_idf":
            idf = inverse_document_frequency(np.array([document_counts[t] for t in tokens], dtype=np.float64),
                                             num_documents).astype(self.dtype)
            mean = idf.mean() if idf.size else 0.0
            self.idf_weights = np.concatenate([np.full(self.token_start(), mean, dtype=self.dtype), idf])

    # the lookup
    def oov_index(self, token) -> int:
        """The OOV index of an unknown token: the first, or one of ``num_oov_indices`` chosen by its hash."""
        if self.num_oov_indices == 0:
            raise ValueError(f"When `num_oov_indices=0` all inputs should be in vocabulary, found OOV values "
                             f"{token!r} in layer '{self.name}'")
        start = 1 if self.mask_token is not None and self.output_mode == "int" else 0
        if self.num_oov_indices == 1:
            return start
        return start + self.oov_bucket(token)

    def oov_bucket(self, token) -> int:
        """Which of several OOV indices an unknown token takes: its hash bucket (FarmHash, or SipHash with a salt),
        or for integers with oov_method='floormod' (Keras's default) the token mod num_oov_indices."""
        if self.vocabulary_dtype == "int64" and self.oov_method == "floormod":
            return int(token) % self.num_oov_indices
        return int(hash_buckets(np.array([token], dtype=object), self.num_oov_indices, self.salt)[0])

    def lookup_tokens(self, tokens: list) -> np.ndarray:
        """Indices of a flat list of tokens (the mask token → 0 in 'int' mode, −1 in the others: not counted)."""
        out = np.fromiter(map(self.table.get, tokens, repeat(-2)), dtype=np.int64, count=len(tokens))
        unknown = np.flatnonzero(out == -2)
        if unknown.size and self.num_oov_indices == 1:
            out[unknown] = self.oov_index(tokens[unknown[0]])
        else:
            for i in unknown:
                out[i] = self.oov_index(tokens[i])
        return out

    def known_depth(self) -> int | None:
        """The length of the output vectors: max_tokens when padded to it, else the vocabulary's size (None while
        a vector layer has no vocabulary yet)."""
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self.output_mode != "int" and not self.tokens and self.input_vocabulary is None:
            return None
        return self.vocabulary_size()

    def depth(self) -> int:
        """``known_depth``, which a call needs: a vector layer without a vocabulary is refused, as in Keras."""
        if self.known_depth() is None:
            raise RuntimeError(f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, you must "
                               "set the layer's vocabulary before calling it. Either pass a `vocabulary` argument to "
                               "the layer, or call `adapt` with some sample data.")
        return self.known_depth()

    def encode(self, indices: np.ndarray) -> np.ndarray:
        """Indices as the output mode asks (-1 marks a mask token, left out of the vectors)."""
        if self.output_mode == "int":
            return indices
        shape = indices.shape if indices.ndim else (1,)
        rows2d = indices.reshape(-1, shape[-1]) if self.output_mode != "one_hot" else indices.reshape(-1, 1)
        row_ids = np.repeat(np.arange(rows2d.shape[0]), rows2d.shape[1])
        keep = rows2d.reshape(-1) >= 0
        mode = "count" if self.output_mode in ("tf_idf", "one_hot") else self.output_mode
        out = encode_rows(rows2d.reshape(-1)[keep], row_ids[keep], rows2d.shape[0], mode, self.depth(), self.dtype)
        if self.output_mode == "tf_idf":
            out = out * np.pad(self.idf_weights, (0, self.depth() - self.idf_weights.size))
        if self.output_mode == "one_hot":
            return out.reshape(*(shape[:-1] if len(shape) > 1 and shape[-1] == 1 else shape), self.depth())
        return out if indices.ndim == 2 else out.reshape(*shape[:-2], self.depth()) if indices.ndim > 2 else out[0]

    def compute(self, values: np.ndarray) -> np.ndarray:
        if self.invert:
            return self.invert_indices(values)
        tokens = [self.token_value(v) for v in values.reshape(-1).tolist()]
        return self.encode(self.lookup_tokens(tokens).reshape(values.shape))

    def invert_indices(self, values: np.ndarray) -> np.ndarray:
        """Tokens of indices: the vocabulary's entry, the OOV token for an index beyond it."""
        vocabulary = np.array(self.get_vocabulary() + [self.oov_token], dtype=object)
        indices = np.clip(values.astype(np.int64), -1, len(vocabulary) - 1)
        indices[indices < 0] = len(vocabulary) - 1
        return vocabulary[indices].astype(self.vocabulary_numpy_dtype)

    vocabulary_numpy_dtype = object

    def compute_output_shape(self, input_shape) -> tuple:
        if self.output_mode == "int":
            return tuple(input_shape)
        return encoded_shape(input_shape, self.output_mode if self.output_mode != "tf_idf" else "count",
                             self.known_depth())

    def compute_output_spec(self, inputs, *args, **kwargs):
        dtype = self.vocabulary_dtype if self.invert else self.output_dtype
        return KerasTensor(tuple(self.compute_output_shape(inputs.shape)), dtype)

    def vocabulary_config(self) -> dict:
        """The config's ``vocabulary`` and ``idf_weights``: as given, or the learned ones after ``adapt`` (Keras
        keeps those in the file's assets; glassnet's files have none, so the config carries them and a layer
        rebuilt from it looks up the same indices)."""
        if self.input_vocabulary is not None:
            vocabulary, idf = np.asarray(self.input_vocabulary).tolist(), self.input_idf_weights
        else:
            vocabulary, idf = (list(self.tokens) or None), self.idf_weights
        return {"idf_weights": None if idf is None else np.asarray(idf).tolist(), "vocabulary": vocabulary}

    def get_config(self) -> dict:
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode, "sparse": self.sparse,
                "pad_to_max_tokens": self.pad_to_max_tokens, "vocabulary_dtype": self.vocabulary_dtype,
                **self.vocabulary_config(), "vocabulary_size": self.vocabulary_size(), "oov_method": self.oov_method,
                "salt": self.salt}


class StringLookup(IndexLookup):
    """``StringLookup(max_tokens=None, num_oov_indices=1, mask_token=None, oov_token='[UNK]', vocabulary=None,
    idf_weights=None, invert=False, output_mode='int', pad_to_max_tokens=False, encoding='utf-8', salt=None)``:
    strings to indices; several OOV indices share unknown strings by their FarmHash bucket (SipHash with a salt),
    as in Keras."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]", vocabulary=None,
                 idf_weights=None, invert=False, output_mode="int", pad_to_max_tokens=False, sparse=False,
                 encoding="utf-8", salt=None, **kwargs):
        kwargs.pop("vocabulary_dtype", None)
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, "string", vocabulary, idf_weights,
                         invert, output_mode, sparse, pad_to_max_tokens, kwargs.pop("oov_method", "floormod"), salt,
                         **kwargs)

    def token_value(self, token):
        return token.decode(self.encoding) if isinstance(token, bytes) else str(token)

    def compute(self, values: np.ndarray) -> np.ndarray:
        if values.dtype.kind not in "USO" and not self.invert:
            raise ValueError(f"StringLookup '{self.name}' expects strings, received an array of dtype "
                             f"{values.dtype}")
        return super().compute(values)

    def get_config(self) -> dict:
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """``IntegerLookup(max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, vocabulary=None,
    vocabulary_dtype='int64', idf_weights=None, invert=False, output_mode='int', pad_to_max_tokens=False,
    oov_method='floormod', salt=None)``: integers to indices; with several OOV indices, an unknown value v takes
    OOV index v mod num_oov_indices, or its FarmHash bucket with oov_method='farmhash'."""

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1, output_mode="int",
                 sparse=False, vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 pad_to_max_tokens=False, oov_method="floormod", salt=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: `vocabulary_dtype` must be 'int64'. Received: {vocabulary_dtype}")
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, "int64", vocabulary, idf_weights,
                         invert, output_mode, sparse, pad_to_max_tokens, oov_method, salt, **kwargs)

    vocabulary_numpy_dtype = np.int64

    def token_value(self, token):
        value = float(token) if not isinstance(token, numbers.Integral) else token
        if value != int(value):
            raise ValueError(f"IntegerLookup '{self.name}' expects integers, received {token!r}")
        return int(value)

