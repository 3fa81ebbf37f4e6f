"""The book's final IMDB run over many seeds, per library: is glassnet's spread of test accuracy wider than Keras's?

The run (``glassnet/examples/imdb.py``'s final model): multi-hot 10,000 → Dense 16 relu → Dense 16 relu → Dense 1
sigmoid, rmsprop, binary cross-entropy, 4 epochs of batch 512 on all 25,000 training reviews, shuffled, then the
test accuracy. Each peer runs in a process of its own (the data loaded once there, from ``glassnet.datasets.imdb``
for both libraries; Keras on torch) and prints one line per seed; then each peer's mean ± std, how many seeds reach
0.88, and two-sample tests against the first peer: Levene's for the spreads, Mann-Whitney U for the locations.

Peers: ``keras`` (Keras 3 on torch), ``glassnet`` (``fit(shuffle=True)`` as a user runs it) and controlled glassnet
variants ``glassnet:<variant>`` (VARIANTS), which take one random draw from Keras: its initial weights, its batch
orders (torch's RandomSampler, recorded during the ``keras`` peer's run of the same seed), or both. A variant that
replays a Keras draw needs the ``keras`` peer run first with the same seeds (its draws are kept in ``--draws``).

``python -m benchmarks.imdb_seeds --seeds 0-49 --peers keras,glassnet`` (``nice -n 10`` on a shared machine);
``--summary`` prints the tables again from the saved per-seed results without running anything.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np

BAR = 0.88
WORDS, EPOCHS, BATCH = 10000, 4, 512
RUNS = Path(__file__).resolve().parent.parent / "runs" / "imdb_seeds"

#: glassnet variants: what each takes from Keras, or how it changes glassnet's own draws.
VARIANTS = {
    "keras-init": "Keras's initial weights for the seed, glassnet's shuffling (fit(shuffle=True))",
    "keras-order": "glassnet's initial weights, Keras's recorded batch orders (fit on the rows in that order)",
    "keras-draws": "Keras's initial weights and batch orders: the same run as Keras's, in glassnet's math",
    "torch-order": "glassnet's initial weights, batch orders drawn as Keras draws them (torch's RandomSampler after "
                   "torch.manual_seed(seed)), not Keras's own",
    "own-order": "glassnet's own draws replayed: the 4 permutations fit(shuffle=True) draws, fed in that order",
    "one-order": "glassnet's initial weights, one glassnet permutation reused for all 4 epochs",
    "numpy-kernels": "fit(shuffle=True) with GLASSNET_KERNELS=numpy (dense inputs, plain NumPy kernels)",
}


def parse_seeds(text: str) -> list[int]:
    """Seeds from ``"0-9,20,30-34"``: ranges (both ends included) and single seeds, comma-separated."""
    seeds: list[int] = []
    for part in text.split(","):
        low, _, high = part.strip().partition("-")
        if not low.isdigit() or (high and not high.isdigit()):
            raise ValueError(f"--seeds expects non-negative integers and ranges like 0-9,20, received {text!r}")
        first, last = int(low), int(high or low)
        if last < first:
            raise ValueError(f"--seeds range {part.strip()!r} runs backwards; write the smaller seed first")
        seeds.extend(range(first, last + 1))
    return seeds


def parse_peers(text: str) -> list[str]:
    """Peer names from ``"keras,glassnet,glassnet:keras-init"``, each checked."""
    peers = [peer.strip() for peer in text.split(",") if peer.strip()]
    for peer in peers:
        library, _, variant = peer.partition(":")
        if library not in ("glassnet", "keras") or (variant and (library == "keras" or variant not in VARIANTS)):
            raise ValueError(f"unknown peer {peer!r}: expected keras, glassnet or glassnet:<variant> with a variant "
                             f"in {sorted(VARIANTS)}")
    return peers


def summarize(runs: dict[str, list[dict]], bar: float = BAR) -> dict[str, dict]:
    """Per peer: seeds, mean and sample std of the test accuracy, seeds ≥ ``bar``, mean final training loss; and
    against the first peer, Levene's p (spreads) and Mann-Whitney U's two-sided p (locations). Where the two share
    every seed, also the mean absolute per-seed difference and the Wilcoxon signed-rank p of the paired runs."""
    from scipy import stats

    names = list(runs)
    reference = {run["seed"]: run["accuracy"] for run in runs[names[0]]}
    table = {}
    for name in names:
        accuracies = [run["accuracy"] for run in runs[name]]
        row = {"seeds": len(accuracies), "mean": statistics.fmean(accuracies),
               "std": statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0,
               "at_bar": sum(a >= bar for a in accuracies),
               "loss": statistics.fmean(run["loss"] for run in runs[name])}
        if name != names[0] and len(accuracies) > 1 and len(reference) > 1:
            row["levene_p"] = float(stats.levene(accuracies, list(reference.values())).pvalue)
            row["mannwhitney_p"] = float(stats.mannwhitneyu(accuracies, list(reference.values())).pvalue)
            mine = {run["seed"]: run["accuracy"] for run in runs[name]}
            if mine.keys() == reference.keys():
                differences = [mine[seed] - reference[seed] for seed in mine]
                row["paired_mean_abs_diff"] = statistics.fmean(abs(d) for d in differences)
                if any(differences):
                    row["wilcoxon_p"] = float(stats.wilcoxon(differences).pvalue)
        table[name] = row
    return table


def format_table(table: dict[str, dict], bar: float = BAR) -> str:
    """The summary as a Markdown table; the tests compare each peer with the first."""
    first = next(iter(table))
    lines = [f"| peer | seeds | test accuracy, mean ± std | seeds ≥ {bar} | final training loss, mean | "
             f"Levene p vs {first} | Mann-Whitney p vs {first} | paired: mean abs diff, Wilcoxon p |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, row in table.items():
        paired = ("" if "paired_mean_abs_diff" not in row else "every seed identical" if "wilcoxon_p" not in row
                  else f"{row['paired_mean_abs_diff']:.4f}, {row['wilcoxon_p']:.3g}")
        tests = [f"{row[key]:.3g}" if key in row else "" for key in ("levene_p", "mannwhitney_p")]
        lines.append(f"| {name} | {row['seeds']} | {row['mean']:.4f} ± {row['std']:.4f} | "
                     f"{row['at_bar']}/{row['seeds']} | {row['loss']:.4f} | {tests[0]} | {tests[1]} | {paired} |")
    return "\n".join(lines)


# --- the workers: one process per peer ---------------------------------------------------------------------------


def load_imdb() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The book's multi-hot IMDB, float32: x_train, y_train, x_test, y_test (from glassnet.datasets.imdb)."""
    from glassnet.datasets import imdb
    from glassnet.utils import multi_hot

    (train_data, train_labels), (test_data, test_labels) = imdb.load_data(num_words=WORDS)
    return (multi_hot(train_data, WORDS), np.asarray(train_labels, dtype=np.float32),
            multi_hot(test_data, WORDS), np.asarray(test_labels, dtype=np.float32))


