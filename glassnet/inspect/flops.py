"""FLOPs of one recorded op, forward and backward, counted from its shapes.

Conventions (one FLOP = one scalar add, multiply, divide, compare or elementary function such as exp or log):

- MatMul ``Z = X·W`` with X (…, m, k), W (k, n): ``2·m·k·n`` per batch element (k multiplies and k adds per output,
  the usual convention). Backward: ``2·m·k·n`` for dX = dZ·Wᵀ and again for dW = Xᵀ·dZ, each only if needed.
  Affine ``X·W + b`` and AddMatMul ``C + X·W`` add one FLOP per output element forward; Affine's db = Σ dZ one per
  output element, AddMatMul's dC = dZ none.
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
- Depthwise convolutions (``DEPTHWISE``) ``Z(…, c·M+m) = Σ_{p,q} X(…, c)·W(p,q,c,m) (+ b)``: ``2·kh·kw`` per
  output element each way (forward, dX, dW): one product per channel, each output reading one channel's window;
  the bias and db one per output element, as for a convolution.
- Transposed convolutions (``TRANSPOSED``) ``Z = X ⋆ᵀ W``, run as col2im(X·Wᵀ): ``2·kh·kw·filters`` per input
  element (the product (pixels, cin)·(cin, kh·kw·filters)); the same for dX = im2col(dZ)·W and dW = im2col(dZ)ᵀ·X;
  the bias and db one per output element.
  The scatter-add of col2im is counted with the product, as im2col's gather is: data movement.
- Batch normalization (``BATCH_NORMS``), per element of x: in training μ (1: add), x − μ, (x − μ)², σ² (1 each),
  ẑ = (x − μ)·1/√(σ² + ε), γ·ẑ + β (2): 7 forward (11 under a mask: the weights w/Σw, w·x and w·(x − μ)²); backward
  dβ = Σ dy (1), dγ = Σ dy·ẑ (2), dx = γ/√(σ² + ε)·(dy − (Σ dy + ẑ·Σ dy·ẑ)/N) (5, reusing dβ's and dγ's sums).
  At inference (given statistics m, v) forward x·s + t (2), backward dx = dy·s (1), dm = −Σ dx (1), and 4 each for
  dv and dγ (x − m, times 1/√(v + ε), times dy, summed), dβ = Σ dy (1). Per-channel work (C values) is left out.
- Gather (an Embedding's lookup ``E[x]``): 0 forward (a copy); backward 1 per output element for dE (each dz[i]
  added into row x[i]).
- Poolings (``POOLINGS``): one FLOP per window element each way (a compare, or an add), plus one divide per output
  element for an average. The op's pool size is not in its shapes, so the window elements are counted as the input
  elements: exact when the windows tile the input (strides = pool_size, Keras's default), an estimate otherwise.
- The recurrent steps' ops (``RECURRENT_STEPS``), per batch × units value. An LSTM's: the gates
  a = [σ(z_i), σ(z_f), tanh(z_c), σ(z_o)] 17 forward (three σ at 4, one tanh at 5), 12 backward (a(1 − a) or
  1 − a², times da: 3 per gate); the cell state c = f ⊙ c_prev + i ⊙ c̃ 3 forward, backward 3 for da (dc ⊙ c̃,
  dc ⊙ c_prev, dc ⊙ i) and 1 for dc_prev = dc ⊙ f; the output h = o ⊙ tanh(c) 6 forward (tanh, product), backward 6
  for da (tanh(c) again, 5: the op saves c, not tanh(c); dh ⊙ tanh(c)) and 4 for dc = dh ⊙ o ⊙ (1 − tanh²(c)).
  A GRU's gates a = [σ(xw_z + hu_z), σ(xw_r + hu_r), tanh(xw_h + r ⊙ hu_h)] 17 forward (5 for each σ with its
  sum, 7 for the candidate: product, sum, tanh), backward 12 for dhu (dn = dh̃ ⊙ (1 − h̃²) 3, dz ⊙ z(1 − z) 3,
  (dr + dn ⊙ hu_h) ⊙ r(1 − r) 5, dn ⊙ r 1) and none for dxw (dhu's z and r blocks, and dn); the state
  h = z ⊙ h_prev + (1 − z) ⊙ h̃ 4 forward, backward 4 for da (dh ⊙ (h_prev − h̃), dh ⊙ (1 − z)) and 1 for
  dh_prev = dh ⊙ z.
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
POOLINGS = {"MaxPool1d": False, "MaxPool2d": False, "MaxPoolRelu1d": False, "MaxPoolRelu2d": False,
            "AvgPool1d": True, "AvgPool2d": True}  # name: divides
DEPTHWISE = {"DepthwiseConv1d": False, "DepthwiseConv2d": False, "DepthwiseConv1dBias": True,
             "DepthwiseConv2dBias": True}  # name: adds a bias
TRANSPOSED = {"ConvTranspose1d": False, "ConvTranspose2d": False, "ConvTranspose1dBias": True,
              "ConvTranspose2dBias": True}  # name: adds a bias
# name: (position of x, FLOPs per element of x forward, backward per element of x for each input in order)
BATCH_NORMS = {
    "BatchNorm": (0, 7, (5, 2, 1)),  # x, gamma, beta
    "MaskedBatchNorm": (1, 11, (0, 5, 2, 1)),  # the mask w (no gradient), x, gamma, beta
    "BatchNormInference": (0, 2, (1, 1, 4, 4, 1)),  # x, moving mean m, moving variance v, gamma, beta
}
MOVES = {"Reshape", "Transpose", "GetItem", "Concatenate", "Stack", "Gather"}
# name: (FLOPs forward, backward for each input in order), per batch × units value, and the output's values a unit
RECURRENT_STEPS = {"LstmGates": (17, (12,), 4), "LstmCellState": (3, (3, 1), 1), "LstmCellOutput": (6, (6, 4), 1),
                   "GruGates": (17, (12, 0), 3), "GruState": (4, (4, 1), 1)}


def _size(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _matmul_flops(x_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> int:
    """2·k per output element, where k is the contracted dimension."""
    return 2 * x_shape[-1] * _size(out_shape)


def _conv_flops(input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int:
    """2·kh·kw·cin per output element: the kernel W (*window, cin, cout) is the second input."""
    return 2 * _size(input_shapes[1][:-1]) * _size(output_shape)


def _depthwise_flops(input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int:
    """2·kh·kw per output element: the kernel W (*window, c, m) is the second input."""
    return 2 * _size(input_shapes[1][:-2]) * _size(output_shape)


def _transposed_flops(input_shapes: list[tuple[int, ...]]) -> int:
    """2·kh·kw·filters per input element: X (…, cin) times Wᵀ, W (*window, filters, cin) the second input."""
    return 2 * _size(input_shapes[1][:-1]) * _size(input_shapes[0])


def _step_units(op_name: str, output_shape: tuple[int, ...]) -> int:
    """The batch × units values of a recurrent step's op (an LSTM's gates hold four per unit, a GRU's three)."""
    return _size(output_shape) // RECURRENT_STEPS[op_name][2]


