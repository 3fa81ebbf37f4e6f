"""Activations: values against NumPy closed forms, gradients by central differences, stability, get/serialize."""

import math

import numpy as np
import pytest

from glassnet import activations, initializers, ops
from glassnet.autodiff import Tensor, Variable, gradcheck
from glassnet.autodiff.ops_special import erf, erf_array

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805


def np_sigmoid(z):
    return 1 / (1 + np.exp(-z))


def np_softplus(z):
    return np.log1p(np.exp(z))


def np_hard_sigmoid(z):
    return np.clip(z / 6 + 0.5, 0, 1)


def np_erf(z):
    return np.vectorize(math.erf)(z)


# name → closed form written independently with NumPy (valid for moderate z)
CLOSED_FORMS = {
    "linear": lambda z: z,
    "relu": lambda z: np.maximum(z, 0),
    "relu6": lambda z: np.minimum(np.maximum(z, 0), 6),
    "leaky_relu": lambda z: np.where(z > 0, z, 0.2 * z),
    "sigmoid": np_sigmoid,
    "tanh": np.tanh,
    "softmax": lambda z: np.exp(z) / np.exp(z).sum(axis=-1, keepdims=True),
    "log_softmax": lambda z: z - np.log(np.exp(z).sum(axis=-1, keepdims=True)),
    "softplus": np_softplus,
    "softsign": lambda z: z / (1 + np.abs(z)),
    "elu": lambda z: np.where(z > 0, z, np.exp(z) - 1),
    "selu": lambda z: SELU_SCALE * np.where(z > 0, z, SELU_ALPHA * (np.exp(z) - 1)),
    "gelu": lambda z: 0.5 * z * (1 + np_erf(z / np.sqrt(2))),
    "silu": lambda z: z * np_sigmoid(z),
    "swish": lambda z: z * np_sigmoid(z),
    "mish": lambda z: z * np.tanh(np_softplus(z)),
    "hard_sigmoid": np_hard_sigmoid,
    "hard_silu": lambda z: z * np_hard_sigmoid(z),
    "hard_swish": lambda z: z * np_hard_sigmoid(z),
    "exponential": np.exp,
}

# away from every kink (0, ±3, 6) so central differences are valid for the piecewise-linear ones
SAMPLE = np.array([[-4.1, -2.5, -0.7, -0.05], [0.05, 0.9, 2.2, 7.3]], dtype=np.float64)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_value_matches_closed_form(name):
    out = activations.get(name)(Tensor(SAMPLE))
    assert out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), CLOSED_FORMS[name](SAMPLE), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_gradient_matches_central_differences(name):
    gradcheck(activations.get(name), [SAMPLE], atol=1e-7, rtol=1e-6)


def torch_twin(name):
    """The same activation in PyTorch (stable at any input), with Keras's defaults: leaky_relu's slope 0.2, ELU's
    α = 1, hard_sigmoid = relu6(z + 3)/6, softmax over the last axis."""
    torch = pytest.importorskip("torch")
    functional = torch.nn.functional
    return {
        "linear": lambda t: t, "relu": torch.relu, "relu6": functional.relu6,
        "leaky_relu": lambda t: functional.leaky_relu(t, 0.2), "sigmoid": torch.sigmoid, "tanh": torch.tanh,
        "softmax": lambda t: torch.softmax(t, -1), "log_softmax": lambda t: torch.log_softmax(t, -1),
        "softplus": functional.softplus, "softsign": functional.softsign, "elu": functional.elu,
        "selu": functional.selu, "gelu": functional.gelu, "silu": functional.silu, "swish": functional.silu,
        "mish": functional.mish,  # torch's hardsigmoid backward uses a float32 1/6 even in float64: clamp instead
        "hard_sigmoid": lambda t: torch.clamp(t / 6 + 0.5, 0, 1),
        "hard_silu": lambda t: t * torch.clamp(t / 6 + 0.5, 0, 1),
        "hard_swish": lambda t: t * torch.clamp(t / 6 + 0.5, 0, 1),
    }[name]


@pytest.mark.parametrize("name", sorted(set(CLOSED_FORMS) - {"exponential"}))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_no_overflow_or_nan_at_large_inputs(name, dtype):
    """Where e^|z| overflows, each activation still gives the value and gradient PyTorch gives in float64."""
    torch = pytest.importorskip("torch")
    values = np.array([[-1e4, -50.0, 0.5, 50.0, 1e4]])
    z = Variable(values, dtype=dtype)
    with np.errstate(over="raise", invalid="raise", divide="raise", under="ignore"):
        out = activations.get(name)(z)
        ops.sum(out).backward()
    assert out.dtype == dtype and z.grad.dtype == dtype
    t = torch.tensor(values, dtype=torch.float64, requires_grad=True)
    expected = torch_twin(name)(t)
    expected.sum().backward()
    close = {"rtol": 1e-6, "atol": 1e-6} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-12}
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), **close)
    np.testing.assert_allclose(z.grad, t.grad.numpy(), **close)


def test_exponential_overflows_like_keras():
    """e^z has no finite value for z = 1e4: exponential is the one activation that cannot be made stable."""
    with np.errstate(over="ignore"):
        assert np.isinf(activations.exponential(np.array([1e4], dtype=np.float32)).numpy()[0])


