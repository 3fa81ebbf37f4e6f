"""cost and trace count the FLOPs of the convolution, batch-norm, pooling and embedding ops, each checked against a
count by hand from the layer's shapes (issue 16: within 10%; these are exact), and a convolution's time is
estimated from the measured rate of its im2col product."""

import importlib
import math
import time

import numpy as np
import pytest

import glassnet as gk
from glassnet import inspect, layers
from glassnet.autodiff import Tensor
from glassnet.autodiff import ops_conv as cv
from glassnet.inspect import flops

B = 4
cost_module = importlib.import_module("glassnet.inspect.cost")  # the package exports the function under that name


def convnet() -> gk.Sequential:
    layers.reset_uids()
    model = gk.Sequential([
        gk.Input((8, 8, 3)),
        layers.Conv2D(4, 3, padding="same", name="conv"),  # (B, 8, 8, 4)
        layers.BatchNormalization(name="norm"),
        layers.MaxPooling2D(2, name="pool"),  # (B, 4, 4, 4)
        layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="depthwise"),  # (B, 4, 4, 8)
        layers.Conv2DTranspose(3, 2, strides=2, name="transpose"),  # (B, 8, 8, 3)
        layers.SeparableConv2D(5, 3, name="separable"),  # (B, 6, 6, 3) then (B, 6, 6, 5)
        layers.GlobalAveragePooling2D(name="average"),  # (B, 5)
        layers.Dense(2, name="dense"),
    ])
    model.compile("sgd", "mse")
    return model


def close(got: int, expected: int) -> bool:
    """Within 10% of the count by hand (issue 16's bound)."""
    return abs(got - expected) <= 0.1 * expected


def test_forward_and_backward_flops_of_each_layer_are_the_hand_count():
    report = inspect.cost(convnet(), batch_size=B)
    by_layer = {c.name: c for c in report.layers}
    conv_out, pool_in = B * 8 * 8 * 4, B * 8 * 8 * 4
    depthwise_out, transpose_in, transpose_out = B * 4 * 4 * 8, B * 4 * 4 * 8, B * 8 * 8 * 3
    middle, separable_out = B * 6 * 6 * 3, B * 6 * 6 * 5
    expected = {  # (forward, backward) counted from the shapes: 2 FLOPs per multiply-add, 1 per add or compare
        # X ⋆ W: 3·3·3 multiply-adds per output and the bias; backward dW (no dX for the data) and db
        "conv": (2 * 27 * conv_out + conv_out, 2 * 27 * conv_out + conv_out),
        # training batch norm: 7 per value forward; dx 5, dγ 2, dβ 1 per value
        "norm": (7 * conv_out, (5 + 2 + 1) * conv_out),
        # one compare per input value (2×2 windows tile the input); backward routes each window's gradient
        "pool": (pool_in, pool_in),
        # 3·3 multiply-adds per output (one channel each), + b; backward dX and dW, db (the broadcast bias summed)
        "depthwise": (2 * 9 * depthwise_out + depthwise_out, 2 * 2 * 9 * depthwise_out + depthwise_out),
        # X·Wᵀ: 2·2·3 products per input value, 8 channels summed... counted as (pixels, 8)·(8, 2·2·3), + b
        "transpose": (2 * 2 * 2 * 3 * transpose_in + transpose_out,
                      2 * 2 * 2 * 2 * 3 * transpose_in + transpose_out),
        # depthwise 3·3 per output of the middle, then the 1×1 conv 3 → 5 with its bias; backward both ways for both
        "separable": (2 * 9 * middle + 2 * 3 * separable_out + separable_out,
                      2 * 2 * 9 * middle + 2 * 2 * 3 * separable_out + separable_out),
    }
    for name, (forward, backward) in expected.items():
        assert close(by_layer[name].forward_flops, forward), (name, by_layer[name].forward_flops, forward)
        assert close(by_layer[name].backward_flops, backward), (name, by_layer[name].backward_flops, backward)
    assert by_layer["depthwise"].params == 3 * 3 * 4 * 2 + 8
    assert by_layer["transpose"].params == 2 * 2 * 3 * 8 + 3


