"""The VI-Net evaluation suite: data sets x architectures x cuts x seeds, one table.

Pairs (all offline): scikit-learn's digits with the residual 2-D CNN
(:func:`neural.digits_resnet`), and MNIST-1D (generated locally by the ``mnist1d``
package's ``make_dataset``, 25,000 samples: 16,000 train / 4,000 validation / 5,000
test) with a plain 1-D CNN (:func:`neural.cnn1d`) and an MLP (:func:`neural.mlp`).
The digits are small (1,797 images), so each seed draws its own stratified split
(1,077 train / 270 validation / 450 test: repeated splits), and the mean over the seeds
reads every image; the MNIST-1D split is fixed. Each pair is cut where about 33 %,
50 % and 67 % of its convolutions (MLP: hidden layers) are removed. At each cut and
seed :func:`bridge.compare_cuts` builds, with the defaults of
:class:`bridge.VINetConfig` and one shared recipe:

* VI-Net (:func:`bridge.build_vinet`);
* the linear head and random monomials of the same size (the paper's baselines);
* an MLP head on the same inputs with as many parameters as VI-Net's polynomial layer
  plus head (:func:`bridge.mlp_head_baseline`);

and at the ~33 % cut the automatic mode (:func:`bridge.tune_vinet`, which picks its
settings on a split of the training data, then :func:`bridge.build_vinet`).

Every seed trains its own backbone (cached in ``neural.cache_dir() / "suite"``, so a
rerun costs only the VI-Net builds) and seeds the builds. The test split is read once
per reported number; the validation split chooses nothing here (it is where the
defaults were chosen, ``docs/benchmarks.md``), and the builds choose their epoch on a
share of the training split (``VINetConfig.holdout``). Throughput (images/s at batch
256, one thread, interleaved rounds, the best pass of each model) is measured for the
first seed's models. The verdicts are :func:`bridge.acceptance`'s.

Run ``make bench-vinet`` (= ``python benchmarks/vinet_suite.py``; ``--quick``: one seed,
the ~33 % cut, a small MNIST-1D, a CI smoke test). Prints one table per pair and writes
``benchmarks/results/vinet_suite.json`` with every per-seed number.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch
from _results import metric, write_results
from threadpoolctl import threadpool_limits
from torch import nn

import neural
from bridge import VINetConfig, acceptance, build_vinet, compare_cuts, format_table, tune_vinet

Split = tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------- data
def digits_splits(seed: int = 0) -> dict[str, Split]:
    """A stratified split of all 1,797 digits drawn from ``seed``: 1,077 / 270 / 450."""
    from sklearn.model_selection import train_test_split

    parts = [neural.load_digits("train"), neural.load_digits("test")]
    X = torch.cat([p[0] for p in parts])
    y = torch.cat([p[1] for p in parts])
    rest, test = train_test_split(np.arange(len(y)), test_size=450, random_state=seed,
                                  stratify=y.numpy())
    fit, val = train_test_split(rest, test_size=270, random_state=seed,
                                stratify=y.numpy()[rest])
    return {s: (X[idx], y[idx]) for s, idx in (("train", fit), ("val", val), ("test", test))}


def mnist1d_splits(n_samples: int = 25_000, seed: int = 0) -> dict[str, Split]:
    """MNIST-1D made locally (``mnist1d.data.make_dataset``, seed 42), cached as .npz.

    The package's own split holds out 20 % as test; the suite takes 20 % of the rest as
    validation (a fixed permutation, whatever ``seed``).
    """
    del seed  # one fixed split: 5,000 test signals are plenty
    folder = neural.cache_dir() / "suite"
    path = folder / f"mnist1d-{n_samples}.npz"
    if not path.exists():
        try:
            from mnist1d.data import get_dataset_args, make_dataset
        except ImportError as exc:  # an optional (bench / test extra) dependency
            raise SystemExit(
                "The suite's MNIST-1D pairs need the mnist1d package: pip install "
                "'vinet[test]' (or pip install mnist1d)."
            ) from exc
        args = get_dataset_args()
        args.num_samples = n_samples
        data = make_dataset(args)  # generated here: no download
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(path, x=data["x"], y=data["y"], x_test=data["x_test"], y_test=data["y_test"])
    d = np.load(path)
    X = torch.tensor(d["x"], dtype=torch.float32)[:, None, :]
    y = torch.tensor(d["y"], dtype=torch.int64)
    perm = torch.as_tensor(np.random.default_rng(0).permutation(len(y)))
    val, fit = perm[: len(y) // 5], perm[len(y) // 5:]
    test = (torch.tensor(d["x_test"], dtype=torch.float32)[:, None, :],
            torch.tensor(d["y_test"], dtype=torch.int64))
    return {"train": (X[fit], y[fit]), "val": (X[val], y[val]), "test": test}


@dataclass(frozen=True)
class Pair:
    """A (data set, architecture) pair: its data, backbone recipe and cut points."""

    #: seed -> splits (the digits draw one split per seed, MNIST-1D has one)
    data: Callable[..., dict[str, Split]]
    arch: str
    arch_kwargs: dict[str, Any]
    train: dict[str, Any]
    #: cut node -> share of the convolutions (MLP: hidden layers) it removes, in %
    cuts: dict[str, float] = field(default_factory=dict)
    seeds: int = 3
    #: whether each seed has its own split (part of the backbone's cache key)
    resplit: bool = False


PAIRS: dict[str, Pair] = {
    "digits / resnet": Pair(
        digits_splits, "digits_resnet", {},
        {"epochs": 30, "batch_size": 64, "lr": 0.01, "weight_decay": 5e-4},
        {"relu_4": 33.3, "relu_3": 55.6, "relu_2": 66.7}, seeds=8, resplit=True),
    "mnist1d / cnn1d": Pair(
        mnist1d_splits, "cnn1d", {},
        {"epochs": 15, "batch_size": 128, "lr": 0.005, "weight_decay": 5e-4},
        {"relu_3": 33.3, "relu_2": 50.0, "relu_1": 66.7}),
    "mnist1d / mlp": Pair(
        mnist1d_splits, "mlp", {"width": 256},
        {"epochs": 20, "batch_size": 128, "lr": 0.003, "weight_decay": 5e-4},
        {"relu_3": 33.3, "relu_2": 50.0, "relu_1": 66.7}),
}


def backbone(pair: Pair, seed: int, data: dict[str, Split]) -> nn.Module:
    """The pair's full network trained with ``seed`` on the train split (cached)."""
    recipe = {"arch": pair.arch, "kwargs": pair.arch_kwargs, "train": pair.train,
              "seed": seed, "n_train": len(data["train"][1]), "torch": torch.__version__}
    if pair.resplit:
        recipe["split"] = seed
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]
    path = neural.cache_dir() / "suite" / f"{pair.arch}-{key}.pt"
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = neural.build_model(pair.arch, **pair.arch_kwargs)
    if path.exists():
        model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        return model.eval()
    neural.train_classifier(model, data["train"], seed=seed, progress=False, num_threads=1,
                            **pair.train)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path)
    return model.eval()


