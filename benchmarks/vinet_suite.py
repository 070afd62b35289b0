"""The VI-Net evaluation suite: data sets x architectures x cuts x seeds, one table.

Pairs (all offline): scikit-learn's digits with the residual 2-D CNN
(:func:`neural.digits_resnet`), and MNIST-1D (generated locally by the ``mnist1d``
package's ``make_dataset``, 25,000 samples: 16,000 train / 4,000 validation / 5,000
test) with a plain 1-D CNN (:func:`neural.cnn1d`) and an MLP (:func:`neural.mlp`).
Each pair is cut where about 33 %, 50 % and 67 % of its convolutions (MLP: hidden
layers) are removed. At each cut and seed the suite builds, with the defaults of
:class:`bridge.VINetConfig` and one shared recipe:

* VI-Net (:func:`bridge.build_vinet`);
* the linear head and random monomials of the same size (the paper's baselines);
* an MLP head on the same inputs with as many parameters as VI-Net's polynomial layer
  plus head (:func:`bridge.mlp_head_baseline`);
* at the ~33 % cut, the automatic mode (``config="auto"``), which picks its settings on
  a validation split of the training data.

Every seed trains its own backbone (cached in ``neural.cache_dir() / "suite"``, so a
rerun costs only the VI-Net builds) and seeds the builds. Test accuracy is computed
once per reported number; the validation split is reported beside it and chooses
nothing here (the defaults were chosen on it, see ``docs/benchmarks.md``).
Throughput (images/s at batch 256, one thread, interleaved rounds, best of each) is
measured at the ~33 % cut for the full network and VI-Net.

Run ``make bench-vinet`` (= ``python benchmarks/vinet_suite.py``; ``--quick``: one seed,
the ~33 % cut, a small MNIST-1D, a CI smoke test). Prints one table and writes
``benchmarks/results/vinet_suite.json`` with every per-seed number.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from _results import metric, write_results
from torch import nn

import neural
from bridge import VINetConfig
from bridge._baselines import fit_linear, fit_mlp_head, fit_random
from bridge._build import fit_vinet, prepare_cut
from bridge._compare import interleaved_throughput

Split = tuple[torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------- data
def digits_splits() -> dict[str, Split]:
    """The library's fixed digits split (1347 / 450), validation = 20 % of its train part."""
    from sklearn.model_selection import train_test_split

    X, y = neural.load_digits("train")
    fit, val = train_test_split(np.arange(len(y)), test_size=0.2, random_state=0,
                                stratify=y.numpy())
    return {"train": (X[fit], y[fit]), "val": (X[val], y[val]),
            "test": neural.load_digits("test")}


def mnist1d_splits(n_samples: int = 25_000) -> dict[str, Split]:
    """MNIST-1D made locally (``mnist1d.data.make_dataset``, seed 42), cached as .npz.

    The package's own split holds out 20 % as test; the suite takes 20 % of the rest as
    validation (a fixed permutation).
    """
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

    data: Callable[[], dict[str, Split]]
    arch: str
    arch_kwargs: dict[str, Any]
    train: dict[str, Any]
    #: cut node -> share of the convolutions (MLP: hidden layers) it removes, in %
    cuts: dict[str, float] = field(default_factory=dict)


PAIRS: dict[str, Pair] = {
    "digits / resnet": Pair(
        digits_splits, "digits_resnet", {},
        {"epochs": 30, "batch_size": 64, "lr": 0.01, "weight_decay": 5e-4},
        {"relu_4": 33.3, "relu_3": 55.6, "relu_2": 66.7}),
    "mnist1d / cnn1d": Pair(
        mnist1d_splits, "cnn1d", {},
        {"epochs": 15, "batch_size": 128, "lr": 0.005, "weight_decay": 5e-4},
        {"relu_3": 33.3, "relu_2": 50.0, "relu_1": 66.7}),
    "mnist1d / mlp": Pair(
        mnist1d_splits, "mlp", {"width": 256},
        {"epochs": 20, "batch_size": 128, "lr": 0.003, "weight_decay": 5e-4},
        {"relu_3": 33.3, "relu_2": 50.0, "relu_1": 66.7}),
}


def backbone(name: str, pair: Pair, seed: int, data: dict[str, Split]) -> nn.Module:
    """The pair's full network trained with ``seed`` on the train split (cached)."""
    recipe = {"arch": pair.arch, "kwargs": pair.arch_kwargs, "train": pair.train,
              "seed": seed, "n_train": len(data["train"][1]), "torch": torch.__version__}
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


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        logits = torch.cat([net.head(net.head_input(x[i:i + 4096]))
                            for i in range(0, len(y), 4096)])
    return 100.0 * float((logits.argmax(1) == y).float().mean())


def _latents(cut: Any, X: torch.Tensor) -> torch.Tensor:
    with torch.no_grad():
        return torch.cat([cut.pool(cut.backbone(X[i:i + 1024])) for i in range(0, len(X), 1024)])


