"""The benchmark suite measures what it claims: the NumPy reference trains with Keras's math, the roofline counts
the right FLOPs, the disturbance detector sees a neighbour, and the report's ratios and targets come from the
rounds timed (checked on made-up rounds here; the quick run of the whole suite, ~2 minutes, is marked slow)."""

import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet
from glassnet import ops

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # benchmarks/ is a top-level folder of the repository, not part of the package

from benchmarks import measure, peers  # noqa: E402
from benchmarks.peers.numpy_peer import NumpyMLP  # noqa: E402
from benchmarks.report import MB, PeerResult, WorkloadResult, render  # noqa: E402
from benchmarks.roofline import step_matmuls  # noqa: E402
from benchmarks.workloads import RMSPROP_EPSILON, RMSPROP_RHO, WORKLOADS, Workload, initial_weights  # noqa: E402


def small(key: str) -> Workload:
    """Workload ``key`` with narrow layers (same activations, loss and optimizer), for fast exact checks."""
    w = WORKLOADS[key]
    units = {"A": (12, 7, 4), "B": (30, 5, 5, 1), "C": (2, 8, 8, 1)}[key]
    return Workload(w.key, w.title, units, w.activations, w.loss, w.optimizer, w.learning_rate, 6, 6, 6, w.unit, 1)


def autodiff_loss_and_grads(workload: Workload, weights, x, y):
    """The same network, loss and gradients computed by glassnet's engine (independent of the NumPy code)."""
    params = [glassnet.Variable(p) for p in weights]
    a = glassnet.Tensor(x)
    layers = len(params) // 2
    for l in range(layers):
        z = ops.add(ops.matmul(a, params[2 * l]), params[2 * l + 1])
        a = z if l == layers - 1 else getattr(ops, workload.activations[l])(z)
    if workload.loss == "categorical_crossentropy":
        loss = ops.mean(ops.softmax_cross_entropy(y, z))
    elif workload.loss == "binary_crossentropy":
        loss = ops.mean(ops.sigmoid_cross_entropy(y, z))
    else:
        loss = ops.mean(ops.square(ops.subtract(ops.tanh(z), y)))
    loss.backward()
    return float(loss.numpy()), [p.grad for p in params]


@pytest.mark.parametrize("key", ["A", "B", "C"])
def test_numpy_reference_matches_autodiff_and_keras_update(key):
    workload = small(key)
    rng = np.random.default_rng(5)
    x = rng.random((6, workload.units[0]), dtype=np.float32)
    if key == "A":
        y = np.eye(workload.units[-1], dtype=np.float32)[rng.integers(0, workload.units[-1], 6)]
    else:
        y = rng.integers(0, 2, (6, 1)).astype(np.float32) * (2 if key == "C" else 1) - (1 if key == "C" else 0)
    weights = initial_weights(workload, seed=1)
    weights = [w + rng.normal(0, 0.1, w.shape).astype(np.float32) for w in weights]  # non-zero biases too
    expected_loss, expected_grads = autodiff_loss_and_grads(workload, weights, x, y)

    model = NumpyMLP(workload, weights)
    loss = model.train_step(x, y)

    assert loss == pytest.approx(expected_loss, rel=1e-5)
    for got, want in zip(model.grads, expected_grads):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)
    for new, old, g in zip(model.params, weights, model.grads):
        if workload.optimizer == "rmsprop":  # Keras 3: v = ρ·0 + (1−ρ)g², w −= η·g / √(v + ε)
            v = (1 - RMSPROP_RHO) * g.astype(np.float64) ** 2
            want = old - workload.learning_rate * g / np.sqrt(v + RMSPROP_EPSILON)
        else:
            want = old - workload.learning_rate * g.astype(np.float64)
        np.testing.assert_allclose(new, want, rtol=1e-5, atol=1e-7)


def test_roofline_counts_the_epoch_flops_of_workload_a():
    # per sample: X·W1 and X^T·dZ1 (784×512 each), then A1·W2, A1^T·dZ2, dZ2·W2^T (512×10 each); 2 FLOPs per MAC
    per_sample = 2 * (2 * 784 * 512 + 3 * 512 * 10)
    a = WORKLOADS["A"]
    total = sum(s.flops for m in a.batch_sizes(60_000) for s in step_matmuls(a, m))
    assert total == per_sample * 60_000
    assert a.batch_sizes(60_000)[-1] == 60_000 - 468 * 128


