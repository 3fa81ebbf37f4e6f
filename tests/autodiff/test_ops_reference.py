"""Every differentiable op of ``glassnet.ops`` against PyTorch, forward and backward (tinygrad's helper_test_op).

Each case draws its shapes three times from a generator seeded by the case's name (same, broadcast with size-1
axes, and 0-d operands for the binary ops), makes random inputs, runs the op forward, backpropagates a random
upstream gradient, and compares the output and every input's gradient with PyTorch's: to 1e-10 in float64 and
1e-5 in float32. An op without a PyTorch twin is compared with a NumPy forward and float64 central differences
(``glassnet.autodiff.gradcheck``). ``test_table_covers_every_public_op`` fails when ``glassnet.ops`` gains a
function that has no case here.
"""

from __future__ import annotations

import inspect
import typing
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from glassnet import activations, ops
from glassnet.autodiff import Function, GradcheckError, Tensor, gradcheck
from glassnet.autodiff.ops_special import erf

DTYPES = [np.float64, np.float32]
TOLERANCE = {np.dtype(np.float64): {"rtol": 1e-10, "atol": 1e-10}, np.dtype(np.float32): {"rtol": 1e-5, "atol": 1e-5}}
TORCH_DTYPE = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}
DRAWS = 3  # shape draws per case


# ----- random values and shapes -------------------------------------------------------------------------------
def make_values(rng: np.random.Generator, shape, kind: str, low: float, high: float) -> np.ndarray:
    """Random float64 values: 'uniform' in [low, high], 'positive' in [0.5, 2] (log, sqrt, pow's base),
    'nonzero' ±[0.5, 2] (divisors, |x|), 'ties' small integers so that reductions see equal maxima."""
    if kind == "uniform":
        return rng.uniform(low, high, size=shape)
    if kind == "positive":
        return rng.uniform(0.5, 2.0, size=shape)
    if kind == "nonzero":
        return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)
    if kind == "ties":
        return rng.integers(-2, 3, size=shape).astype(np.float64)
    raise ValueError(kind)


def rand_shape(rng, min_dims=0, max_dims=3, min_side=1, max_side=4) -> tuple[int, ...]:
    return tuple(int(n) for n in rng.integers(min_side, max_side + 1, size=rng.integers(min_dims, max_dims + 1)))


def broadcast_shapes(rng, k: int, n: int = 2) -> list[tuple[int, ...]]:
    """n mutually broadcastable shapes; draw k = 0: all equal, 1: leading axes dropped and axes set to 1,
    2: one operand 0-d (the others as in 1)."""
    full = rand_shape(rng, min_dims=1 if k else 0, max_dims=3, min_side=2)
    if k == 0:
        return [full] * n
    shapes = []
    for _ in range(n):
        s = list(full[rng.integers(0, len(full)):] if rng.random() < 0.5 else full)
        for i in range(len(s)):
            if rng.random() < 0.4:
                s[i] = 1
        shapes.append(tuple(s))
    shapes[0] = full if shapes[0] == shapes[1] else shapes[0]  # at least one operand is stretched
    if k == 2:
        shapes[int(rng.integers(0, n))] = ()
    return shapes


def case_rng(case_id: str, k: int) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32(case_id.encode()), k])


# ----- the helper ---------------------------------------------------------------------------------------------
def _tolerance(*dtypes) -> dict:
    """The looser of the tolerances of the dtypes involved (a cast to float32 is compared at float32's)."""
    return TOLERANCE[np.dtype(np.float32)] if np.dtype(np.float32) in map(np.dtype, dtypes) else TOLERANCE[
        np.dtype(np.float64)]