def test_an_lstm_layer_is_counted_as_its_equations_by_hand():
    """LSTM(u) over T steps of F features, batch B: xW_all = x_all·W + b once (2·F + 1 per value of B·T × 4u); each
    step hU = h·U (2u per value of B × 4u), z = xW + hU (1), the gates (σ 4 × 3, tanh 5 per unit), c = f·c + i·c̃
    (3), h = o·tanh(c) (6). Backward: dW, dx and db of the one product; each step dh and dU, the gates' 3 per gate,
    the states' 3 + 1 and 1 + 4 per unit, and tanh(c) again (5: the output saves c, not tanh(c))."""
    T, F, u = 5, 3, 4
    layers.reset_uids()
    model = gk.Sequential([gk.Input((T, F)), layers.LSTM(u, name="lstm")])
    model.compile("sgd", "mse")
    lstm = next(c for c in inspect.cost(model, batch_size=B).layers if c.name == "lstm")
    values, units = B * T * 4 * u, B * T * u  # of z (all steps), of h or c (all steps)
    forward = (2 * F + 1) * values + (2 * u + 1) * values + (17 + 3 + 6) * units
    # backward: dW = x_allᵀ·dxW_all, db = Σ (dX is not needed: the data); dh (not at step 1: h⟨0⟩ is a constant)
    # and dU each step; the sums over paths are data movement; gates 12, state 3 + 1 (no dc⟨0⟩), output 5 + 1 + 4
    backward = (2 * F * values + values + 2 * u * values + 2 * u * (values - B * 4 * u) + (12 + 4 + 10) * units
                - B * u)
    assert close(lstm.forward_flops, forward), (lstm.forward_flops, forward)
    assert close(lstm.backward_flops, backward), (lstm.backward_flops, backward)


def test_a_gru_layer_is_counted_as_its_equations_by_hand():
    """GRU(u) (reset_after=True) over T steps of F features, batch B: xW_all = x_all·W + b_W once (2·F + 1 per value
    of B·T × 3u); each step hU = h·U + b_U (2u + 1 per value of B × 3u), the gates (σ with its sum 5 twice, the
    candidate 7 per unit), h = z·h + (1 − z)·h̃ (4). Backward: dW and db_W of the one product; each step dh, dU and
    db_U, the gates' 12 and the state's 4 + 1 per unit."""
    T, F, u = 5, 3, 4
    layers.reset_uids()
    model = gk.Sequential([gk.Input((T, F)), layers.GRU(u, name="gru")])
    model.compile("sgd", "mse")
    gru = next(c for c in inspect.cost(model, batch_size=B).layers if c.name == "gru")
    values, units = B * T * 3 * u, B * T * u  # of the input and recurrent parts (all steps), of h (all steps)
    forward = (2 * F + 1) * values + (2 * u + 1) * values + (17 + 4) * units
    # backward: dW = x_allᵀ·dxW_all and db_W = Σ (no dX: the data); each step dU, db_U, and dh but at step 1 (h⟨0⟩ is
    # a constant); gates 12 (dhU; dxW is its blocks), state 4 (da) + 1 (dh_prev, not at step 1) per unit
    backward = (2 * F * values + values + 2 * u * values + 2 * u * (values - B * 3 * u) + values + (12 + 5) * units
                - B * u)
    assert close(gru.forward_flops, forward), (gru.forward_flops, forward)
    assert close(gru.backward_flops, backward), (gru.backward_flops, backward)


def test_masked_batch_norm_is_counted_per_value():
    """Under a mask: w/Σw (2), w·x and Σ (2), x − μ, (x − μ)², w·(x − μ)², Σ (4), ·1/√(σ² + ε), γ·ẑ + β (3)."""
    shapes = [(B, 6), (B, 6, 8), (8,), (8,)]
    assert flops.forward_flops("MaskedBatchNorm", shapes, (B, 6, 8)) == 11 * B * 6 * 8
    assert flops.backward_flops("MaskedBatchNorm", shapes, (B, 6, 8), (False, True, True, True)) == 8 * B * 6 * 8