def test_gelu_matches_keras_documented_values():
    """The values in Keras's docstring, computed in float32 by TensorFlow: at z = −3 they are 2e−7 off the exact
    values (−3·Φ(−3) = −0.0040496943; tanh form −0.0036373), hence atol 3e−7."""
    z = np.array([-3.0, -1.0, 0.0, 1.0, 3.0], dtype=np.float32)
    np.testing.assert_allclose(activations.gelu(z).numpy(), [-0.00404951, -0.15865529, 0.0, 0.8413447, 2.9959507],
                               rtol=1e-6, atol=3e-7)
    np.testing.assert_allclose(activations.gelu(z, approximate=True).numpy(),
                               [-0.00363752, -0.15880796, 0.0, 0.841192, 2.9963627], rtol=1e-6, atol=3e-7)


def test_gelu_approximate_gradient():
    gradcheck(lambda z: activations.gelu(z, approximate=True), [SAMPLE], atol=1e-7, rtol=1e-6)


def test_erf_stays_within_minus_one_and_one():
    z = np.array([-1e4, -50.0, -6.0, 6.0, 50.0, 1e4])
    # 1 − |erf(x)| = erfc(|x|) <= erfc(6) = 2.2e−17, under half the spacing of floats below 1: exactly ±1
    np.testing.assert_array_equal(erf_array(z), np.sign(z))


def test_erf_is_accurate_to_double_precision_and_differentiable():
    z = np.linspace(-7, 7, 2001)
    np.testing.assert_allclose(erf_array(z), np_erf(z), rtol=0, atol=4e-15)
    assert erf_array(np.float32([3.0])).dtype == np.float32
    gradcheck(erf, [np.array([-2.5, -0.3, 0.0, 0.8, 3.1])], atol=1e-8)


def test_relu_keras_options():
    z = np.array([-3.0, -1.0, 0.5, 2.0, 8.0])
    np.testing.assert_allclose(activations.relu(z, max_value=6.0).numpy(), np.clip(z, 0, 6))
    np.testing.assert_allclose(activations.relu(z, threshold=1.0).numpy(), np.where(z > 1, z, 0))
    np.testing.assert_allclose(activations.relu(z, negative_slope=0.1).numpy(), np.where(z > 0, z, 0.1 * z))
    expected = np.where(z > 1, np.minimum(z, 6), 0) - 0.1 * np.maximum(1 - z, 0)
    np.testing.assert_allclose(
        activations.relu(z, negative_slope=0.1, max_value=6.0, threshold=1.0).numpy(), expected)
    gradcheck(lambda x: activations.relu(x, negative_slope=0.1, max_value=6.0, threshold=1.0), [z + 0.01])


def test_leaky_relu_and_elu_take_their_arguments():
    z = np.array([-2.0, 3.0])
    np.testing.assert_allclose(activations.leaky_relu(z, negative_slope=0.5).numpy(), [-1.0, 3.0])
    np.testing.assert_allclose(activations.elu(z, alpha=2.0).numpy(), [2 * (np.exp(-2) - 1), 3.0])


def test_softmax_axis():
    z = np.arange(6.0).reshape(2, 3)
    out = activations.softmax(z, axis=0).numpy()
    np.testing.assert_allclose(out.sum(axis=0), [1, 1, 1])
    np.testing.assert_allclose(out, np.exp(z) / np.exp(z).sum(axis=0, keepdims=True))


def test_get_by_name_none_and_callable():
    assert activations.get("relu") is activations.relu
    assert activations.get(None) is activations.linear
    assert activations.get("swish") is activations.silu

    def custom(z):
        return z * 2

    assert activations.get(custom) is custom


def test_unknown_name_lists_known_ones():
    with pytest.raises(ValueError, match=r"Unknown activation function: 'rleu'.*'relu'"):
        activations.get("rleu")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(3)


@pytest.mark.parametrize("name", sorted(CLOSED_FORMS))
def test_serialize_round_trip(name):
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


def test_custom_activation_is_deserialized_from_custom_objects():
    def my_act(z):
        return z * ops.sigmoid(z)

    assert activations.serialize(my_act) == "my_act"
    assert activations.deserialize("my_act", custom_objects={"my_act": my_act}) is my_act


def test_custom_activation_trains_with_no_extra_code():
    """a = z·σ(z) built from ops: gradient descent fits a 1-unit model to data made by that same model."""
    from glassnet.layers import Dense

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    z_true = x @ np.array([[1.0], [-2.0], [0.5]], dtype=np.float32) + 0.3
    y = z_true * np_sigmoid(z_true)
    # seeded: an unseeded initializer drew from the global generator, so the start depended on the tests before
    layer = Dense(1, activation=lambda z: z * ops.sigmoid(z), kernel_initializer=initializers.GlorotUniform(seed=0))

    def loss_value():
        return ops.mean(ops.square(layer(x) - y))

    first = loss_value()
    first.backward()
    w, b = (v.numpy().astype(np.float64) for v in (layer.kernel, layer.bias))
    z = x @ w + b  # the chain rule by hand: dL/dW = Xᵀ·[2(a − y)/m · (σ(z) + z·σ(z)(1 − σ(z)))]
    dz = 2 * (z * np_sigmoid(z) - y) / len(x) * (np_sigmoid(z) + z * np_sigmoid(z) * (1 - np_sigmoid(z)))
    np.testing.assert_allclose(layer.kernel.grad, x.T @ dz, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(layer.bias.grad, dz.sum(axis=0), rtol=1e-5, atol=1e-7)
    for _ in range(100):
        layer.kernel.grad = layer.bias.grad = None
        loss = loss_value()
        loss.backward()
        layer.kernel.assign_sub(0.05 * layer.kernel.grad)
        layer.bias.assign_sub(0.05 * layer.bias.grad)
    assert loss_value().item() < 0.05 * first.item()