def _run_glassnet(fn, arrays, consts, kwargs, dtype, upstream=None, rng=None):
    inputs = [Tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    out = fn(*inputs, *consts, **kwargs)
    assert isinstance(out, Tensor), f"expected a Tensor, received {type(out).__name__}"
    if upstream is None:
        upstream = np.asarray(rng.standard_normal(out.shape), dtype=out.dtype)
    out.backward(upstream.astype(out.dtype))
    grads = []
    for a, t in zip(arrays, inputs):
        if t.grad is None:
            grads.append(np.zeros(a.shape, dtype=dtype))
            continue
        assert t.grad.shape == a.shape, f"gradient of shape {t.grad.shape} for an input of shape {a.shape}"
        assert t.grad.dtype == np.dtype(dtype), f"gradient dtype {t.grad.dtype} for a {np.dtype(dtype)} input"
        grads.append(t.grad)
    return out.numpy(), upstream, grads


def helper_test_op(shapes, glassnet_fn: Callable, torch_fn: Callable | None, *, dtype=np.float64,
                   values: str | list[str] = "uniform", low: float = -2.0, high: float = 2.0, consts=(),
                   kwargs: dict | None = None, numpy_fn: Callable | None = None, seed=0, what: str = ""):
    """Random inputs of ``shapes``; ``glassnet_fn(*inputs, *consts, **kwargs)`` forward and backward (a random
    upstream gradient) against ``torch_fn`` called the same way on requires_grad tensors: the output's shape,
    dtype and values, and every input's gradient (its shape and dtype too).

    ``values`` picks the input values per input (see make_values); ``consts`` are inputs that get no gradient
    (labels, conditions): float ones take ``dtype``. Without ``torch_fn``, the forward is compared with
    ``numpy_fn`` and the gradients with central differences (float64) or the float64 gradients (float32).
    """
    rng = np.random.default_rng(seed)
    kwargs = kwargs or {}
    kinds = [values] * len(shapes) if isinstance(values, str) else list(values)
    arrays = [make_values(rng, s, kind, low, high).astype(dtype) for s, kind in zip(shapes, kinds)]
    consts = tuple(c.astype(dtype) if isinstance(c, np.ndarray) and c.dtype.kind == "f" else c for c in consts)
    out, upstream, grads = _run_glassnet(glassnet_fn, arrays, consts, kwargs, dtype, rng=rng)
    where = f"{what} shapes={[tuple(s) for s in shapes]} dtype={np.dtype(dtype).name}"

    if torch_fn is None:  # no PyTorch twin: NumPy forward, central differences for the backward
        expected = np.asarray(numpy_fn(*[a.astype(np.float64) for a in arrays], *consts, **kwargs))
        assert out.shape == expected.shape, where
        np.testing.assert_allclose(out, expected, **_tolerance(dtype), err_msg=f"output, {where}")
        if np.dtype(dtype) == np.float64:
            gradcheck(lambda *xs: glassnet_fn(*xs, *consts, **kwargs), arrays, atol=1e-7, rtol=1e-6)
        else:
            _, _, grads64 = _run_glassnet(glassnet_fn, [a.astype(np.float64) for a in arrays], consts, kwargs,
                                          np.float64, upstream=upstream.astype(np.float64))
            for i, (g, g64) in enumerate(zip(grads, grads64)):
                np.testing.assert_allclose(g, g64, **_tolerance(dtype), err_msg=f"gradient {i}, {where}")
        return

    t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    t_consts = [torch.from_numpy(np.array(c)) if isinstance(c, np.ndarray) else c for c in consts]
    t_out = torch_fn(*t_inputs, *t_consts, **kwargs)
    expected = t_out.detach().numpy()
    assert out.shape == expected.shape, f"output shape {out.shape}, torch {expected.shape}: {where}"
    assert out.dtype == expected.dtype, f"output dtype {out.dtype}, torch {expected.dtype}: {where}"
    tol = _tolerance(dtype, out.dtype)
    np.testing.assert_allclose(out, expected, **tol, err_msg=f"output, {where}")
    if t_out.requires_grad:
        t_out.backward(torch.from_numpy(np.array(upstream)))
    for i, (g, t) in enumerate(zip(grads, t_inputs)):
        t_grad = np.zeros(t.shape, dtype=dtype) if t.grad is None else t.grad.numpy()
        np.testing.assert_allclose(g, t_grad, **tol, err_msg=f"gradient of input {i}, {where}")


# ----- the table ----------------------------------------------------------------------------------------------
@dataclass
class Draw:
    """One draw of a case: the differentiable inputs' shapes, the constant inputs, the keyword arguments."""

    shapes: list
    consts: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class Case:
    op: str  # the glassnet.ops function it covers ("activations.elu", "operator", ... for the extras)
    id: str
    draw: Callable[[np.random.Generator, int], Draw]
    fn: Callable
    torch_fn: Callable | None
    values: str | list[str] = "uniform"
    low: float = -2.0
    high: float = 2.0
    numpy_fn: Callable | None = None
    marks: tuple = ()


CASES: list[Case] = []


def case(op, id_, draw, fn, torch_fn, **options):
    CASES.append(Case(op, f"{op}-{id_}" if id_ else op, draw, fn, torch_fn, **options))


def unary(rng, k):
    """0-d, then two random shapes of 1 to 3 axes."""
    return Draw([rand_shape(rng, min_dims=0, max_dims=0) if k == 0 else rand_shape(rng, min_dims=1)])


def binary(rng, k):
    return Draw(broadcast_shapes(rng, k))


def at_least_1d(rng, k):
    return Draw([rand_shape(rng, min_dims=1)])


# elementwise arithmetic
case("add", "", binary, ops.add, torch.add)
case("subtract", "", binary, ops.subtract, torch.sub)
case("multiply", "", binary, ops.multiply, torch.mul)
case("divide", "", binary, ops.divide, torch.div, values=["uniform", "nonzero"])
case("negative", "", unary, ops.negative, torch.neg)
case("power", "tensor-exponent", binary, ops.power, torch.pow, values=["positive", "uniform"])
case("power", "cube", unary, lambda x: ops.power(x, 3.0), lambda x: torch.pow(x, 3.0))
case("power", "int-square", unary, lambda x: ops.power(x, 2), lambda x: torch.pow(x, 2))
case("power", "sqrt", unary, lambda x: ops.power(x, 0.5), lambda x: torch.pow(x, 0.5), values="positive")
case("power", "constant-base", unary, lambda p: ops.power(2.0, p), lambda p: torch.pow(2.0, p))
case("exp", "", unary, ops.exp, torch.exp)
case("log", "", unary, ops.log, torch.log, values="positive")
case("sqrt", "", unary, ops.sqrt, torch.sqrt, values="positive")
case("square", "", unary, ops.square, torch.square)
case("abs", "", unary, ops.abs, torch.abs, values="nonzero")
case("maximum", "", binary, ops.maximum, torch.maximum)
case("minimum", "", binary, ops.minimum, torch.minimum)
case("clip", "", unary, lambda x: ops.clip(x, -0.5, 0.7), lambda x: torch.clamp(x, -0.5, 0.7))


def where_draw(rng, k):
    cond_shape, x_shape, y_shape = broadcast_shapes(rng, k, n=3)
    return Draw([x_shape, y_shape], consts=(rng.random(cond_shape) < 0.5,))


case("where", "", where_draw, lambda x, y, c: ops.where(c, x, y), lambda x, y, c: torch.where(c, x, y))
case("cast", "to-float32", unary, lambda x: ops.cast(x, "float32"), lambda x: x.to(torch.float32))
case("cast", "to-float64", unary, lambda x: ops.cast(x, np.float64), lambda x: x.to(torch.float64))


# matmul: 2-D, batched, broadcast batches and the 1-D cases of NumPy's @
def matmul_draw(*specs: str):
    """Shapes spelled by letters, each letter one random size: ("bmk", "kn") is (b, m, k) and (k, n)."""
    def draw(rng, k):
        m, n, kk, b, a = (int(v) for v in rng.integers(1, 5, size=5))
        b = max(b, 2)  # a real batch
        names = {"m": m, "n": n, "k": kk, "b": b, "a": a, "1": 1}
        return Draw([tuple(names[c] for c in spec) for spec in specs])
    return draw


for a_dims, b_dims in [("mk", "kn"), ("bmk", "bkn"), ("a1mk", "bkn"), ("bmk", "kn"), ("mk", "bkn"), ("k", "kn"),
                       ("mk", "k"), ("k", "k"), ("bmk", "k"), ("k", "bkn")]:
    case("matmul", f"{a_dims}@{b_dims}", matmul_draw(a_dims, b_dims), ops.matmul, torch.matmul)
for x_dims in ("k", "mk", "bmk"):  # a dense layer's pre-activation: any batch axes of x, one kernel, a bias row
    case("affine", f"{x_dims}@kn+n", matmul_draw(x_dims, "kn", "n"), lambda x, w, b: ops.affine(x, w, b),
         lambda x, w, b: x @ w + b)
for c_dims, x_dims in [("mn", "mk"), ("n", "mk"), ("bmn", "bmk")]:  # a recurrent step's xW⟨t⟩ + h·U, a broadcast c
    case("add_matmul", f"{c_dims}+{x_dims}@kn", matmul_draw(c_dims, x_dims, "kn"), ops.add_matmul,
         lambda c, x, w: c + x @ w)


# reductions: every axis variant, keepdims both ways
def reduction_draw(variant: str, keepdims: bool):
    def draw(rng, k):
        if variant == "all":
            shape = rand_shape(rng, min_dims=0 if k == 0 else 1)
            axis = None
        elif variant == "axis":
            shape = rand_shape(rng, min_dims=1)
            axis = int(rng.integers(-len(shape), len(shape)))
        else:
            shape = rand_shape(rng, min_dims=2, max_dims=4)
            picked = rng.choice(len(shape), size=int(rng.integers(2, len(shape) + 1)), replace=False)
            axis = tuple(int(a) - len(shape) if rng.random() < 0.5 else int(a) for a in picked)
        return Draw([shape], kwargs={"axis": axis, "keepdims": keepdims})
    return draw


def torch_reduction(fn):
    def reduce(x, axis=None, keepdims=False):
        dims = tuple(range(x.dim())) if axis is None else (axis,) if isinstance(axis, int) else axis
        return fn(x, dim=dims, keepdim=keepdims)
    return reduce


REDUCTIONS = {"sum": torch.sum, "mean": torch.mean, "max": torch.amax, "min": torch.amin,
              "logsumexp": torch.logsumexp}
for name, torch_fn in REDUCTIONS.items():
    for variant in ("all", "axis", "axes"):
        for keepdims in (False, True):
            case(name, f"{variant}{'-keepdims' if keepdims else ''}", reduction_draw(variant, keepdims),
                 getattr(ops, name), torch_reduction(torch_fn))
    if name in ("max", "min"):  # equal maxima share the gradient evenly, as torch.amax's do
        for variant in ("all", "axis", "axes"):
            case(name, f"ties-{variant}", reduction_draw(variant, variant == "axis"), getattr(ops, name),
                 torch_reduction(torch_fn), values="ties")


# shapes
def reshape_draw(rng, k):
    shape = rand_shape(rng, min_dims=0 if k == 0 else 1)
    if k == 0:
        target = (-1,)
    elif k == 1:
        target = shape[::-1]
    else:
        target = (1, *shape[1:], 1, -1)
    return Draw([shape], kwargs={"shape": target})


case("reshape", "", reshape_draw, lambda x, shape: ops.reshape(x, shape), lambda x, shape: x.reshape(shape))
case("reshape", "int", at_least_1d, lambda x: ops.reshape(x, -1), lambda x: x.reshape(-1))


def transpose_draw(rng, k):
    shape = rand_shape(rng, min_dims=0 if k == 0 else 2, max_dims=4)
    axes = None if k == 0 else [int(a) for a in rng.permutation(len(shape))]
    if k == 2:
        axes = [a - len(shape) for a in axes]  # negative axes
    return Draw([shape], kwargs={"axes": axes})


def torch_transpose(x, axes):
    return x.permute(tuple(range(x.dim() - 1, -1, -1)) if axes is None else tuple(axes))


case("transpose", "", transpose_draw, lambda x, axes: ops.transpose(x, axes), torch_transpose)


def expand_dims_draw(rng, k):
    shape = rand_shape(rng, min_dims=k)
    return Draw([shape], kwargs={"axis": int(rng.integers(-len(shape) - 1, len(shape) + 1))})


case("expand_dims", "", expand_dims_draw, lambda x, axis: ops.expand_dims(x, axis),
     lambda x, axis: torch.unsqueeze(x, axis))


def squeeze_draw(rng, k):
    shape = list(rand_shape(rng, min_dims=1, max_dims=3, min_side=2))
    ones = sorted(int(i) for i in rng.choice(len(shape) + 2, size=2, replace=False))
    for i in ones:
        shape.insert(i, 1)
    axis = None if k == 0 else ones[0] - len(shape) if k == 1 else tuple(ones)
    return Draw([tuple(shape)], kwargs={"axis": axis})


case("squeeze", "", squeeze_draw, lambda x, axis: ops.squeeze(x, axis),
     lambda x, axis: x.squeeze() if axis is None else x.squeeze(axis))


def getitem_draw(kind: str):
    def draw(rng, k):
        shape = rand_shape(rng, min_dims=3, max_dims=3, min_side=3)
        key = {
            "basic": (slice(1, None), -1, slice(None, None, 2)),
            "int-none-ellipsis": (Ellipsis, None, 0),
            "int-array-repeats": np.array([0, 2, 0, 1, 2]),
            "mixed": (slice(None), [1, 0, 1]),
            "bool-mask": rng.random(shape[:2]) < 0.5,
        }[kind]
        return Draw([shape], kwargs={"key": key})
    return draw


def torch_key(key):
    items = key if isinstance(key, tuple) else (key,)
    converted = tuple(torch.from_numpy(k) if isinstance(k, np.ndarray) else k for k in items)
    return converted if isinstance(key, tuple) else converted[0]


for kind in ("basic", "int-none-ellipsis", "int-array-repeats", "mixed", "bool-mask"):
    case("getitem", kind, getitem_draw(kind), lambda x, key: ops.getitem(x, key), lambda x, key: x[torch_key(key)])
case("getitem", "negative-step", at_least_1d, lambda x: ops.getitem(x, slice(None, None, -1)),
     lambda x: torch.flip(x, (0,)))


def join_draw(count: int, concat: bool):
    def draw(rng, k):
        shape = rand_shape(rng, min_dims=1 if concat else 0)
        axis = int(rng.integers(-len(shape), len(shape))) if concat else int(rng.integers(-len(shape) - 1,
                                                                                             len(shape) + 1))
        if not concat:
            return Draw([shape] * count, kwargs={"axis": axis})
        shapes = []
        for _ in range(count):
            s = list(shape)
            s[axis] = int(rng.integers(1, 5))
            shapes.append(tuple(s))
        return Draw(shapes, kwargs={"axis": axis})
    return draw


for count in (1, 2, 3):
    case("concatenate", f"{count}-inputs", join_draw(count, True), lambda *xs, axis: ops.concatenate(xs, axis),
         lambda *xs, axis: torch.cat(xs, axis))
    case("stack", f"{count}-inputs", join_draw(count, False), lambda *xs, axis: ops.stack(xs, axis),
         lambda *xs, axis: torch.stack(xs, axis))


# activations
def axis_draw(rng, k):
    shape = rand_shape(rng, min_dims=1, min_side=2)
    return Draw([shape], kwargs={"axis": [-1, 0, int(rng.integers(-len(shape), len(shape)))][k]})


case("relu", "", unary, ops.relu, torch.relu, values="nonzero")
case("leaky_relu", "default-slope", unary, ops.leaky_relu, lambda x: F.leaky_relu(x, 0.2), values="nonzero")
case("leaky_relu", "slope-0.01", unary, lambda x: ops.leaky_relu(x, 0.01), lambda x: F.leaky_relu(x, 0.01),
     values="nonzero")
case("sigmoid", "", unary, ops.sigmoid, torch.sigmoid)
case("tanh", "", unary, ops.tanh, torch.tanh)
case("softplus", "", unary, ops.softplus, F.softplus)
case("softmax", "", axis_draw, lambda x, axis: ops.softmax(x, axis), lambda x, axis: torch.softmax(x, axis))
case("log_softmax", "", axis_draw, lambda x, axis: ops.log_softmax(x, axis),
     lambda x, axis: torch.log_softmax(x, axis))
def pair_draw(rng, k):
    """Two operands of one shape with at least one axis (a loss's labels and predictions)."""
    shape = rand_shape(rng, min_dims=1)
    return Draw([shape, shape])


case("squared_error", "", pair_draw, ops.squared_error, lambda y, z: ((z - y) ** 2).mean(-1))
# dropout's mask is random, so the table holds rate 0 (the identity); test_dropout_* checks the mask itself
case("dropout", "rate-0", unary, lambda x: ops.dropout(x, 0.0, np.random.default_rng(0)),
     lambda x: F.dropout(x, 0.0, training=True))


# the fused cross-entropies
def labels_draw(kind: str):
    def draw(rng, k):
        shape = rand_shape(rng, min_dims=0 if kind.startswith("binary") else 1, min_side=2)
        if kind == "binary-soft":
            labels = rng.random(shape)
        elif kind == "binary-hard":
            labels = (rng.random(shape) < 0.5).astype(np.float64)
        elif kind == "soft":
            labels = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
        elif kind == "unnormalized":
            labels = rng.uniform(0, 2, size=shape)
        elif kind == "one-hot":
            labels = np.eye(shape[-1])[rng.integers(0, shape[-1], size=shape[:-1])]
        else:  # integer labels
            labels = rng.integers(0, shape[-1], size=shape[:-1])
        return Draw([shape], consts=(np.asarray(labels),))
    return draw


def torch_cross_entropy(z, labels):
    """Torch puts the classes on axis 1 (or 0 for one unbatched sample); glassnet on the last axis."""
    if z.dim() > 1:
        z = z.movedim(-1, 1)
        labels = labels.movedim(-1, 1) if labels.dim() == z.dim() else labels
    return F.cross_entropy(z, labels, reduction="none")


for kind in ("binary-soft", "binary-hard"):
    case("sigmoid_cross_entropy", kind.removeprefix("binary-"), labels_draw(kind),
         lambda z, y: ops.sigmoid_cross_entropy(y, z),
         lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none"))
for kind in ("soft", "unnormalized", "one-hot"):
    case("softmax_cross_entropy", kind, labels_draw(kind), lambda z, y: ops.softmax_cross_entropy(y, z),
         torch_cross_entropy)
case("sparse_softmax_cross_entropy", "", labels_draw("integer"), lambda z, y: ops.sparse_softmax_cross_entropy(y, z),
     torch_cross_entropy)



# keras.ops's cross-entropies (issue 15): from logits through the fused ops, from probabilities clipped to [ε, 1 − ε]
EPSILON = 1e-7


def classes_first(draw):
    """The draw with the class axis moved to axis 0 (Keras's ``axis`` argument); integer labels need no move."""
    def moved(rng, k):
        d = draw(rng, k)
        labels = d.consts[0]
        if labels.ndim == len(d.shapes[0]):
            labels = np.moveaxis(labels, -1, 0)
        return Draw([d.shapes[0][-1:] + d.shapes[0][:-1]], consts=(labels,), kwargs={"axis": 0})
    return moved


def torch_log_probabilities(z, from_logits, axis):
    if from_logits:
        return torch.log_softmax(z, axis)
    return torch.log(torch.clamp(z / z.sum(axis, keepdim=True), EPSILON, 1 - EPSILON))


for from_logits in (False, True):
    name = "logits" if from_logits else "probabilities"
    for kind in ("binary-soft", "binary-hard"):
        case("binary_crossentropy", f"{name}-{kind}", labels_draw(kind),
             lambda z, y, f=from_logits: ops.binary_crossentropy(y, z, from_logits=f),
             (lambda z, y: F.binary_cross_entropy_with_logits(z, y, reduction="none")) if from_logits else
             (lambda z, y: F.binary_cross_entropy(torch.clamp(z, EPSILON, 1 - EPSILON), y, reduction="none")),
             low=-3.0 if from_logits else 0.02, high=3.0 if from_logits else 0.98)
    values = "uniform" if from_logits else "positive"
    for kind in ("soft", "one-hot"):
        for axis_draw_ in (labels_draw(kind), classes_first(labels_draw(kind))):
            case("categorical_crossentropy", f"{name}-{kind}-{'axis0' if axis_draw_.__name__ == 'moved' else 'last'}",
                 axis_draw_, lambda z, y, axis=-1, f=from_logits: ops.categorical_crossentropy(y, z, f, axis),
                 lambda z, y, axis=-1, f=from_logits: -(y * torch_log_probabilities(z, f, axis)).sum(axis),
                 values=values)
    for axis_draw_ in (labels_draw("integer"), classes_first(labels_draw("integer"))):
        case("sparse_categorical_crossentropy", f"{name}-{'axis0' if axis_draw_.__name__ == 'moved' else 'last'}",
             axis_draw_, lambda z, y, axis=-1, f=from_logits: ops.sparse_categorical_crossentropy(y, z, f, axis),
             lambda z, y, axis=-1, f=from_logits: -torch_log_probabilities(z, f, axis).gather(
                 axis, y.unsqueeze(axis)).squeeze(axis), values=values)

# convolution and pooling: channels_last in glassnet, NCHW in torch; 'same' padded explicitly, split as TF splits it
def tf_same_padding(size: int, window: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow's 'same': ⌈size / stride⌉ outputs; the padding they need, the odd one after."""
    total = max((-(-size // stride) - 1) * stride + dilation * (window - 1) + 1 - size, 0)
    return total // 2, total - total // 2


def torch_padded(x, window, strides, dilation, padding: str, fill: float = 0.0):
    """x (N, C, *spatial) with the padding of Keras's ``padding`` added explicitly (torch's own is symmetric)."""
    if padding == "valid":
        return x
    if padding == "causal":
        pads = [(d * (k - 1), 0) for k, d in zip(window, dilation)]
    else:
        pads = [tf_same_padding(n, k, s, d) for n, k, s, d in zip(x.shape[2:], window, strides, dilation)]
    return F.pad(x, [p for pair in reversed(pads) for p in pair], value=fill)


def as_tuple(value, rank):
    return (value,) * rank if isinstance(value, int) else tuple(value)


def torch_conv(x, w, b=None, strides=1, padding="valid", dilation_rate=1):
    rank = x.dim() - 2
    strides, dilation = as_tuple(strides, rank), as_tuple(dilation_rate, rank)
    xt = torch_padded(x.movedim(-1, 1), w.shape[:rank], strides, dilation, padding)
    wt = w.permute(rank + 1, rank, *range(rank)).contiguous()  # (*window, in, out) → (out, in, *window)
    out = (F.conv1d if rank == 1 else F.conv2d)(xt.contiguous(), wt, b, stride=strides, dilation=dilation)
    return out.movedim(1, -1)


def torch_max_pool(x, pool_size, strides=None, padding="valid"):
    rank = x.dim() - 2
    window = as_tuple(pool_size, rank)
    strides = window if strides is None else as_tuple(strides, rank)
    xt = torch_padded(x.movedim(-1, 1), window, strides, (1,) * rank, padding, fill=-torch.inf)
    return (F.max_pool1d if rank == 1 else F.max_pool2d)(xt, window, strides).movedim(1, -1)


def torch_average_pool(x, pool_size, strides=None, padding="valid"):
    """TF's average: each window's sum over its real inputs only (the 'same' padding is not counted)."""
    rank = x.dim() - 2
    window = as_tuple(pool_size, rank)
    strides = window if strides is None else as_tuple(strides, rank)
    pool = F.avg_pool1d if rank == 1 else F.avg_pool2d
    xt = x.movedim(-1, 1)
    sums = pool(torch_padded(xt, window, strides, (1,) * rank, padding), window, strides)
    counts = pool(torch_padded(torch.ones_like(xt), window, strides, (1,) * rank, padding), window, strides)
    return (sums / counts).movedim(1, -1)


def conv_draw(rank: int, padding: str, strided: bool, dilated: bool, bias: bool = False):
    def draw(rng, k):
        window = tuple(int(v) for v in rng.integers(1, 4, size=rank))
        strides = tuple(int(v) for v in rng.integers(1, 3, size=rank)) if strided else 1
        dilation = tuple(int(v) for v in rng.integers(1, 3, size=rank)) if dilated else 1
        spans = [d * (w - 1) + 1 for w, d in zip(window, as_tuple(dilation, rank))]
        spatial = tuple(int(rng.integers(s, s + 5)) for s in spans)  # the window always fits
        n, c, o = (int(v) for v in rng.integers(1, 4, size=3))
        shapes = [(n, *spatial, c), (*window, c, o)] + ([(o,)] if bias else [])
        return Draw(shapes, kwargs={"strides": strides, "padding": padding, "dilation_rate": dilation})
    return draw


def pool_draw(rank: int, padding: str, strides: str):
    def draw(rng, k):
        window = tuple(int(v) for v in rng.integers(1, 4, size=rank))
        spatial = tuple(int(rng.integers(w, w + 5)) for w in window)
        kwargs = {"pool_size": window if k else window[0], "padding": padding}
        if strides != "default":
            kwargs["strides"] = tuple(int(v) for v in rng.integers(1, 3, size=rank))
        return Draw([(int(rng.integers(1, 4)), *spatial, int(rng.integers(1, 4)))], kwargs=kwargs)
    return draw


for rank in (1, 2):
    for padding in ("valid", "same") + (("causal",) if rank == 1 else ()):
        for strided, dilated in ((False, False), (True, False), (False, True), (True, True)):
            variant = f"{rank}d-{padding}{'-strided' if strided else ''}{'-dilated' if dilated else ''}"
            case("conv", variant, conv_draw(rank, padding, strided, dilated), ops.conv, torch_conv)
        case("conv", f"{rank}d-{padding}-bias", conv_draw(rank, padding, True, False, bias=True),
             lambda x, w, b, **kw: ops.conv(x, w, bias=b, **kw), torch_conv)
    for padding in ("valid", "same"):
        for strides in ("default", "strides"):
            case("max_pool", f"{rank}d-{padding}-{strides}", pool_draw(rank, padding, strides), ops.max_pool,
                 torch_max_pool)
            case("average_pool", f"{rank}d-{padding}-{strides}", pool_draw(rank, padding, strides),
                 ops.average_pool, torch_average_pool)
    # equal values in a window: the gradient goes to the first maximum, as torch's max_pool does
    case("max_pool", f"{rank}d-ties", pool_draw(rank, "valid", "strides"), ops.max_pool, torch_max_pool,
         values="ties")


# keras.ops's products, statistics, scans and norms (issue 15)
def dot_draw(x_dims: int, y_dims: int):
    def draw(rng, k):
        x = rand_shape(rng, min_dims=x_dims, max_dims=x_dims)
        if x_dims == 0 or y_dims == 0:
            return Draw([x, rand_shape(rng, min_dims=y_dims, max_dims=y_dims)])
        inner = (x[-1],) if y_dims == 1 else (x[-1], int(rng.integers(1, 5)))
        y = rand_shape(rng, min_dims=y_dims - len(inner), max_dims=y_dims - len(inner))
        return Draw([x, y + inner])
    return draw


def torch_dot(x, y):
    if x.dim() == 0 or y.dim() == 0:
        return x * y
    return torch.tensordot(x, y, dims=([x.dim() - 1], [0 if y.dim() == 1 else y.dim() - 2]))


for x_dims, y_dims in ((0, 2), (1, 1), (2, 1), (2, 2), (3, 1), (1, 2), (2, 3), (3, 3)):
    case("dot", f"{x_dims}d-{y_dims}d", dot_draw(x_dims, y_dims), ops.dot, torch_dot)



def einsum_draw(subscripts: str):
    def draw(rng, k):
        sizes = {c: int(rng.integers(1, 5)) for c in sorted(set(subscripts) - set(",->"))}
        inputs = subscripts.partition("->")[0].split(",")
        return Draw([tuple(sizes[c] for c in letters) for letters in inputs], consts=(subscripts,))
    return draw


for spec in ("ij,jk->ik", "ij,jk", "ij->", "ij->ji", "bij,bjk->bik", "i,i->", "i,j->ij", "ijk,jl->il",
             "ij,jk,kl->il", "ij,kl->", "ij,ij->ij"):
    case("einsum", spec, einsum_draw(spec), lambda *a: ops.einsum(a[-1], *a[:-1]),
         lambda *a: torch.einsum(a[-1], *a[:-1]))

def torch_prod(x, axis=None, keepdims=False):
    dims = sorted({d % builtins_max(x.dim(), 1) for d in
                   (range(x.dim()) if axis is None else (axis,) if isinstance(axis, int) else axis)}, reverse=True)
    for d in dims:
        x = x.prod(d, keepdim=True)
    return x.squeeze(tuple(dims)) if dims and not keepdims else x


def builtins_max(a, b):
    return a if a > b else b


for variant in ("all", "axis", "axes"):
    for keepdims in (False, True):
        case("prod", f"{variant}{'-keepdims' if keepdims else ''}", reduction_draw(variant, keepdims), ops.prod,
             torch_prod)
    case("prod", f"zeros-{variant}", reduction_draw(variant, False), ops.prod, torch_prod, values="ties")


def spread_draw(rng, k):
    """Axes of at least 2 entries, so that no standard deviation is 0 (√ has no derivative there)."""
    shape = rand_shape(rng, min_dims=1, min_side=2)
    axis = [None, int(rng.integers(-len(shape), len(shape))), tuple(range(len(shape)))[-2:]][k]
    return Draw([shape], kwargs={"axis": axis, "keepdims": bool(rng.random() < 0.5)})


def torch_moment(fn):
    def moment(x, axis=None, keepdims=False):
        return fn(x, dim=axis, correction=0, keepdim=keepdims)
    return moment


case("var", "", spread_draw, ops.var, torch_moment(torch.var))
case("var", "all-0d", unary, ops.var, lambda x: torch.var(x, correction=0))
case("std", "", spread_draw, ops.std, torch_moment(torch.std))


def cumsum_draw(rng, k):
    shape = rand_shape(rng, min_dims=1)
    return Draw([shape], kwargs={"axis": None if k == 0 else int(rng.integers(-len(shape), len(shape)))})


case("cumsum", "", cumsum_draw, ops.cumsum,
     lambda x, axis: torch.cumsum(x.reshape(-1), 0) if axis is None else torch.cumsum(x, axis))


def norm_draw(kind: str, ord_):
    def draw(rng, k):
        if kind == "flat":
            return Draw([rand_shape(rng, min_dims=1, max_dims=4)], kwargs={"keepdims": k == 1})
        if kind == "vector":
            shape = rand_shape(rng, min_dims=1)
            return Draw([shape], kwargs={"ord": ord_, "axis": int(rng.integers(-len(shape), len(shape))),
                                         "keepdims": k == 1})
        shape = rand_shape(rng, min_dims=2, max_dims=3, min_side=2)
        axes = tuple(int(a) for a in rng.choice(len(shape), size=2, replace=False))
        return Draw([shape], kwargs={"ord": ord_, "axis": axes, "keepdims": k == 1})
    return draw


def torch_norm(x, ord=None, axis=None, keepdims=False):  # noqa: A002 - NumPy's name
    if axis is None and ord is None:
        return torch.linalg.norm(x.reshape(-1), keepdim=False).reshape((1,) * x.dim() if keepdims else ())
    return torch.linalg.norm(x, ord=ord, dim=axis, keepdim=keepdims)


case("norm", "flattened", norm_draw("flat", None), ops.norm, torch_norm, values="nonzero")
for ord_ in (None, 1, 2, 3, 0.5, np.inf, -np.inf):
    case("norm", f"vector-{ord_}", norm_draw("vector", ord_), ops.norm, torch_norm, values="nonzero")
for ord_ in ("fro", 1, -1, np.inf, -np.inf):
    case("norm", f"matrix-{ord_}", norm_draw("matrix", ord_), ops.norm, torch_norm, values="nonzero")


# keras.ops's sorting, gathering and tiling: the gradient goes back to where each value came from (issue 15)
def sort_draw(rng, k):
    shape = rand_shape(rng, min_dims=1)
    return Draw([shape], kwargs={"axis": int(rng.integers(-len(shape), len(shape)))})


case("sort", "", sort_draw, ops.sort, lambda x, axis: torch.sort(x, dim=axis).values)


def top_k_draw(rng, k):
    shape = rand_shape(rng, min_dims=1)
    return Draw([shape], kwargs={"k": int(rng.integers(1, shape[-1] + 1))})


case("top_k", "values", top_k_draw, lambda x, k: ops.top_k(x, k)[0], lambda x, k: torch.topk(x, k).values)


def split_draw(by_indices: bool):
    def draw(rng, k):
        shape = list(rand_shape(rng, min_dims=1))
        axis = int(rng.integers(-len(shape), len(shape)))
        if by_indices:
            cuts = sorted(int(c) for c in rng.integers(0, shape[axis] + 1, size=int(rng.integers(1, 4))))
            return Draw([tuple(shape)], consts=(cuts,), kwargs={"axis": axis})
        sections = int(rng.integers(1, 4))
        shape[axis] *= sections
        return Draw([tuple(shape)], consts=(sections,), kwargs={"axis": axis})
    return draw


def weighted_pieces(pieces, join, axis):
    """The pieces joined again, each scaled by its position: every piece's gradient differs."""
    return join([piece * float(i + 1) for i, piece in enumerate(pieces)], axis)


for by_indices in (False, True):
    case("split", "indices" if by_indices else "sections", split_draw(by_indices),
         lambda x, cut, axis: weighted_pieces(ops.split(x, cut, axis), ops.concatenate, axis),
         lambda x, cut, axis: weighted_pieces(torch.tensor_split(x, cut, dim=axis), torch.cat, axis))


def take_draw(axis_none: bool, along: bool):
    def draw(rng, k):
        shape = rand_shape(rng, min_dims=1)
        if axis_none:
            size = int(np.prod(shape))
            indices = rng.integers(0, size, size=shape if along else rand_shape(rng, max_dims=2))
            return Draw([shape], consts=(indices,), kwargs={"axis": None})
        axis = int(rng.integers(-len(shape), len(shape)))
        if along:
            index_shape = [n if rng.random() < 0.7 else 1 for n in shape]
            index_shape[axis] = int(rng.integers(1, 6))
            indices = rng.integers(0, shape[axis], size=index_shape)
        else:
            indices = rng.integers(-shape[axis], shape[axis], size=rand_shape(rng, max_dims=2))
        return Draw([shape], consts=(indices,), kwargs={"axis": axis})
    return draw


def torch_take(x, indices, axis=None):
    if axis is None:
        return x.reshape(-1)[indices]
    return x[(slice(None),) * (axis % x.dim()) + (indices,)]


def torch_take_along_axis(x, indices, axis=None):
    if axis is None:
        return torch.take_along_dim(x.reshape(-1), indices.reshape(-1), 0)
    return torch.take_along_dim(x, indices, axis)


for axis_none in (False, True):
    suffix = "flattened" if axis_none else "axis"
    case("take", suffix, take_draw(axis_none, False), ops.take, torch_take)
    case("take_along_axis", suffix, take_draw(axis_none, True), ops.take_along_axis, torch_take_along_axis)


def tile_draw(rng, k):
    shape = rand_shape(rng, min_dims=0 if k == 0 else 1)
    reps = tuple(int(n) for n in rng.integers(1, 4, size=int(rng.integers(1, 4))))
    return Draw([shape], consts=(reps,))


case("tile", "", tile_draw, ops.tile, lambda x, reps: x.tile(reps))


def repeat_draw(rng, k):
    shape = rand_shape(rng, min_dims=1)
    if k == 0:
        return Draw([shape], consts=(int(rng.integers(1, 4)),), kwargs={"axis": None})
    axis = int(rng.integers(-len(shape), len(shape)))
    repeats = rng.integers(0, 4, size=shape[axis]) if k == 2 else int(rng.integers(1, 4))
    return Draw([shape], consts=(repeats,), kwargs={"axis": axis})


def torch_repeat(x, repeats, axis=None):
    if axis is None:
        return torch.repeat_interleave(x.reshape(-1), repeats)
    return torch.repeat_interleave(x, repeats, dim=axis)


case("repeat", "", repeat_draw, ops.repeat, torch_repeat)


def pad_draw(mode: str):
    def draw(rng, k):
        shape = rand_shape(rng, min_dims=1, min_side=3)
        most = 2 if mode == "reflect" else 3  # reflect needs widths below the axis's size
        widths = [(int(a), int(b)) for a, b in rng.integers(0, most + 1, size=(len(shape), 2))]
        kwargs = {"mode": mode, "constant_values": 1.5} if mode == "constant" and k == 2 else {"mode": mode}
        return Draw([shape], consts=(widths,), kwargs=kwargs)
    return draw


def torch_pad(x, widths, mode="constant", constant_values=None):
    flat = [w for pair in reversed(widths) for w in pair]  # F.pad: the last axis first
    return F.pad(x, flat, value=constant_values or 0.0)


case("pad", "constant", pad_draw("constant"), ops.pad, torch_pad)
# F.pad has no 'symmetric' and pads reflect/replicate/circular on the last 1-3 axes only: np.pad is the reference
for mode in ("edge", "reflect", "symmetric", "wrap"):
    case("pad", mode, pad_draw(mode), ops.pad, None, numpy_fn=np.pad)


# beyond glassnet.ops: the activations composed from it, erf, and the Python operators on Tensor
case("activations.elu", "", unary, activations.elu, F.elu, values="nonzero")
case("activations.elu", "alpha-0.5", unary, lambda x: activations.elu(x, 0.5), lambda x: F.elu(x, 0.5),
     values="nonzero")
case("activations.selu", "", unary, activations.selu, F.selu, values="nonzero")
case("activations.gelu", "exact", unary, activations.gelu, F.gelu)
case("activations.gelu", "tanh", unary, lambda x: activations.gelu(x, approximate=True),
     lambda x: F.gelu(x, approximate="tanh"))
case("activations.silu", "", unary, activations.silu, F.silu)
case("activations.mish", "", unary, activations.mish, F.mish)
case("activations.softsign", "", unary, activations.softsign, F.softsign, values="nonzero")
case("activations.relu6", "", unary, activations.relu6, F.relu6, low=-8.0, high=8.0)
# F.hardsigmoid's float64 backward uses a float32 1/6 (0.16666667163...): its formula is the reference instead
case("activations.hard_sigmoid", "", unary, activations.hard_sigmoid, lambda x: F.relu6(x + 3.0) / 6.0, low=-5.0,
     high=5.0)
case("activations.hard_silu", "", unary, activations.hard_silu, F.hardswish, low=-5.0, high=5.0)
case("activations.exponential", "", unary, activations.exponential, torch.exp)
case("activations.linear", "", unary, activations.linear, lambda x: x)
# Keras's relu options have no PyTorch twin: a NumPy forward and central differences
case("activations.relu", "keras-options", unary,
     lambda x: activations.relu(x, negative_slope=0.1, max_value=1.5, threshold=0.3), None,
     numpy_fn=lambda x: np.where(x > 0.3, np.minimum(x, 1.5), 0.0) - 0.1 * np.maximum(0.3 - x, 0.0))
case("erf", "", unary, erf, torch.erf, low=-4.0, high=4.0)
case("operator", "add-sub-mul-div", binary, lambda x, y: (x + y) * (x - 2.0) / 3.0 - 1.0 / (1.5 + y * y),
     lambda x, y: (x + y) * (x - 2.0) / 3.0 - 1.0 / (1.5 + y * y))
case("operator", "rsub-rmul-rdiv-rpow", unary, lambda x: 2.0 - 3.0 * x + 2.0 ** x - 1.0 / (2.5 + x),
     lambda x: 2.0 - 3.0 * x + 2.0 ** x - 1.0 / (2.5 + x))
case("operator", "pow-neg-abs", unary, lambda x: -abs(x) ** 1.5, lambda x: -abs(x) ** 1.5, values="nonzero")
case("operator", "matmul-T", matmul_draw("mk", "nk"), lambda x, w: x @ w.T, lambda x, w: x @ w.T)
case("operator", "getitem-methods", matmul_draw("mk", "k"),
     lambda x, v: x[1:].sum(axis=0) * v.max() + x.mean() - x.min() + x.reshape(-1, 1).transpose().sum(),
     lambda x, v: x[1:].sum(dim=0) * v.max() + x.mean() - x.min() + x.reshape(-1, 1).t().sum())


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("c", [pytest.param(c, marks=c.marks, id=c.id) for c in CASES])
def test_op_matches_torch(c: Case, dtype):
    for k in range(DRAWS):
        rng = case_rng(c.id, k)
        d = c.draw(rng, k)
        helper_test_op(d.shapes, c.fn, c.torch_fn, dtype=dtype, values=c.values, low=c.low, high=c.high,
                       consts=d.consts, kwargs=d.kwargs,
                       numpy_fn=c.numpy_fn, seed=int(rng.integers(2**31)), what=f"{c.id} draw {k} {d.kwargs}")


# ----- the table is complete ----------------------------------------------------------------------------------
# public functions of glassnet.ops with no gradient to check, each with why; the comparisons (<, <=, >, >=) are
# Tensor methods made in ops._attach_operators, not module functions, and have no gradient either
EXCLUDED = {
    "convert_to_tensor": "wraps a value as a Tensor: not an op",
    "as_tensor": "the same function under its own name (imported from glassnet.autodiff.tensor)",
    "one_hot": "integer labels to one-hot rows: labels are data, never differentiated",
    # keras.ops's new tensors and index results: no input to differentiate, or integer outputs (issue 15); their
    # values, dtypes and shapes are compared with keras.ops in test_ops_namespace.py
    "zeros": "a new tensor from a shape: no input", "ones": "a new tensor from a shape: no input",
    "full": "a new tensor from a shape and a number: no input",
    "zeros_like": "reads only x's shape and dtype: constant in x", "ones_like": "reads only x's shape and dtype",
    "full_like": "reads only x's shape and dtype: constant in x",
    "arange": "a new tensor from numbers: no input", "eye": "a new tensor from sizes: no input",
    "argmax": "integer indices: piecewise constant in x, no gradient (as in Keras)",
    "argmin": "integer indices: piecewise constant in x, no gradient (as in Keras)",
    "argsort": "integer indices: piecewise constant in x, no gradient (as in Keras)",
}


def public_tensor_functions() -> set[str]:
    """Functions defined in or imported into glassnet.ops, not private, that return Tensors (or say nothing)."""
    names = set()
    for name, obj in vars(ops).items():
        if name.startswith("_") or not inspect.isfunction(obj):
            continue
        returns = typing.get_type_hints(obj).get("return", Tensor)
        if returns is Tensor or Tensor in typing.get_args(returns):  # split's list, top_k's pair count too
            names.add(name)
    return names


def test_table_covers_every_public_op():
    public = public_tensor_functions()
    covered = {c.op for c in CASES}
    assert not set(EXCLUDED) - public, f"stale exclusions: {sorted(set(EXCLUDED) - public)}"
    assert not set(EXCLUDED) & covered, "an excluded function has cases: take it off the exclusion list"
    missing = public - covered - set(EXCLUDED)
    assert not missing, f"glassnet.ops functions without a reference case: {sorted(missing)}"
    unknown = {op for op in covered if "." not in op and op not in ("operator", "erf") and op not in public}
    assert not unknown, f"cases naming no glassnet.ops function: {sorted(unknown)}"
    assert {"add", "matmul", "sum", "getitem", "softmax_cross_entropy"} <= public  # the introspection sees ops


# ----- what the table cannot show -----------------------------------------------------------------------------
def test_dropout_mask_is_drawn_from_its_generator_and_scales_the_gradient():
    rng = np.random.default_rng(5)
    x = make_values(rng, (6, 7), "nonzero", 0, 0)
    upstream = rng.standard_normal((6, 7))
    rate = 0.25

    def run(seed, noise_shape=None):
        t = Tensor(x, dtype=np.float64, requires_grad=True)
        out = ops.dropout(t, rate, np.random.default_rng(seed), noise_shape=noise_shape)
        out.backward(upstream)
        return out.numpy(), t.grad

    out, grad = run(1)
    mask = out / x
    kept = mask != 0
    np.testing.assert_allclose(mask[kept], 1 / (1 - rate), rtol=1e-15)
    assert 0 < kept.sum() < kept.size
    np.testing.assert_allclose(grad, upstream * np.where(kept, 1 / (1 - rate), 0.0), rtol=1e-15, atol=0)
    again, grad_again = run(1)
    np.testing.assert_array_equal(again, out)
    np.testing.assert_array_equal(grad_again, grad)
    other, _ = run(2)
    assert not np.array_equal(other != 0, kept)
    shared, _ = run(1, noise_shape=(None, 1))
    shared_kept = shared != 0  # noise_shape (None, 1): one draw per row, shared along the row
    np.testing.assert_array_equal(shared_kept, np.repeat(shared_kept[:, :1], 7, axis=1))
    np.testing.assert_allclose(shared[shared_kept], x[shared_kept] / (1 - rate), rtol=1e-15)
    assert 0 < shared_kept[:, 0].sum() < 6


def test_maximum_and_minimum_send_a_tie_to_the_first_input():
    """Documented choice (torch.maximum splits a tie in halves): the whole gradient goes to x where x == y."""
    x_value = np.array([1.0, 2.0, 3.0])
    y_value = np.array([1.0, 5.0, 3.0])
    for op, x_wins in ((ops.maximum, [1.0, 0.0, 1.0]), (ops.minimum, [1.0, 1.0, 1.0])):
        x = Tensor(x_value, dtype=np.float64, requires_grad=True)
        y = Tensor(y_value, dtype=np.float64, requires_grad=True)
        op(x, y).backward(np.array([1.0, 2.0, 4.0]))
        np.testing.assert_array_equal(x.grad, np.multiply(x_wins, [1.0, 2.0, 4.0]))
        np.testing.assert_array_equal(y.grad, np.multiply(1 - np.array(x_wins), [1.0, 2.0, 4.0]))


class _HalfSquare(Function):
    """x², with a backward that forgets the factor 2: what the helper must catch without a torch twin."""

    def forward(self, x):
        self.save_for_backward(x)
        return x * x

    def backward(self, dz):
        (x,) = self.saved
        return dz * x


def test_helper_catches_a_wrong_gradient():
    """The helper fails when a gradient is off by 0.01 or an output differs, so its passes mean something."""
    with pytest.raises(GradcheckError):
        helper_test_op([(3, 4)], _HalfSquare.apply, None, numpy_fn=np.square)
    with pytest.raises(AssertionError, match="output"):
        helper_test_op([(3, 4)], _HalfSquare.apply, None, numpy_fn=np.abs)
    with pytest.raises(AssertionError, match="gradient of input 0"):
        helper_test_op([(3, 4)], ops.sigmoid, lambda x: torch.sigmoid(x) + (x - x.detach()) * 0.01)
    with pytest.raises(AssertionError, match="output"):
        helper_test_op([(3, 4)], ops.tanh, torch.sigmoid)
