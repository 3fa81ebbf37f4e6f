"""FLOPs of one recorded op, forward and backward, counted from its shapes.

Conventions (one FLOP = one scalar add, multiply, divide, compare or elementary function such as exp or log):

- MatMul ``Z = X·W`` with X (…, m, k), W (k, n): ``2·m·k·n`` per batch element (k multiplies and k adds per output,
  the usual convention). Backward: ``2·m·k·n`` for dX = dZ·Wᵀ and again for dW = Xᵀ·dZ, each only if needed.
- Elementwise ops cost a fixed number of FLOPs per output element (table ``ELEMENTWISE`` below, e.g. σ(z) =
  1 / (1 + e^−z) is 4: negate, exp, add, divide); their backward costs the per-element count of their rule
  (``ELEMENTWISE_BACKWARD``, e.g. σ's da · a(1 − a) is 3) for each input that needs a gradient.
- Reductions cost one FLOP per input element (mean adds one divide per output). Moving data (reshape, transpose,
  indexing, concatenate) costs 0.
- When broadcasting stretched an input (a bias added to every row), backward sums the gradient back: one FLOP per
  output element (that is the course's db = Σ dZ).
- Convolutions (``CONVOLUTIONS``) ``Z = X ⋆ W (+ b)``: ``2·kh·kw·cin`` per output element (one multiply and one add
  per kernel entry, the matmul convention on im2col(X)·W), plus one per output element for the bias. Backward: the
  same count for dX = col2im(dZ·Wᵀ) and again for dW = im2col(X)ᵀ·dZ, one per output element for db = Σ dZ.
- Poolings (``POOLINGS``): one FLOP per window element each way (a compare, or an add), plus one divide per output
  element for an average. The op's pool size is not in its shapes, so the window elements are counted as the input
  elements: exact when the windows tile the input (strides = pool_size, Keras's default), an estimate otherwise.
- An op not in the tables (a custom Function) is counted as 1 FLOP per output element each way: an estimate.
"""

from __future__ import annotations

import math

# FLOPs per output element, forward.
ELEMENTWISE = {
    "Add": 1, "Sub": 1, "Mul": 1, "Div": 1, "Neg": 1, "Pow": 1, "Exp": 1, "Log": 1, "Sqrt": 1, "Square": 1,
    "Abs": 1, "Maximum": 1, "Minimum": 1, "Where": 1, "Clip": 2,
    "Relu": 1,  # max(z, 0)
    "LeakyRelu": 2,  # compare, multiply
    "Sigmoid": 4,  # 1 / (1 + e^−z): negate, exp, add, divide
    "Tanh": 5,  # (e^z − e^−z) / (e^z + e^−z) from one exp: exp, reciprocal, subtract, add, divide
    "Softplus": 5,  # max(z, 0) + ln(1 + e^−|z|): abs, exp, log1p, max, add
    "Softmax": 5,  # max, subtract, exp, sum, divide
    "LogSoftmax": 5,  # max, subtract, exp, sum, log-and-subtract
    "Dropout": 2,  # draw, multiply by mask / (1 − rate)
    "SigmoidCrossEntropy": 7,  # max(z,0) − z·y + ln(1 + e^−|z|): max, multiply, subtract, abs, exp, log1p, add
    "SoftmaxCrossEntropy": 6,  # log softmax (5) then y · log a summed (1 multiply-add)
    "SparseSoftmaxCrossEntropy": 5,  # log softmax, then a lookup
}

# FLOPs per output element of one input's gradient, backward.
ELEMENTWISE_BACKWARD = {
    "Add": 0, "Sub": 1, "Mul": 1, "Div": 3, "Neg": 1, "Pow": 3, "Exp": 1, "Log": 1, "Sqrt": 2, "Square": 2,
    "Abs": 2, "Maximum": 1, "Minimum": 1, "Where": 1, "Clip": 1,
    "Relu": 1,  # da · [z > 0]
    "LeakyRelu": 1,  # da · slope
    "Sigmoid": 3,  # da · a(1 − a)
    "Tanh": 3,  # da · (1 − a²)
    "Softplus": 5,  # da · σ(z)
    "Softmax": 4,  # a · (da − Σ da·a)
    "LogSoftmax": 4,  # da − e^a · Σ da
    "Dropout": 1,  # da · mask / (1 − rate)
    "SigmoidCrossEntropy": 2,  # dL · (σ(z) − y)
    "SoftmaxCrossEntropy": 2,  # dL · (a − y)
    "SparseSoftmaxCrossEntropy": 2,  # dL · (a − onehot)
}