def run_cell(pair: Pair, model: nn.Module, node: str, seed: int, data: dict[str, Split],
             teacher: torch.Tensor, config: VINetConfig, auto_budget: float | None) -> dict:
    """Every model at one cut of one seed's network: accuracies, parameters, seconds."""
    cut = prepare_cut(model, node, data["train"], config, arch=pair.arch,
                      arch_kwargs=pair.arch_kwargs, progress=False, teacher=teacher)
    x = {s: _latents(cut, data[s][0]) for s in ("val", "test")}
    out: dict[str, Any] = {}
    models: dict[str, nn.Module] = {}
    for kind in ("vinet", "linear", "random", "mlp"):
        t0 = time.perf_counter()
        common = {"random_state": seed, "progress": False}
        if kind == "vinet":
            net = fit_vinet(cut, config, n_jobs=1, fit_kwargs={}, **common)
        elif kind == "linear":
            net = fit_linear(cut, config, **common)
        elif kind == "random":
            net = fit_random(cut, models["vinet"], config, **common)
        else:
            net = fit_mlp_head(cut, models["vinet"], config, **common)
        models[kind] = net
        out[kind] = {"val": _accuracy(net, x["val"], data["val"][1]),
                     "test": _accuracy(net, x["test"], data["test"][1]),
                     "params": net.parameter_counts()["total"],
                     "seconds": round(time.perf_counter() - t0, 2)}
    if auto_budget:
        from bridge import tune_vinet

        t0 = time.perf_counter()
        chosen, trials = tune_vinet(model, node, data["train"], config,
                                    time_budget=auto_budget, random_state=seed)
        auto_cut = cut if (chosen.pooling, chosen.grid) == (config.pooling, config.grid) else \
            prepare_cut(model, node, data["train"], chosen, arch=pair.arch,
                        arch_kwargs=pair.arch_kwargs, progress=False, teacher=teacher)
        net = fit_vinet(auto_cut, chosen, n_jobs=1, fit_kwargs={}, random_state=seed,
                        progress=False)
        xs = {s: _latents(auto_cut, data[s][0]) for s in ("val", "test")}
        out["auto"] = {"val": _accuracy(net, xs["val"], data["val"][1]),
                       "test": _accuracy(net, xs["test"], data["test"][1]),
                       "params": net.parameter_counts()["total"],
                       "seconds": round(time.perf_counter() - t0, 2),
                       "chosen": {k: v for k, v in chosen.to_dict().items()
                                  if config.to_dict()[k] != v},
                       "trials": len(trials)}
    out["_models"] = models
    return out


def _stats(values: list[float]) -> dict[str, Any]:
    a = np.asarray(values, dtype=float)
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {"mean": round(float(a.mean()), 3), "std": round(std, 3),
            "sem": round(std / math.sqrt(a.size), 3), "per_seed": [round(v, 3) for v in a]}


KINDS = ("full", "vinet", "linear", "random", "mlp", "auto")
LABELS = {"full": "full network", "vinet": "VI-Net", "linear": "linear head",
          "random": "random monomials", "mlp": "MLP head (same size)", "auto": "VI-Net auto"}