def test_roofline_counts_the_im2col_flops_of_the_convnet():
    # per sample, 3×3 'valid' convolutions: 26·26 positions × 9·1 → 32; 11·11 × 9·32 → 64; 3·3 × 9·64 → 128; each
    # product forward and for dW, the windows' gradient for the last two; then Dense 1152 → 10 (three products)
    convs = [(26 * 26, 9 * 1, 32, 2), (11 * 11, 9 * 32, 64, 3), (3 * 3, 9 * 64, 128, 3)]
    per_sample = sum(2 * p * k * n * products for p, k, n, products in convs) + 2 * 3 * 1152 * 10
    conv = WORKLOADS["CONV"]
    assert sum(s.flops for s in step_matmuls(conv, 64)) == per_sample * 64


@pytest.mark.parametrize("key", ["CONV", "LSTM"])
def test_layer_workloads_count_the_parameters_of_the_models_every_peer_builds(key):
    from types import SimpleNamespace

    import torch

    from benchmarks.peers import keras_like, torch_peer
    from glassnet import callbacks, layers, models, optimizers

    workload = WORKLOADS[key]
    api = SimpleNamespace(layers=layers, models=models, optimizers=optimizers, callbacks=callbacks)
    assert keras_like.build(api, workload, initial_weights(workload)).count_params() == workload.n_params
    module = torch_peer.network(workload, [])
    torch_params = sum(p.numel() for p in module.parameters())
    # PyTorch's LSTM has two bias vectors (b_ih and b_hh) where Keras has one
    assert torch_params == workload.n_params + (4 * 32 if key == "LSTM" else 0)
    assert module(torch.zeros((2, 1, 28, 28)) if key == "CONV" else torch.zeros((2, 200), dtype=torch.long)).shape[
        1] == (10 if key == "CONV" else 1)


def test_layer_targets_compare_per_epoch_medians_with_pytorch_keras_and_the_memory_budget():
    result = fake_result("CONV", {"glassnet": [1.0, 1.2, 1.1], "torch": [1.5, 1.4, 1.6], "keras": [2.0, 2.4, 2.2]})
    text = render([result], "default", 3, 2, 0.1)
    scale = 938 / 100  # rounds of 100 steps, an epoch of 938
    assert result.scale == pytest.approx(scale) and "s/epoch of 60000 samples (rounds of 100 steps" in text
    assert f"| CONV: glassnet ≤ 1.0 × torch median (per epoch) | {1.1 * scale:.3f} s vs" in text
    assert "(glassnet/keras 0.50) | PASS |" in text  # 1.1 ≤ 0.5 × 2.2
    # budget: 1 MB of data + 2 × 104,202 parameters (weights, RMSprop's slot) + 64 × activations: 784 input,
    # 26·26·32, 13·13·32, 11·11·64, 5·5·64, 3·3·128 and its flat copy, 10 logits = 39,482 floats
    budget = (1 << 20) + 8 * 104_202 + 4 * 64 * 39_482
    assert f"peak RSS over imports 50 MB vs 1.5 × {budget / MB:.0f} = {1.5 * budget / MB:.0f} MB | FAIL |" in text


def test_a_round_with_a_busy_neighbour_is_marked_disturbed():
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.2)
        rounds = measure.time_rounds(lambda i: time.sleep(0.5), rounds=1, max_attempts=1, max_share=0.1)
    finally:
        burner.kill()
        burner.wait()
    (only,) = rounds
    assert only["seconds"] >= 0.5
    assert only["others_cpu_s"] > 0.2  # the burner had a core (or a good share of one) for 0.5 s
    assert only["disturbed"]


def _row(text: str, workload: str, label: str) -> list[str]:
    section = text.split(f"### {workload}:")[1].split("###")[0]
    line = next(line for line in section.splitlines() if line.startswith(f"| {label} |"))
    return [cell.strip() for cell in line.strip("|").split("|")]


def _median(peer: dict, scale: float) -> float:
    clean = [r["seconds"] for r in peer["rounds"] if not r["disturbed"]]
    return statistics.median(clean or [r["seconds"] for r in peer["rounds"]]) * scale


def _target(text: str, key: str) -> str:
    """The targets table's row for ``key``'s matmul bound."""
    return next(line for line in text.splitlines() if line.startswith(f"| {key}: glassnet ≤ 1.5 × matmul"))


def fake_result(key: str, seconds: dict[str, list[float]], bound_s: float = 0.01) -> WorkloadResult:
    """A WorkloadResult as run_suite assembles it, from made-up round times per peer (undisturbed, one per turn)."""
    workload = WORKLOADS[key]
    result = WorkloadResult(workload, workload.samples, False, [], {}, None)
    for name, times in seconds.items():
        raw = {"rounds": [{"seconds": t, "others_cpu_s": 0.0, "disturbed": False, "turn": i}
                          for i, t in enumerate(times)],
               "version": "1", "data_source": "made up", "data_bytes": 1 << 20, "rss_baseline": 100 * MB,
               "peak_rss": 150 * MB}
        result.peers.append(PeerResult(name, peers.load(name).LABEL, "ok", raw, result.scale))
    result.roofline = {"lower_bound_s": bound_s, "epoch_gflop": 0.005, "gflops_per_s": 1.0, "shapes": [],
                       "bound_by_turn_s": [bound_s] * 3}
    result.losses = {"reference": [1.0, 0.9], "measured": [1.0, 0.9 * (1 + 2e-6)]}
    return result