def auto_mode(pair: Pair, models: list[nn.Module], node: str, data: list[dict[str, Split]],
              seeds: list[int], config: VINetConfig, defaults: list[float],
              budget: float) -> dict[str, Any]:
    """The automatic mode at ``node`` for every seed: chosen settings, test accuracy.

    Where it keeps the defaults, its model is the defaults' build (the same code, seed
    and data), whose accuracy ``defaults`` holds; otherwise it is built and tested.
    """
    out: dict[str, Any] = {"per_seed": [], "chosen": [], "seconds": []}
    for model, d, seed, same in zip(models, data, seeds, defaults, strict=True):
        t0 = time.perf_counter()
        chosen, _ = tune_vinet(model, node, d["train"], config, time_budget=budget,
                               random_state=seed)
        if chosen == config:
            accuracy = same
        else:
            net = build_vinet(model, node, d["train"], chosen, arch=pair.arch,
                              arch_kwargs=pair.arch_kwargs, progress=False, random_state=seed)
            accuracy = 100.0 * neural.accuracy(net, d["test"])
        out["per_seed"].append(round(accuracy, 3))
        out["chosen"].append({k: v for k, v in chosen.to_dict().items()
                              if config.to_dict()[k] != v})
        out["seconds"].append(round(time.perf_counter() - t0, 1))
    diff = np.subtract(out["per_seed"], defaults)
    out["mean"] = round(float(np.mean(out["per_seed"])), 3)
    out["minus_defaults"] = {"mean": round(float(diff.mean()), 3),
                             "per_seed": [round(float(v), 3) for v in diff]}
    return out


def run_pair(name: str, pair: Pair, seeds: list[int], config: VINetConfig,
             auto_budget: float, throughput_repeats: int, quick: bool) -> dict[str, Any]:
    """Every model at every cut and seed of one pair; the acceptance checks."""
    t0 = time.perf_counter()
    data = [pair.data(5_000 if quick else 25_000, seed=s) if pair.data is mnist1d_splits
            else pair.data(seed=s) for s in seeds]
    models = [backbone(pair, s, d) for s, d in zip(seeds, data, strict=True)]
    trained = time.perf_counter() - t0
    result = compare_cuts(models, list(pair.cuts), [d["train"] for d in data],
                          [d["test"] for d in data], config, seeds=seeds, arch=pair.arch,
                          arch_kwargs=pair.arch_kwargs, throughput_repeats=throughput_repeats,
                          progress=False)
    rows = result["rows"]
    out: dict[str, Any] = {"rows": rows, "acceptance": acceptance(rows, min_removed=0.0),
                           "seeds": seeds, "backbone_seconds": round(trained, 1)}
    first = next(iter(pair.cuts))
    if auto_budget:
        defaults = next(r for r in rows if r["kind"] == "vinet" and r["node"] == first)
        out["auto"] = {first: auto_mode(pair, models, first, data, seeds, config,
                                        defaults["accuracy_per_seed"], auto_budget)}
    out["seconds"] = round(time.perf_counter() - t0, 1)
    return out