REDUCTIONS = {"Sum", "Mean", "Max", "LogSumExp"}
CONVOLUTIONS = {"Conv1d": False, "Conv2d": False, "Conv1dBias": True, "Conv2dBias": True}  # name: adds a bias
POOLINGS = {"MaxPool1d": False, "MaxPool2d": False, "AvgPool1d": True, "AvgPool2d": True}  # name: divides
MOVES = {"Reshape", "Transpose", "GetItem", "Concatenate", "Stack"}


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _matmul_flops(x_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """2·k per output element, where k is the contracted dimension."""
    return 2 * x_shape[-1] * _size(out_shape)


def _conv_flops(input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int:
    """2·kh·kw·cin per output element: the kernel W (*window, cin, cout) is the second input."""
    return 2 * _size(input_shapes[1][:-1]) * _size(output_shape)


def forward_flops(op_name: str, input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int:
    """FLOPs of one op's forward, from its name (the Function class) and shapes."""
    if op_name == "MatMul":
        return _matmul_flops(input_shapes[0], output_shape)
    if op_name == "Affine":  # X·W, then + b once per output element
        return _matmul_flops(input_shapes[0], output_shape) + _size(output_shape)
    if op_name in CONVOLUTIONS:
        return _conv_flops(input_shapes, output_shape) + (_size(output_shape) if CONVOLUTIONS[op_name] else 0)
    if op_name in POOLINGS:
        return _size(input_shapes[0]) + (_size(output_shape) if POOLINGS[op_name] else 0)
    if op_name in MOVES:
        return 0
    if op_name in REDUCTIONS:
        extra = _size(output_shape) if op_name in ("Mean", "LogSumExp") else 0
        return _size(input_shapes[0]) * (3 if op_name == "LogSumExp" else 1) + extra
    if op_name in ELEMENTWISE:
        # The cross-entropies (inputs: labels, logits) reduce over the class axis: count per logit.
        counted = input_shapes[-1] if op_name.endswith("CrossEntropy") else output_shape
        return ELEMENTWISE[op_name] * _size(counted)
    return _size(output_shape)


def backward_flops(
    op_name: str,
    input_shapes: list[tuple[int, ...]],
    output_shape: tuple[int, ...],
    needs_input_grad: tuple[bool, ...],
) -> int:
    """FLOPs of one op's backward: one gradient per input that needs it, plus the sums undoing broadcasts."""
    total = 0
    for position, (shape, needed) in enumerate(zip(input_shapes, needs_input_grad)):
        if not needed:
            continue
        if op_name == "Affine" and position == 2:
            total += _size(output_shape)  # db = Σ dZ
        elif op_name in ("MatMul", "Affine"):
            total += _matmul_flops(input_shapes[0], output_shape)
        elif op_name in CONVOLUTIONS:
            total += _size(output_shape) if position == 2 else _conv_flops(input_shapes, output_shape)
        elif op_name in POOLINGS:
            total += _size(shape) + (_size(output_shape) if POOLINGS[op_name] else 0)
        elif op_name in MOVES:
            total += 0
        elif op_name in REDUCTIONS:
            total += _size(shape) * (0 if op_name == "Sum" else 1)
        elif op_name in ELEMENTWISE_BACKWARD:
            counted = shape if op_name.endswith("CrossEntropy") else output_shape
            total += ELEMENTWISE_BACKWARD[op_name] * _size(counted)
        else:
            total += _size(output_shape)
        if op_name in ELEMENTWISE_BACKWARD and tuple(shape) != tuple(output_shape) and _size(shape) > 0 \
                and not op_name.endswith("CrossEntropy"):
            total += _size(output_shape)  # unbroadcast: sum the gradient back to the input's shape (db = Σ dZ)
    return total
