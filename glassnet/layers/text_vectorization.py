"""TextVectorization: raw strings → standardized → split into tokens → n-grams → indices of a vocabulary (a
StringLookup with mask '' and OOV '[UNK]'), as int sequences or multi_hot / count / tf_idf vectors.

Keras 3 runs this layer through TensorFlow's string ops; glassnet runs it in plain Python and NumPy with the same
rules: ``lower`` lowercases ASCII letters only (tf.strings.lower), ``strip_punctuation`` deletes the characters of
Keras's pattern (ASCII punctuation), ``whitespace`` splits on runs of ASCII whitespace, n-grams join tokens with a
space, all 1-grams before all 2-grams.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from itertools import chain

import numpy as np

from glassnet.layers.lookup import StringLookup, ValueLayer, check_choice, encode_rows
from glassnet.layers.preprocessing import batches_of

STANDARDIZE = (None, "lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = (None, "whitespace", "character")
#: ASCII letters lowercased, Keras's punctuation r'[!"#$%&()\*\+,-\./:;<=>?@\[\\\]^_`{|}~\']' deleted
LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
STRIP = str.maketrans("", "", string.punctuation)
LOWER_AND_STRIP = str.maketrans(string.ascii_uppercase, string.ascii_lowercase, string.punctuation)
#: runs of ASCII whitespace (TensorFlow's split), not Unicode's wider set that str.split uses
TOKEN = re.compile(r"[^ \t\n\r\v\f]+")


def ngrams_of(tokens: list[str], widths: tuple[int, ...]) -> list[str]:
    """All n-grams of ``tokens`` for each width in turn, each joined by a space: [a, b, c] with (1, 2) gives
    [a, b, c, 'a b', 'b c']."""
    grams: list[str] = []
    for n in widths:
        grams.extend(tokens if n == 1 else map(" ".join, zip(*(tokens[i:] for i in range(n)))))
    return grams


class TextVectorization(ValueLayer):
    """``TextVectorization(max_tokens=None, standardize='lower_and_strip_punctuation', split='whitespace',
    ngrams=None, output_mode='int', output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
    idf_weights=None)``: a batch of strings (shape (batch,) or (batch, 1)) to (batch, length) int64 indices
    (0 pads, 1 is '[UNK]') or (batch, vocabulary) float vectors. ``adapt`` learns the vocabulary by frequency."""

    def __init__(self, max_tokens: int | None = None, standardize="lower_and_strip_punctuation", split="whitespace",
                 ngrams=None, output_mode: str = "int", output_sequence_length: int | None = None,
                 pad_to_max_tokens: bool = False, vocabulary=None, idf_weights=None, sparse: bool = False,
                 ragged: bool = False, encoding: str = "utf-8", **kwargs):
        kwargs.pop("vocabulary_size", None)  # in Keras's config: follows from the vocabulary
        super().__init__(**kwargs)
        if not callable(standardize):
            check_choice(standardize, STANDARDIZE, "TextVectorization", "standardize")
        if not callable(split):
            check_choice(split, SPLIT, "TextVectorization", "split")
        check_choice(output_mode, ("int", "multi_hot", "count", "tf_idf"), "TextVectorization", "output_mode")
        if not (ngrams is None or (isinstance(ngrams, int) and not isinstance(ngrams, bool)) or (
                isinstance(ngrams, tuple) and all(isinstance(item, int) for item in ngrams))):
            raise ValueError(f"`ngrams` must be None, an integer, or a tuple of integers. Received: ngrams={ngrams}")
        if output_mode == "int" and not (output_sequence_length is None or (
                isinstance(output_sequence_length, int) and output_sequence_length > 0)):
            raise ValueError(f"`output_sequence_length` must be either None or an integer when `output_mode` is "
                             f"'int'. Received: output_sequence_length={output_sequence_length}")
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(f"`output_sequence_length` must not be set if `output_mode` is not 'int'. Received: "
                             f"output_sequence_length={output_sequence_length}.")
        if ragged or sparse:
            raise ValueError("TextVectorization: glassnet returns dense arrays; received "
                             f"ragged={ragged}, sparse={sparse}.")
        self.standardize, self.split, self.ngrams = standardize, split, ngrams
        self.ngram_widths = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self.output_mode, self.output_sequence_length, self.encoding = output_mode, output_sequence_length, encoding
        self.sparse = self.ragged = False
        self.output_dtype = "int64" if output_mode == "int" else self.dtype
        self.lookup_layer = StringLookup(max_tokens=max_tokens, mask_token="", vocabulary=vocabulary,
                                         idf_weights=idf_weights, output_mode=output_mode,
                                         pad_to_max_tokens=pad_to_max_tokens, encoding=encoding,
                                         name=f"{self.name}_string_lookup", dtype=self.dtype)

    # text → tokens
    def texts(self, values: np.ndarray) -> list[str]:
        """The batch's strings, standardized; a (batch, 1) batch is read as (batch,)."""
        if values.dtype.kind not in "USO":
            raise ValueError(f"TextVectorization '{self.name}' expects strings, received an array of dtype "
                             f"{values.dtype}")
        if values.ndim > 1:
            if values.shape[-1] != 1:
                raise ValueError(f"When using `TextVectorization` to tokenize strings, the input rank must be 1 or "
                                 f"the last shape dimension must be 1. Received: inputs.shape={values.shape} with "
                                 f"rank={values.ndim}")
            values = values.reshape(values.shape[:-1])
        texts = [v.decode(self.encoding) if isinstance(v, bytes) else str(v) for v in values.reshape(-1).tolist()]
        if callable(self.standardize):
            return [str(t) for t in np.asarray(self.standardize(np.array(texts, dtype=str))).reshape(-1).tolist()]
        table = {"lower": LOWER, "strip_punctuation": STRIP, "lower_and_strip_punctuation": LOWER_AND_STRIP}
        if self.standardize is None:
            return texts
        return [t.translate(table[self.standardize]) for t in texts]

    def tokens(self, values: np.ndarray) -> list[list[str]]:
        """Each string's tokens: split, then n-grams."""
        texts = self.texts(values)
        if self.split is None:
            rows = [[t] for t in texts]
        elif self.split == "whitespace":
            rows = [TOKEN.findall(t) for t in texts]
        elif self.split == "character":
            rows = [list(t) for t in texts]
        else:
            rows = [[str(token) for token in self.split(t)] for t in texts]
        if self.ngram_widths is not None:
            rows = [ngrams_of(row, self.ngram_widths) for row in rows]
        return rows

    # the vocabulary
    def adapt(self, data, batch_size: int | None = None, steps: int | None = None) -> None:
        """Learn the vocabulary from strings: an array or list of them (read ``batch_size`` at a time when given), or
        an iterable of batches; ``steps`` batches at most."""
        if isinstance(data, (list, tuple)) and data and isinstance(data[0], (str, bytes)):
            data = np.asarray(data, dtype=object)
        if batch_size is not None and isinstance(data, np.ndarray):
            data = [data[i:i + batch_size] for i in range(0, len(data), batch_size)]
        counts, document_counts, documents = Counter(), Counter(), 0
        for i, batch in enumerate(batches_of(data, "TextVectorization")):
            if steps is not None and i >= steps:
                break
            rows = self.tokens(batch)
            counts.update(chain.from_iterable(rows))
            if self.output_mode == "tf_idf":
                document_counts.update(chain.from_iterable(set(row) for row in rows))
                documents += len(rows)
        self.lookup_layer.learn_vocabulary(counts, document_counts, documents)

    def get_vocabulary(self, include_special_tokens: bool = True) -> list[str]:
        return self.lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self) -> int:
        return self.lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None) -> None:
        self.lookup_layer.set_vocabulary(vocabulary, idf_weights)

    # tokens → output
    def __call__(self, inputs, *args, **kwargs):
        if isinstance(inputs, (str, bytes)):
            inputs = [inputs]
        return super().__call__(inputs, *args, **kwargs)

    def compute(self, values: np.ndarray) -> np.ndarray:
        rows = self.tokens(values)
        lengths = np.fromiter((len(row) for row in rows), dtype=np.int64, count=len(rows))
        indices = self.lookup_layer.lookup_tokens(list(chain.from_iterable(rows)))
        row_ids = np.repeat(np.arange(len(rows)), lengths)
        if self.output_mode != "int":
            depth = self.lookup_layer.depth()
            keep = indices >= 0  # '' (the mask) is not counted
            mode = "count" if self.output_mode == "tf_idf" else self.output_mode
            out = encode_rows(indices[keep], row_ids[keep], len(rows), mode, depth, self.dtype)
            if self.output_mode == "tf_idf":
                weights = self.lookup_layer.idf_weights
                out *= np.pad(weights, (0, depth - weights.size))
            return out
        length = self.output_sequence_length or (int(lengths.max()) if len(rows) else 0)
        positions = np.arange(len(indices)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
        keep = positions < length
        out = np.zeros((len(rows), length), dtype=np.int64)
        out[row_ids[keep], positions[keep]] = indices[keep]
        return out

    def compute_output_shape(self, input_shape) -> tuple:
        batch = input_shape[0] if input_shape else None
        if self.output_mode == "int":
            return (batch, self.output_sequence_length)
        return (batch, self.lookup_layer.known_depth())

    def get_config(self) -> dict:
        lookup = self.lookup_layer
        return {**super().get_config(), "max_tokens": lookup.max_tokens, "standardize": self.standardize,
                "split": self.split, "ngrams": self.ngrams, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length, "pad_to_max_tokens": lookup.pad_to_max_tokens,
                "sparse": self.sparse, "ragged": self.ragged, **lookup.vocabulary_config(),
                "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()}