def test_the_report_computes_ratios_and_targets_from_the_rounds():
    # C: 1000 steps per round; D: the same network, 1000 train_on_batch calls
    results = [fake_result("C", {"glassnet": [0.050, 0.048, 0.052], "torch": [0.200, 0.210, 0.190]}),
               fake_result("D", {"glassnet": [0.060, 0.058, 0.062], "torch": [0.200, 0.210, 0.190]})]
    text = render(results, "default", 3, 2, 0.1)
    assert _row(text, "C", "PyTorch (CPU)")[3] == "0.200" and _row(text, "C", "PyTorch (CPU)")[7] == "0.25"
    assert _row(text, "D", "glassnet")[2:4] == ["0.0580", "0.0600"]
    assert "| C: glassnet ≥ 4 × PyTorch steps/s | 20000 vs 4 × 5000 = 20000 steps/s (4.00 ×) | PASS |" in text
    assert ("| D: glassnet ≥ 4 × PyTorch steps/s (train_on_batch) | 16667 vs 4 × 5000 = 20000 steps/s (3.33 ×) "
            "| FAIL |") in text
    assert "| D: loss curve = NumPy reference | 2 steps, max relative deviation 2.00e-06" in text
    assert "Machine quiet: no round disturbed (12 rounds" in text


def test_d_is_c_driven_by_train_on_batch():
    c, d = WORKLOADS["C"], WORKLOADS["D"]
    assert (d.units, d.activations, d.loss, d.optimizer, d.batch_size, d.samples) == (
        c.units, c.activations, c.loss, c.optimizer, c.batch_size, c.samples)
    assert (c.driver, d.driver) == ("fit", "train_on_batch") and c.per_thousand_steps and d.per_thousand_steps


@pytest.mark.slow  # runs the whole suite in quick mode: about two minutes
def test_quick_run_prints_ratios_computed_from_its_measurements(tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--peers", "numpy", "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    text = done.stdout
    assert "### Targets (issues 7 and 16)" in text and "BLAS:" in text
    results = json.loads(out.read_text())
    assert [r["workload"] for r in results] == ["A", "B", "C", "D"]
    for r in results:
        peers = {p["peer"]: p for p in r["peers"]}
        assert peers["glassnet"]["status"] == "ok" and peers["numpy"]["status"] == "ok"
        assert all(round_["seconds"] > 0 for p in peers.values() for round_ in p["rounds"])
        ours, numpy_median = _median(peers["glassnet"], r["scale"]), _median(peers["numpy"], r["scale"])
        cells = _row(text, r["workload"], "NumPy (hand-written)")
        assert float(cells[3]) == pytest.approx(numpy_median, rel=5e-3, abs=5e-4)
        assert float(cells[7]) == pytest.approx(ours / numpy_median, abs=0.006)
        assert _row(text, r["workload"], "glassnet")[7] == "1.00"
        assert r["roofline"]["lower_bound_s"] > 0
        if r["workload"] in "AB":  # each glassnet round against the bound measured in its own turn
            bounds = r["roofline"]["bound_by_turn_s"]
            used = [x for x in peers["glassnet"]["rounds"] if not x["disturbed"]] or peers["glassnet"]["rounds"]
            paired = statistics.median(x["seconds"] / bounds[x["turn"]] for x in used)
            assert f"its own turn's bound, median {paired:.2f} ×" in _target(text, r["workload"])
        assert len(r["losses"]["measured"]) == len(r["losses"]["reference"]) > 0
    assert "loss curve = NumPy reference" in text and "matmul lower bound:" in text


def test_timed_workers_read_back_exactly_the_data_the_suite_built(tmp_path):
    """The suite builds each workload's data once and the timed workers read the file: the same arrays, dtypes and
    source come back."""
    from benchmarks.data import load, read, save

    built = load(WORKLOADS["C"], 200)
    save(built, tmp_path / "C.npz")
    back = read(tmp_path / "C.npz")
    for name in ("x", "y", "labels"):
        np.testing.assert_array_equal(getattr(back, name), getattr(built, name))
        assert getattr(back, name).dtype == getattr(built, name).dtype
    assert back.source == built.source
    assert back.nbytes == built.nbytes == 200 * 2 * 4 + 200 * 4