def draws_path(draws: Path, seed: int) -> Path:
    return draws / f"keras-seed{seed}.npz"


def run_keras(seed: int, data, draws: Path) -> dict:
    """Keras 3's run for ``seed``; its initial weights and the 4 orders torch's RandomSampler drew are saved."""
    import keras
    import torch

    x_train, y_train, x_test, y_test = data
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.layers.Dense(16, activation="relu"), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    model.build((None, WORDS))
    initial = model.get_weights()
    drawn: list[list] = []  # [order, indices handed out] for every order the sampler drew
    sampler = torch.utils.data.RandomSampler
    drawing = sampler.__iter__

    def recording(self):  # the same draws from torch's global generator, kept on the way
        order = list(drawing(self))
        drawn.append([np.asarray(order, dtype=np.int64), 0])
        for index in order:
            drawn[-1][1] += 1
            yield index

    sampler.__iter__ = recording
    try:
        history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    finally:
        sampler.__iter__ = drawing
    _, accuracy = model.evaluate(x_test, y_test, batch_size=BATCH, verbose=0)
    # Keras's fit first draws an order to read one batch for its symbolic build, then one per epoch: keep the
    # orders trained on in full.
    orders = np.stack([order for order, used in drawn if used == len(order)])
    if len(orders) != EPOCHS:
        raise RuntimeError(f"Keras trained on {len(orders)} full orders, expected {EPOCHS}")
    np.savez(draws_path(draws, seed), *initial, orders=orders)
    return {"seed": seed, "accuracy": float(accuracy), "loss": float(history.history["loss"][-1])}