def test_batch_norm_at_inference_and_an_embedding_lookup_are_counted():
    layers.reset_uids()
    model = gk.Sequential([gk.Input((6,)), layers.Embedding(50, 8, name="embedding"),
                           layers.BatchNormalization(name="norm"), layers.GlobalAveragePooling1D(),
                           layers.Dense(1)])
    model.compile("sgd", "mse")
    model.layers[1].trainable = False  # a frozen batch norm runs its inference op in training too
    words = np.random.default_rng(0).integers(0, 50, size=(B, 6))
    graph = inspect.trace(model, words, np.zeros((B, 1), "float32"))
    gather = next(n for n in graph.nodes if n.op == "Gather")
    assert (gather.flops, gather.backward_flops) == (0, B * 6 * 8)  # a copy; dE adds each row's gradient once
    norm = next(n for n in graph.nodes if n.op == "BatchNormInference")
    values = B * 6 * 8
    assert norm.flops == 2 * values  # x·s + t
    assert norm.backward_flops == values  # dx = dy·s only: γ, β frozen, the moving statistics never trained


@pytest.mark.parametrize("op, make, input_shape, expected", [
    ("Conv2dBias", lambda: layers.Conv2D(7, 3), (9, 9, 3), (B * 7 * 7, 27, 7)),
    ("DepthwiseConv2dBias", lambda: layers.DepthwiseConv2D(3, depth_multiplier=2), (9, 9, 3), (B * 7 * 7, 9, 2)),
    ("ConvTranspose2d", lambda: layers.Conv2DTranspose(6, 2, use_bias=False), (5, 5, 3), (B * 5 * 5, 3, 24)),
])
def test_a_convolution_is_timed_as_its_im2col_product(op, make, input_shape, expected):
    """gemm_shape: (m, k, n) of the one product a convolution runs; its estimated seconds are that product's
    measured rate times its FLOPs over 2·m·k·n (one product per channel for a depthwise convolution)."""
    layers.reset_uids()
    model = gk.Sequential([gk.Input(input_shape), make(), layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(1).normal(size=(B, *input_shape)).astype("float32")
    graph = inspect.trace(model, x, np.zeros((B, 1), "float32"))
    node = next(n for n in graph.nodes if n.op == op)
    assert cost_module.gemm_shape(node) == expected
    m, k, n = expected
    gathered = m * n if op.startswith("ConvTranspose") else m * k * (3 if op.startswith("Depthwise") else 1)
    assert cost_module.window_values(node) == gathered  # the windows im2col copies (col2im adds, transposed)
    product = 2 * m * k * n * (input_shape[-1] if op.startswith("Depthwise") else 1)
    assert node.flops - product == (math.prod(node.output_shape) if op.endswith("Bias") else 0)  # + b


@pytest.fixture
def one_blas_thread():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    with threadpoolctl.threadpool_limits(1, user_api="blas"):
        yield


@pytest.mark.slow  # it times the machine: outside the default run, where shared cores make timings noisy
def test_a_convolution_layers_estimated_time_is_near_its_measured_time(one_blas_thread):
    """A book-sized Conv2D (32 → 64 channels, 3×3, on 13×13 maps): the estimate (the im2col product's rate, one
    pass over its windows, the per-op overhead) within 2× of the measured forward + backward of the layer's op;
    the machine is shared, so a disturbed pair is measured again."""
    layers.reset_uids()
    model = gk.Sequential([gk.Input((13, 13, 32)), layers.Conv2D(64, 3, name="conv"), layers.Flatten(),
                           layers.Dense(1)])
    model.compile("sgd", "mse")
    x = np.random.default_rng(2).normal(size=(32, 13, 13, 32)).astype("float32")
    w = model.layers[0].kernel
    ratios = []
    for _ in range(3):
        cost_module.matmul_seconds.cache_clear()
        estimated = next(c for c in inspect.cost(model, batch_size=32).layers if c.name == "conv").seconds
        best = math.inf
        for _ in range(5):
            start = time.perf_counter()
            z = cv.Conv2dBias.apply(Tensor(x), w, model.layers[0].bias, strides=(1, 1), dilation=(1, 1),
                                    padding="valid")
            z.backward(np.ones(z.shape, "float32"))
            best = min(best, time.perf_counter() - start)
        ratios.append(estimated / best)
        if 0.5 <= ratios[-1] <= 2:
            return
    pytest.fail(f"estimated / measured time outside [0.5, 2] in every attempt: {ratios}")
