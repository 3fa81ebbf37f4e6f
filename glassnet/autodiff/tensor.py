"""Tensor (a read-only value plus the Function that made it), Variable (a trainable value) and ``no_grad``.

A Tensor never changes after it is made, like a TensorFlow tensor: its NumPy array is read-only. Parameters are
Variables, whose value changes only through ``assign``, ``assign_add`` and ``assign_sub`` (what optimizers call).
"""

from __future__ import annotations

import contextlib
import itertools
import threading
from collections.abc import Iterator

import numpy as np

from glassnet import backend, kernels
from glassnet.kernels import storage


class _EngineState(threading.local):
    """Per-thread recording settings (like Keras and PyTorch): one thread's no_grad never affects another's."""

    grad_enabled = True
    record_all = False  # set by record(): keep the graph even where no input needs a gradient
    release = None  # set by releasing(): told of each recorded op (autodiff/release.py)
    scope = ""  # the current name scope, "model/dense_1"; recorded on each op for inspection


_state = _EngineState()


def is_grad_enabled() -> bool:
    """Whether new operations are recorded for backpropagation (in this thread)."""
    return _state.grad_enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Run operations without recording them: no graph, no gradients (used by predict and evaluate)."""
    previous, _state.grad_enabled = _state.grad_enabled, False
    try:
        yield
    finally:
        _state.grad_enabled = previous


@contextlib.contextmanager
def record() -> Iterator[None]:
    """Record every op, even those whose inputs need no gradient (what inspect.trace uses to see a forward pass)."""
    previous, _state.record_all = _state.record_all, True
    try:
        yield
    finally:
        _state.record_all = previous


@contextlib.contextmanager
def releasing(release) -> Iterator[None]:
    """Tell ``release`` (a ``release.UnreachableValues``) of each op recorded inside, so that it lets go of the values
    only the graph still holds: a training step's trace and its eager run, whose graphs no one reads values from."""
    previous, _state.release = _state.release, release
    try:
        yield
    finally:
        _state.release = previous


@contextlib.contextmanager
def name_scope(name: str) -> Iterator[None]:
    """Label the ops run inside with ``name`` (nested scopes join with '/'); layers wrap their call in one."""
    previous = _state.scope
    _state.scope = f"{previous}/{name}" if previous else name
    try:
        yield
    finally:
        _state.scope = previous


def current_scope() -> str:
    return _state.scope


class ImmutableTensorError(TypeError):
    """Raised on an attempt to write into a Tensor."""


def _readonly(array: np.ndarray) -> np.ndarray:
    if array.flags.writeable:
        array = array.view()
        array.flags.writeable = False
    return array


class Tensor:
    """An immutable n-dimensional value, with the Function that produced it (``op``) and, after backward, ``grad``.

    ``Tensor(value, dtype=None, requires_grad=False)``: lists and integers become float32 (``backend.floatx()``),
    NumPy float arrays keep their dtype. ``op`` is None for a leaf (data or a Variable).
    """

    # _keras_mask: the mask a layer attached to its output (Keras's attribute), read by the next layer's call
    __slots__ = ("_data", "grad", "requires_grad", "op", "name", "_keras_mask", "__weakref__")
    __array_priority__ = 100  # numpy_array + tensor defers to Tensor.__radd__

    def __init__(self, value, dtype=None, requires_grad: bool = False, name: str | None = None):
        if isinstance(value, Tensor):
            value = value._data
        self._data = _readonly(backend.to_array(value, dtype, name=name or "Tensor value"))
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self.op = None
        self.name = name

    @classmethod
    def _from_op(cls, data: np.ndarray, op) -> Tensor:
        """Internal fast constructor for the output of a Function (no validation, no copy)."""
        t = cls.__new__(cls)
        if isinstance(data, np.ndarray):
            data = _readonly(data)
        elif not kernels.is_kernel_array(data):  # those are read-only already
            data = np.asarray(data)
        t._data = data
        t.grad = None
        t.requires_grad = op is not None
        t.op = op
        t.name = None
        return t

    # ----- the value -------------------------------------------------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The value as a read-only NumPy array (no copy)."""
        return self._data

    def numpy(self) -> np.ndarray:
        """The value as a read-only NumPy array (no copy), like ``tf.Tensor.numpy()``; a value held in a kernel's
        own layout (SparseRows) is made dense."""
        return self._data if isinstance(self._data, np.ndarray) else np.asarray(self._data)

    def item(self) -> float:
        return self._data.item()

    def tolist(self):
        return self._data.tolist()

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def size(self) -> int:
        return self._data.size

    def __len__(self) -> int:
        return len(self._data)

    def __array__(self, dtype=None, copy=None):
        if dtype is not None and np.dtype(dtype) != self._data.dtype:
            return self._data.astype(dtype)
        return self._data.copy() if copy else self._data

    def __float__(self) -> float:
        return float(self._data)

    def __repr__(self) -> str:
        if not isinstance(self._data, np.ndarray):
            return f"Tensor({self._data!r})"
        body = np.array2string(self._data, precision=4, separator=", ", threshold=20, edgeitems=2)
        origin = f", op={type(self.op).__name__}" if self.op is not None else ""
        return f"Tensor({body}, shape={self.shape}, dtype={self.dtype}{origin})"

    def __setitem__(self, key, value):
        raise ImmutableTensorError(
            "Tensors are immutable: their values cannot be written in place. Build a new tensor with ops "
            "(for example glassnet.ops.where), or keep the value in a Variable and change it with "
            "Variable.assign / assign_add / assign_sub."
        )

    __hash__ = object.__hash__  # identity, as __eq__ is elementwise; object's C slot is faster than a method

    # ----- backpropagation -------------------------------------------------------------------------------------
    def backward(self, grad=None, retain_graph: bool = False) -> None:
        """Backpropagate from this tensor: accumulate d(self)/d(t) into ``t.grad`` for every t it depends on.

        ``grad`` defaults to 1 for a scalar. The graph's saved values are freed afterwards unless
        ``retain_graph=True``; calling backward again on a freed graph raises a clear error.
        """
        from glassnet.autodiff.graph import backward

        backward(self, grad, retain_graph=retain_graph)

    def zero_grad(self) -> None:
        self.grad = None

    def detach(self) -> Tensor:
        """The same value, cut from the graph."""
        return Tensor._from_op(self._data, None)

    # ----- operators (defined in ops.py, attached there) ------------------------------------------------------
    T: Tensor