def main(argv: list[str] | None = None) -> None:
    """Run the suite, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="one seed, the ~33%% cut, 5,000 MNIST-1D samples: a smoke test")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per pair (default: 3)")
    parser.add_argument("--pairs", default=",".join(PAIRS),
                        help="comma-separated pairs to run (default: all)")
    parser.add_argument("--auto-budget", type=float, default=30.0,
                        help="seconds of the automatic mode per build, at the ~33%% cut "
                             "(default: 30; 0 skips it)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    config = VINetConfig()
    seeds = list(range(1 if args.quick else args.seeds))
    names = [n.strip() for n in args.pairs.split(",") if n.strip()]
    results: dict[str, Any] = {}
    summary = []
    lines = []
    for name in names:
        pair = PAIRS[name]
        data = (mnist1d_splits(5_000) if args.quick and pair.data is mnist1d_splits
                else pair.data())
        if args.quick:
            pair = Pair(pair.data, pair.arch, pair.arch_kwargs,
                        {**pair.train, "epochs": max(2, pair.train["epochs"] // 5)},
                        dict(list(pair.cuts.items())[:1]))
        cells: dict[str, dict[str, list]] = {node: {} for node in pair.cuts}
        full: dict[str, list[float]] = {"val": [], "test": []}
        speed: dict[str, list[float]] = {}
        for seed in seeds:
            model = backbone(name, pair, seed, data)
            for split in ("val", "test"):
                full[split].append(100.0 * neural.accuracy(model, data[split]))
            logits, _ = neural.extract_latents(model, data["train"][0], pooling="flatten",
                                               progress=False)
            teacher = torch.as_tensor(logits).float()
            for i, node in enumerate(pair.cuts):
                cell = run_cell(pair, model, node, seed, data, teacher, config,
                                args.auto_budget if i == 0 else None)
                models = cell.pop("_models")
                for kind, rec in cell.items():
                    cells[node].setdefault(kind, []).append(rec)
                if i == 0 and seed == seeds[0]:
                    shape = tuple(data["test"][0].shape[1:])
                    s_full, s_vi = interleaved_throughput([model, models["vinet"]], shape,
                                                          rounds=5)
                    speed = {"full": s_full, "vinet": s_vi, "ratio": s_vi / s_full}
                print(f"  {name} seed {seed} {node}: " + ", ".join(
                    f"{k} {r['test']:.2f}" for k, r in cell.items()), flush=True)
        full_params = neural.count_parameters(model).total
        pair_out = {"full": {"val": _stats(full["val"]), "test": _stats(full["test"]),
                             "params": full_params},
                    "throughput_at_33": speed, "cuts": {}}
        for node, removed in pair.cuts.items():
            kinds = cells[node]
            vi_test = [r["test"] for r in kinds["vinet"]]
            cut_out = {"conv_removed": removed}
            for kind, recs in kinds.items():
                test = [r["test"] for r in recs]
                entry = {"val": _stats([r["val"] for r in recs]), "test": _stats(test),
                         "params": int(np.mean([r["params"] for r in recs])),
                         "seconds": round(float(np.mean([r["seconds"] for r in recs])), 2)}
                if kind == "vinet":
                    entry["drop_vs_full"] = _stats(list(np.subtract(full["test"], test)))
                else:
                    entry["vinet_minus"] = _stats(list(np.subtract(vi_test, test)))
                if kind == "auto":
                    entry["chosen"] = [r["chosen"] for r in recs]
                cut_out[kind] = entry
            pair_out["cuts"][node] = cut_out
            vi = cut_out["vinet"]
            where = f"{name} at {node} ({removed:.0f}% removed)"
            if removed < 40:
                summary += [
                    metric(f"{where}: VI-Net mean drop vs full network",
                           vi["drop_vs_full"]["mean"], "points", "<= 1"),
                    metric(f"{where}: VI-Net / full network parameters",
                           vi["params"] / full_params, "x", "< 1"),
                    metric(f"{where}: VI-Net / full network throughput (batch 256)",
                           speed["ratio"], "x", ">= 1.2"),
                ]
                if "auto" in cut_out:
                    summary.append(metric(f"{where}: auto minus defaults (mean, test)",
                                          -cut_out["auto"]["vinet_minus"]["mean"], "points",
                                          ">= 0"))
            for kind in ("linear", "random"):
                summary.append(metric(f"{where}: VI-Net minus {LABELS[kind]} (mean, paired)",
                                      cut_out[kind]["vinet_minus"]["mean"], "points", ">= 0"))
            summary.append(metric(f"{where}: VI-Net minus the same-size MLP head",
                                  cut_out["mlp"]["vinet_minus"]["mean"], "points", None))
        results[name] = pair_out
        lines += _table(name, pair_out)
    text = "\n".join(lines)
    print("\n" + text)
    write_results("vinet_suite", summary, quick=args.quick, seeds=seeds,
                  description="VI-Net (defaults of bridge.VINetConfig), its automatic mode "
                              "and baselines on (data set, architecture) pairs at cuts "
                              "removing ~33/50/67% of the layers: test accuracy mean ± std "
                              "over seeds, paired differences, the one parameter count, "
                              "throughput at batch 256 on one thread.",
                  settings=config.to_dict(), pairs=results, table=text,
                  auto_budget=args.auto_budget,
                  seconds=round(time.perf_counter() - start, 1))


def _table(name: str, out: dict[str, Any]) -> list[str]:
    """The pair's rows: test accuracy mean ± std, the paired difference, parameters."""
    full = out["full"]
    head = (f"{name}: full network {full['test']['mean']:.2f} ± {full['test']['std']:.2f} "
            f"(test, {len(full['test']['per_seed'])} seeds), {full['params']:,} parameters")
    speed = out["throughput_at_33"]
    if speed:
        head += f"; VI-Net throughput at the ~33% cut {speed['ratio']:.2f}x the full network"
    rows = [head, f"  {'cut':<8} {'rm':>4} {'model':<21} {'test acc':>14} "
                  f"{'VI-Net - row':>14} {'params':>8}"]
    for node, cut in out["cuts"].items():
        for kind in ("vinet", "linear", "random", "mlp", "auto"):
            if kind not in cut:
                continue
            e = cut[kind]
            if kind == "vinet":
                d = e["drop_vs_full"]
                paired = f"drop {d['mean']:+.2f}±{d['sem']:.2f}"
            else:
                d = e["vinet_minus"]
                paired = f"{d['mean']:+.2f} ± {d['sem']:.2f}"
            rows.append(f"  {node:<8} {cut['conv_removed']:>3.0f}% {LABELS[kind]:<21} "
                        f"{e['test']['mean']:>7.2f} ± {e['test']['std']:<4.2f} {paired:>14} "
                        f"{e['params']:>8,}")
    return [*rows, ""]


if __name__ == "__main__":
    main()