def summary_metrics(name: str, pair: Pair, out: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's criteria for one pair as headline metrics (``_results.metric``)."""
    rows = out["rows"]
    full = next(r for r in rows if r["kind"] == "full")
    first = next(iter(pair.cuts))
    summary = []
    for node, removed in pair.cuts.items():
        at = {r["kind"]: r for r in rows if r["node"] == node}
        vi = at["vinet"]
        where = f"{name} at {node} ({removed:.0f}% removed)"
        if node == first:
            summary += [
                metric(f"{where}: VI-Net mean drop vs full network",
                       vi["drop_vs_full"]["mean"], "points", "<= 1"),
                metric(f"{where}: VI-Net / full network parameters",
                       vi["params_total"] / full["params_total"], "x", "< 1"),
                metric(f"{where}: VI-Net / full network throughput (batch 256)",
                       vi["throughput"] / full["throughput"], "x", ">= 1.2"),
            ]
            if "auto" in out:
                summary.append(metric(f"{where}: auto minus defaults (mean, test)",
                                      out["auto"][node]["minus_defaults"]["mean"], "points",
                                      ">= 0"))
        for kind in ("linear", "random"):
            summary.append(metric(f"{where}: VI-Net minus {at[kind]['model']} (mean, paired)",
                                  at[kind]["diff_vinet"]["mean"], "points", ">= 0"))
        summary.append(metric(f"{where}: VI-Net minus the same-size MLP head",
                              at["mlp"]["diff_vinet"]["mean"], "points", None))
    return summary


def report(name: str, out: dict[str, Any]) -> str:
    """The pair's table (:func:`bridge.format_table`), the auto rows and the verdicts."""
    lines = [f"{name}: test accuracy over seeds {out['seeds']}", format_table(out["rows"])]
    for node, auto in out.get("auto", {}).items():
        d = auto["minus_defaults"]
        lines.append(f"VI-Net auto at {node}: {auto['mean']:.2f} (auto minus defaults "
                     f"{d['mean']:+.2f}, per seed {d['per_seed']}); changed: {auto['chosen']}")
    for c in out["acceptance"]:
        checks = ", ".join(f"{k} {v['verdict']} ({v['margin']:+.2f}"
                           + (f" ± {v['sem']:.2f})" if v["sem"] else ")")
                           for k, v in c["checks"].items())
        lines.append(f"  {c['node']} ({c['conv_removed']:.0f}% removed): {checks}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    """Run the suite, print the tables and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one seed, the ~33%% cut, 5,000 MNIST-1D samples: a smoke test")
    parser.add_argument("--seeds", type=int, default=None,
                        help="seeds per pair (default: the pair's own, 8 for the digits and "
                             "3 for MNIST-1D)")
    parser.add_argument("--pairs", default=",".join(PAIRS),
                        help="comma-separated pairs to run (default: all)")
    parser.add_argument("--auto-budget", type=float, default=30.0,
                        help="seconds of the automatic mode per build, at the ~33%% cut "
                             "(default: 30; 0 skips it)")
    parser.add_argument("--throughput-repeats", type=int, default=40,
                        help="timed passes per model, in interleaved rounds (default: 40)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch and BLAS threads (default: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    config = VINetConfig()
    results: dict[str, Any] = {}
    summary: list[dict[str, Any]] = []
    texts = []
    with threadpool_limits(args.threads):  # OpenBLAS threads wait for each other when busy
        for name in [n.strip() for n in args.pairs.split(",") if n.strip()]:
            pair = PAIRS[name]
            if args.quick:
                pair = replace(pair, train={**pair.train,
                                            "epochs": max(2, pair.train["epochs"] // 5)},
                               cuts=dict(list(pair.cuts.items())[:1]), seeds=1)
            seeds = list(range(args.seeds or pair.seeds))
            out = run_pair(name, pair, seeds, config, args.auto_budget,
                           2 if args.quick else args.throughput_repeats, args.quick)
            results[name] = out
            summary += summary_metrics(name, pair, out)
            texts.append(report(name, out))
            print(f"{texts[-1]}\n({out['seconds']:.0f} s, of which backbones "
                  f"{out['backbone_seconds']:.0f} s)\n", flush=True)
    seconds = round(time.perf_counter() - start, 1)
    print(f"suite: {seconds:.0f} s")
    write_results("vinet_suite", summary, quick=args.quick,
                  description="VI-Net (defaults of bridge.VINetConfig), its automatic mode "
                              "and baselines on (data set, architecture) pairs at cuts "
                              "removing ~33/50/67% of the layers: test accuracy mean ± std "
                              "over seeds, paired differences, the one parameter count, "
                              "throughput at batch 256 on one thread.",
                  settings=config.to_dict(), pairs=results, table="\n\n".join(texts),
                  auto_budget=args.auto_budget, threads=args.threads, seconds=seconds)


if __name__ == "__main__":
    main()