class WeightChanges:
    """Process-wide counts of changes to which weights exist and which of them train. ``count`` moves with each:
    a Variable made or its ``trainable`` flag set, a layer given to another or added to a model; a list of
    trainable weights cached under one count (what ``train_on_batch`` steps on) is still the list while it holds.
    ``structure`` moves with all but the flags: a forward pass recorded under it (evaluate's, predict's) still
    computes what the model does, even in a GAN's loop that freezes a model between calls."""

    count = 0
    structure = 0

    @classmethod
    def note(cls, structure: bool = True) -> None:
        cls.count += 1
        cls.structure += structure


class Variable(Tensor):
    """A named, trainable tensor: the weights of a model. Its value changes only through the ``assign*`` methods.

    ``Variable(initial_value, name=None, trainable=True, dtype=None)`` (dtype defaults to ``backend.floatx()``,
    as in Keras); gradients land in ``.grad`` when
    ``trainable``. Optimizers update it in place with ``assign_sub``.
    """

    __slots__ = ("_buffer", "_trainable", "_constraint")
    _uids = itertools.count()

    def __init__(self, initial_value, name: str | None = None, trainable: bool = True, dtype=None):
        if isinstance(initial_value, Tensor):
            initial_value = initial_value._data
        dtype = dtype or backend.floatx()  # like keras.Variable: floatx unless told otherwise
        value = backend.to_array(initial_value, dtype, name=name or "Variable initial_value")
        buffer = storage.allocate(value.shape, value.dtype)  # small ones side by side, for one-call updates
        np.copyto(buffer, value)
        self._buffer = buffer
        self._data = _readonly(buffer)
        self.grad = None
        self.trainable = bool(trainable)
        self.requires_grad = self.trainable
        self.op = None
        self.name = name or f"variable_{next(Variable._uids)}"
        self._constraint = None

    @property
    def trainable(self) -> bool:
        """Whether optimizers update this weight (a layer's ``trainable`` sets it on all of the layer's)."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        WeightChanges.note(structure=False)

    @property
    def constraint(self):
        """What the optimizer applies right after each update, ``w ← constraint(w)`` (a ``glassnet.constraints``
        object or any callable), or None."""
        return self._constraint

    @constraint.setter
    def constraint(self, value) -> None:
        if value is not None and not callable(value):
            raise ValueError("Invalid value for attribute `constraint`. Expected a callable (such as a "
                             f"`keras.constraints.Constraint` instance) or `None`. Received: constraint={value}")
        self._constraint = value

    @property
    def value(self) -> np.ndarray:
        """The current value, read-only (no copy)."""
        return self._data

    @property
    def storage(self) -> np.ndarray:
        """The writable array behind the value, for updates in place (what optimizers' kernels write into)."""
        return self._buffer

    def _checked(self, value, what: str) -> np.ndarray:
        arr = value._data if isinstance(value, Tensor) else np.asarray(value)
        if arr.shape != self._buffer.shape and arr.ndim != 0:
            raise ValueError(
                f"Variable '{self.name}'.{what} expects a value of shape {self._buffer.shape}, "
                f"received shape {arr.shape}"
            )
        return arr

    def __getstate__(self) -> dict:
        """For pickle and copy: the read-only view is left out and rebuilt, so it keeps aliasing the buffer."""
        names = [n for cls in type(self).__mro__ for n in getattr(cls, "__slots__", ()) if n != "__weakref__"]
        return {n: getattr(self, n) for n in names if n != "_data" and hasattr(self, n)}

    def __setstate__(self, state: dict) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self._data = _readonly(self._buffer)
        WeightChanges.note()

    def assign(self, value) -> Variable:
        """Replace the value (same shape, or a scalar; cast to the variable's dtype)."""
        np.copyto(self._buffer, self._checked(value, "assign"), casting="same_kind")
        return self

    def assign_add(self, delta) -> Variable:
        """value ← value + delta, in place."""
        np.add(self._buffer, self._checked(delta, "assign_add"), out=self._buffer, casting="same_kind")
        return self

    def assign_sub(self, delta) -> Variable:
        """value ← value − delta, in place."""
        np.subtract(self._buffer, self._checked(delta, "assign_sub"), out=self._buffer, casting="same_kind")
        return self

    def __repr__(self) -> str:
        body = np.array2string(self._data, precision=4, separator=", ", threshold=20, edgeitems=2)
        return f"<Variable '{self.name}' shape={self.shape} dtype={self.dtype} trainable={self.trainable}, {body}>"


def as_tensor(value, dtype=None) -> Tensor:
    """Return ``value`` if it is a Tensor, else wrap it (float32 by default; a kernel's array as it is)."""
    if isinstance(value, Tensor):
        return value
    if kernels.is_kernel_array(value) and (dtype is None or np.dtype(dtype) == value.dtype):
        return Tensor._from_op(value, None)
    return Tensor(value, dtype=dtype)