def run_glassnet(seed: int, data, draws: Path, variant: str) -> dict:
    """glassnet's run for ``seed``, as a user runs it or as ``variant`` (VARIANTS) changes one draw."""
    import glassnet
    from glassnet.examples.imdb import build_model

    x_train, y_train, x_test, y_test = data
    glassnet.utils.set_random_seed(seed)
    model = build_model()
    model.build((None, WORDS))
    if variant in ("keras-init", "keras-draws", "keras-order"):
        with np.load(draws_path(draws, seed)) as saved:
            keras_initial = [saved[f"arr_{i}"] for i in range(len(model.get_weights()))]
            orders = saved["orders"]
        if variant != "keras-order":
            model.set_weights(keras_initial)
    elif variant in ("own-order", "one-order"):  # fit's adapter would draw its generator next, as this one
        rng = glassnet.backend.make_rng()
        orders = np.stack([rng.permutation(len(x_train)) for _ in range(EPOCHS if variant == "own-order" else 1)])
        orders = np.repeat(orders, EPOCHS // len(orders), axis=0)
    elif variant == "torch-order":
        import torch

        torch.manual_seed(seed)
        sampler = torch.utils.data.RandomSampler(range(len(x_train)))
        orders = np.stack([np.fromiter(sampler, dtype=np.int64) for _ in range(EPOCHS)])
    if variant in ("keras-order", "keras-draws", "torch-order", "own-order", "one-order"):
        for order in orders:  # one epoch on the rows in this order, as the shuffled epoch would gather them
            history = model.fit(x_train[order], y_train[order], epochs=1, batch_size=BATCH, shuffle=False, verbose=0)
    else:
        history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH, verbose=0)
    _, accuracy = model.evaluate(x_test, y_test, batch_size=BATCH, verbose=0)
    return {"seed": seed, "accuracy": float(accuracy), "loss": float(history.history["loss"][-1])}


def work(peer: str, seeds: list[int], draws: Path) -> None:
    """The worker: every seed's run of ``peer``, one JSON line each on stdout."""
    library, _, variant = peer.partition(":")
    data = load_imdb()
    draws.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        run = run_keras(seed, data, draws) if library == "keras" else run_glassnet(seed, data, draws, variant)
        print(json.dumps(run), flush=True)


def run_peer(peer: str, seeds: list[int], draws: Path) -> list[dict]:
    """``peer``'s runs in a process of its own, each seed's line printed as it comes."""
    env = dict(os.environ, KERAS_BACKEND="torch")
    if peer == "glassnet:numpy-kernels":
        env["GLASSNET_KERNELS"] = "numpy"
    command = [sys.executable, "-m", "benchmarks.imdb_seeds", "--worker", peer, "--seeds",
               ",".join(map(str, seeds)), "--draws", str(draws)]
    runs = []
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) as process:
        for line in process.stdout:
            run = json.loads(line)
            runs.append(run)
            print(f"{peer} seed {run['seed']}: test accuracy {run['accuracy']:.4f}, "
                  f"final training loss {run['loss']:.4f}", flush=True)
    if process.returncode != 0:
        raise RuntimeError(f"the {peer} worker failed (exit status {process.returncode}) after {len(runs)} seeds")
    return runs


def main(argv: list[str] | None = None) -> dict[str, dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", default="0-9", help="seeds, e.g. 0-49 or 0-9,20 (default 0-9)")
    parser.add_argument("--peers", default="keras,glassnet",
                        help=f"comma-separated; the first is the reference; glassnet variants: {sorted(VARIANTS)}")
    parser.add_argument("--results", type=Path, default=RUNS, help=f"per-peer results folder (default {RUNS})")
    parser.add_argument("--draws", type=Path, default=RUNS / "keras_draws",
                        help="where the keras peer keeps its initial weights and batch orders for the variants")
    parser.add_argument("--summary", action="store_true", help="only summarize the saved results of these seeds")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    seeds = parse_seeds(args.seeds)
    if args.worker:
        work(args.worker, seeds, args.draws)
        return {}
    peers = parse_peers(args.peers)
    args.results.mkdir(parents=True, exist_ok=True)
    runs = {}
    for peer in peers:
        path = args.results / f"{peer.replace(':', '-')}.json"
        saved = {run["seed"]: run for run in json.loads(path.read_text())} if path.exists() else {}
        if not args.summary:
            saved.update({run["seed"]: run for run in run_peer(peer, seeds, args.draws)})
            path.write_text(json.dumps(sorted(saved.values(), key=lambda run: run["seed"]), indent=0))
        missing = [seed for seed in seeds if seed not in saved]
        if missing:
            raise SystemExit(f"{peer}: no saved result for seeds {missing} in {path}; run them first")
        runs[peer] = [saved[seed] for seed in seeds]
    table = summarize(runs)
    print(format_table(table))
    return table


if __name__ == "__main__":
    main()