def forward_flops(op_name: str, input_shapes: list[tuple[int, ...]], output_shape: tuple[int, ...]) -> int:
    """FLOPs of one op's forward, from its name (the Function class) and shapes."""
    if op_name in RECURRENT_STEPS:
        return RECURRENT_STEPS[op_name][0] * _step_units(op_name, output_shape)
    if op_name in DEPTHWISE:
        return _depthwise_flops(input_shapes, output_shape) + (_size(output_shape) if DEPTHWISE[op_name] else 0)
    if op_name in TRANSPOSED:
        return _transposed_flops(input_shapes) + (_size(output_shape) if TRANSPOSED[op_name] else 0)
    if op_name in BATCH_NORMS:
        x_position, per_element, _ = BATCH_NORMS[op_name]
        return per_element * _size(input_shapes[x_position])
    if op_name == "MatMul":
        return _matmul_flops(input_shapes[0], output_shape)
    if op_name == "Affine":  # X·W, then + b once per output element
        return _matmul_flops(input_shapes[0], output_shape) + _size(output_shape)
    if op_name == "AddMatMul":  # c + X·W: the product, then one add per output element
        return _matmul_flops(input_shapes[1], output_shape) + _size(output_shape)
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
        if op_name in RECURRENT_STEPS:
            total += RECURRENT_STEPS[op_name][1][position] * _step_units(op_name, output_shape)
        elif op_name in DEPTHWISE or op_name in TRANSPOSED:
            product = _depthwise_flops(input_shapes, output_shape) if op_name in DEPTHWISE else \
                _transposed_flops(input_shapes)
            total += _size(output_shape) if position == 2 else product  # db = Σ dZ
        elif op_name in BATCH_NORMS:
            x_position, _, per_element = BATCH_NORMS[op_name]
            total += per_element[position] * _size(input_shapes[x_position])
        elif op_name == "Gather":
            total += _size(output_shape) if position == 1 else 0  # dE: one add per looked-up value
        elif op_name == "Affine" and position == 2:
            total += _size(output_shape)  # db = Σ dZ
        elif op_name in ("MatMul", "Affine"):
            total += _matmul_flops(input_shapes[0], output_shape)
        elif op_name == "AddMatMul":  # dc = dz moves nothing; dx = dz·Wᵀ and dW = Xᵀ·dz are products
            total += 0 if position == 0 else _matmul_flops(input_shapes[1], output_shape)
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
