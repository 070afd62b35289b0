"""The paper's comparison: the full network against VI-Net and its baselines, over seeds.

One function builds every model of the table with the same code and one recipe
(:class:`~bridge.VINetConfig`) and measures it the same way; ``vinet demo``,
``benchmarks/bench_vinet.py`` and the documentation's figure use its result (a plain
dict, saved as JSON). Each row holds the per-seed accuracies, their mean and standard
deviation, and the paired differences to VI-Net; the acceptance verdict of each check
is ``"met"``, ``"not met"`` or ``"within noise"`` when the margin is smaller than
twice the standard error of the paired differences, so that a verdict does not flip
with the last bits of a CPU's arithmetic (another BLAS kernel moves every seed's
result a little, like another seed).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import neural
from bridge._baselines import fit_linear, fit_mlp_head, fit_random
from bridge._build import as_data, fit_vinet, prepare_cut
from bridge._config import VINetConfig, resolve_config
from bridge._errors import BridgeError

__all__ = ["acceptance", "compare_cuts", "conv_layers", "format_table", "interleaved_throughput",
           "plot_comparison", "removed_share"]

#: Row labels of the table, in the order they are printed for each cut.
MODEL_NAMES = {"full": "full network", "vinet": "VI-Net", "linear": "linear head",
               "random": "random monomials", "mlp": "MLP head (same size)"}
#: The smallest speed-up over the full network the acceptance asks for.
MIN_SPEEDUP = 1.2


def conv_layers(module: nn.Module) -> int:
    """Number of convolution modules (``nn.Conv1d/2d/3d``) in ``module``.

    Parameters
    ----------
    module : nn.Module
        Any network; its submodules are searched recursively.

    Returns
    -------
    int
    """
    return sum(isinstance(m, nn.modules.conv._ConvNd) for m in module.modules())


def removed_share(full: nn.Module, backbone: nn.Module) -> float:
    """Share of the full network's convolutions (MLP: hidden layers) a cut removes.

    Parameters
    ----------
    full : nn.Module
        The whole network.
    backbone : nn.Module
        Its part before the cut (:func:`neural.truncate`).

    Returns
    -------
    float
        In ``[0, 1]``. A network without convolutions counts its ``nn.Linear`` layers
        but the classifier (the last one).
    """
    convs = conv_layers(full)
    if convs:
        return 1.0 - conv_layers(backbone) / convs
    hidden = sum(isinstance(m, nn.Linear) for m in full.modules()) - 1
    kept = sum(isinstance(m, nn.Linear) for m in backbone.modules())
    return 1.0 - kept / max(hidden, 1)


def interleaved_throughput(models: Sequence[nn.Module], input_shape: tuple[int, ...], *,
                           rounds: int = 5, batch_size: int = 256) -> np.ndarray:
    """Images/s of several models, timed in interleaved rounds.

    Timing each model once, one after the other, lets a burst of other work on the
    machine fall on one model only; timing them in turn, round after round, spreads
    the disturbance over all of them, and each round's speeds, taken within moments
    of each other, give one sample of their ratios (:func:`acceptance`).

    Parameters
    ----------
    models : sequence of nn.Module
        The networks to time, all taking inputs of ``input_shape``.
    input_shape : tuple of int
        One sample's shape.
    rounds : int, default=5
        Rounds; each times every model twice with :func:`neural.throughput`.
    batch_size : int, default=256
        Samples per timed forward pass.

    Returns
    -------
    ndarray of shape (rounds, len(models))
        Per round and model, images per second of the faster of its two passes.
    """
    table = np.zeros((rounds, len(models)))
    for r in range(rounds):
        for i, net in enumerate(models):
            # One untimed pass per round suffices once the first round has warmed up.
            speed = neural.throughput(net, input_shape, batch_size=batch_size, warmup=1,
                                      repeats=2)
            table[r, i] = float(speed.max)
    return table


def _accuracy(net: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of a VINet's tail on pooled latents ``x`` (= its accuracy on the images)."""
    with torch.no_grad():
        logits = torch.cat([net.head(net.head_input(x[i:i + 4096]))
                            for i in range(0, x.shape[0], 4096)])
    return 100.0 * float((logits.argmax(dim=1) == y).float().mean())


def _stats(values: Sequence[float]) -> dict[str, Any]:
    a = np.asarray(values, dtype=float)
    std = float(a.std(ddof=1)) if a.size > 1 else 0.0
    return {"mean": round(float(a.mean()), 3), "std": round(std, 3),
            "sem": round(std / math.sqrt(a.size), 3), "per_seed": [round(v, 3) for v in a]}


def compare_cuts(
    models: nn.Module | Sequence[nn.Module],
    nodes: Sequence[str],
    train_data: Any,
    test_data: Any,
    config: VINetConfig | None = None,
    *,
    seeds: Sequence[int] | None = None,
    baselines: Sequence[str] = ("linear", "random", "mlp"),
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    throughput_repeats: int = 10,
    progress: bool | None = None,
    **settings: Any,
) -> dict[str, Any]:
    """Build VI-Net and its baselines at every cut and seed; measure them beside the full network.

    Every model of a cut and seed shares one extraction of the latents and the teacher's
    logits, and the recipe of ``config`` (the baselines are built by the same code as
    :func:`~bridge.linear_probe`, :func:`~bridge.random_monomial_baseline` and
    :func:`~bridge.mlp_head_baseline`). ``vinet demo`` and the evaluation suite
    (``benchmarks/vinet_suite.py``) are this function and :func:`~bridge.acceptance`.

    Parameters
    ----------
    models : nn.Module or sequence of nn.Module
        The pretrained classifier, or one per seed (say, trained with different seeds);
        a single model serves every seed.
    nodes : sequence of str
        Cut points, shallow to deep or any order.
    train_data, test_data : tuple (X, y) or sequence of them
        Images and labels; one pair for every seed, or a list with one pair per seed
        (repeated splits: each seed's model trained and tested on its own split).
    config : VINetConfig, optional
        The recipe of every model (default: the defaults); ``settings`` override fields.
    seeds : sequence of int, optional
        The builds' seeds; default ``range(len(models))`` (``(0,)`` for one model).
    baselines : sequence of {"linear", "random", "mlp"}, default=all three
        The baselines built beside VI-Net.
    arch, arch_kwargs : optional
        Registered architecture of the models (stored in each VI-Net's config).
    throughput_repeats : int, default=10
        Timed passes per model of the first seed, in interleaved rounds
        (:func:`interleaved_throughput`; the fastest is reported, batch 256); ``0``
        skips the timing.
    progress : bool or None, default=None
        One progress bar over the models built (the builders' own bars are off);
        ``None``: only when stderr is a terminal.
    **settings
        Fields of :class:`VINetConfig`.

    Returns
    -------
    dict
        ``rows``: one dict per model and cut (``model``, ``kind``, ``node``,
        ``conv_removed`` in %, ``params_total``, ``params_base``, ``params_prep``,
        ``params_poly``, ``params_head`` (means over the seeds), ``accuracy`` (the mean,
        in %), ``accuracy_std``, ``accuracy_per_seed``, ``throughput`` in images/s (the
        best round) and ``throughput_rounds`` (each round's), and for the baselines
        ``diff_vinet``: VI-Net minus the row, per seed, with its mean and standard
        error); ``settings``; ``seeds``; ``models``: the first seed's
        VI-Nets by node (not JSON-serialisable; drop it before saving).

    Raises
    ------
    BridgeError
        For a list of data pairs whose length is not the number of seeds, or any error
        of :func:`build_vinet`.
    """
    config = resolve_config(config, settings)
    nets_in = [models] if isinstance(models, nn.Module) else list(models)
    seeds = list(range(len(nets_in))) if seeds is None else list(seeds)
    if len(nets_in) == 1:
        nets_in = nets_in * len(seeds)
    trains = _per_seed(train_data, len(seeds), "train_data")
    tests = _per_seed(test_data, len(seeds), "test_data")
    kinds = ["vinet", *baselines]
    acc: dict[tuple[str, str], list[float]] = {}
    params: dict[tuple[str, str], list[dict[str, int]]] = {}
    first: dict[tuple[str, str], nn.Module] = {}
    removed: dict[str, float] = {}
    full_acc = []
    bar = neural.progress_bar(total=len(seeds) * len(nodes) * len(kinds), progress=progress,
                              desc="models", unit="model", leave=False)
    for seed, model, (X_train, y_train), (X_test, y_test) in zip(seeds, nets_in, trains, tests,
                                                                 strict=True):
        full_acc.append(100.0 * neural.accuracy(model, (X_test, y_test)))
        teacher = None
        if config.distill > 0:
            logits, _ = neural.extract_latents(model, X_train, pooling="flatten",
                                               progress=False)
            teacher = torch.as_tensor(logits).float()
        for node in nodes:
            cut = prepare_cut(model, node, (X_train, y_train), config, arch=arch,
                              arch_kwargs=arch_kwargs, progress=False, teacher=teacher)
            removed[node] = removed_share(model, cut.backbone)
            with torch.no_grad():
                x_test = torch.cat([cut.pool(cut.backbone(X_test[i:i + 1024]))
                                    for i in range(0, len(y_test), 1024)])
            built: dict[str, nn.Module] = {}
            for kind in kinds:
                bar.set_postfix_str(f"{MODEL_NAMES[kind]} at {node}, seed {seed}")
                common = {"random_state": seed, "progress": False}
                if kind == "vinet":
                    net = fit_vinet(cut, config, n_jobs=1, fit_kwargs={}, **common)
                elif kind == "linear":
                    net = fit_linear(cut, config, **common)
                elif kind == "random":
                    net = fit_random(cut, built["vinet"], config, **common)
                else:
                    net = fit_mlp_head(cut, built["vinet"], config, **common)
                built[kind] = net
                acc.setdefault((kind, node), []).append(_accuracy(net, x_test, y_test))
                params.setdefault((kind, node), []).append(net.parameter_counts())
                first.setdefault((kind, node), net)
                bar.update()
    bar.close()
    full = nets_in[0]
    full_count = neural.count_parameters(full).total
    rows = [{"model": MODEL_NAMES["full"], "kind": "full", "node": "-", "conv_removed": 0.0,
             "params_total": full_count, "params_base": full_count, "params_prep": 0,
             "params_poly": 0, "params_head": 0, **_acc_fields(full_acc), "throughput": None}]
    timed: list[nn.Module] = [full]
    for node in nodes:
        for kind in kinds:
            counts = params[(kind, node)]
            row = {"model": MODEL_NAMES[kind], "kind": kind, "node": node,
                   "conv_removed": round(100.0 * removed[node], 1),
                   **{f"params_{k}": round(float(np.mean([c[k] for c in counts])))
                      for k in ("total", "base", "prep", "poly", "head")},
                   **_acc_fields(acc[(kind, node)]), "throughput": None}
            if kind != "vinet":
                diff = np.subtract(acc[("vinet", node)], acc[(kind, node)])
                row["diff_vinet"] = _stats(diff)
            else:
                diff = np.subtract(full_acc, acc[(kind, node)])
                row["drop_vs_full"] = _stats(diff)
            rows.append(row)
            timed.append(first[(kind, node)])
    if throughput_repeats:
        table = interleaved_throughput(timed, tuple(tests[0][0].shape[1:]),
                                       rounds=max(throughput_repeats // 2, 1))
        for row, per_round in zip(rows, table.T, strict=True):
            row["throughput"] = round(float(per_round.max()), 1)
            row["throughput_rounds"] = [round(float(v), 1) for v in per_round]
    return {"rows": rows, "seeds": seeds,
            "settings": {**config.to_dict(), "nodes": list(nodes),
                         "threads": torch.get_num_threads()},
            "models": {node: first[("vinet", node)] for node in nodes}}


def _per_seed(data: Any, n_seeds: int, name: str) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """One validated ``(X, y)`` per seed from a pair or a list of pairs."""
    single = isinstance(data, (tuple, list)) and len(data) == 2 and not (
        isinstance(data[0], (tuple, list)))
    if single:
        return [as_data(data, name)] * n_seeds
    if not isinstance(data, (tuple, list)) or len(data) != n_seeds:
        raise BridgeError(
            f"{name} must be one pair (X, y) or a list of {n_seeds} pairs (one per seed), "
            f"got {type(data).__name__} of length {len(data) if hasattr(data, '__len__') else '?'}."
        )
    return [as_data(d, f"{name}[{i}]") for i, d in enumerate(data)]


def _acc_fields(values: Sequence[float]) -> dict[str, Any]:
    st = _stats(values)
    return {"accuracy": st["mean"], "accuracy_std": st["std"],
            "accuracy_per_seed": st["per_seed"]}


def _speedup(vi: dict[str, Any], full: dict[str, Any], min_speedup: float
             ) -> tuple[float, float]:
    """The ``faster`` check: (mean ratio - ``min_speedup``, its standard error).

    With the per-round speeds of :func:`compare_cuts`, the ratio of each round (both
    models timed within moments of each other) is one sample, so the check carries
    the machine's timing noise as a standard error, like the accuracy checks carry the
    seeds'; without them, the ratio of the best speeds and no error.
    """
    a, b = vi.get("throughput_rounds"), full.get("throughput_rounds")
    if a and b and len(a) == len(b) and len(a) > 1:
        ratios = np.asarray(a, dtype=float) / np.asarray(b, dtype=float)
        return (float(ratios.mean()) - min_speedup,
                float(ratios.std(ddof=1) / np.sqrt(ratios.size)))
    return vi["throughput"] / full["throughput"] - min_speedup, 0.0


def _verdict(margin: float, sem: float) -> str:
    """``"met"`` (margin >= 0), ``"not met"``, or ``"within noise"`` (``|margin| < 2 sem``)."""
    if abs(margin) < 2.0 * sem:
        return "within noise"
    return "met" if margin >= 0 else "not met"


def acceptance(rows: Sequence[dict[str, Any]], *, min_removed: float = 30.0,
               tolerance: float = 1.0, min_speedup: float = MIN_SPEEDUP) -> list[dict[str, Any]]:
    """The issue's acceptance test at each cut that removes ``min_removed`` % of the layers.

    Each accuracy check compares means paired over the seeds and gets a verdict
    ``"met"``, ``"not met"`` or ``"within noise"`` (the margin is within twice the
    standard error of the paired differences: another seed, or another CPU's rounding,
    could decide it either way).

    Parameters
    ----------
    rows : sequence of dict
        ``compare_cuts(...)["rows"]``.
    min_removed : float, default=30.0
        Only cuts removing at least this share (in %) of the convolution layers count.
    tolerance : float, default=1.0
        Largest mean accuracy drop against the full network, in points.
    min_speedup : float, default=1.2
        Smallest throughput ratio VI-Net / full network: the mean over the timing
        rounds of the per-round ratio, with its standard error (the ratio of the best
        speeds, without one, for rows that lack ``throughput_rounds``).

    Returns
    -------
    list of dict
        Per qualifying cut: ``node``, ``conv_removed``, ``accuracy_drop`` (mean, points),
        ``checks`` (name -> ``{"margin", "sem", "verdict"}`` for ``within_tolerance``,
        ``fewer_params``, ``faster``, ``beats_linear``, ``beats_random``) and ``verdict``
        (``"met"`` if every check is met, ``"not met"`` if one is not, else
        ``"within noise"``).
    """
    full = next(r for r in rows if r["kind"] == "full")
    out = []
    for node in dict.fromkeys(r["node"] for r in rows if r["kind"] == "vinet"):
        at = {r["kind"]: r for r in rows if r["node"] == node}
        vi = at["vinet"]
        if vi["conv_removed"] < min_removed:
            continue
        drop = vi["drop_vs_full"]
        checks = {"within_tolerance": (tolerance - drop["mean"], drop["sem"]),
                  "fewer_params": (float(full["params_total"] - vi["params_total"]), 0.0)}
        if vi["throughput"] and full["throughput"]:
            checks["faster"] = _speedup(vi, full, min_speedup)
        for kind in ("linear", "random"):
            if kind in at:
                d = at[kind]["diff_vinet"]
                checks[f"beats_{kind}"] = (d["mean"], d["sem"])
        verdicts = {k: {"margin": round(m, 3), "sem": round(e, 3), "verdict": _verdict(m, e)}
                    for k, (m, e) in checks.items()}
        states = {v["verdict"] for v in verdicts.values()}
        overall = ("not met" if "not met" in states else
                   "within noise" if "within noise" in states else "met")
        out.append({"node": node, "conv_removed": vi["conv_removed"],
                    "accuracy_drop": drop["mean"], "checks": verdicts, "verdict": overall})
    return out


def format_table(rows: Sequence[dict[str, Any]]) -> str:
    """The comparison as a fixed-width text table (the layout of the paper's tables).

    Parameters
    ----------
    rows : sequence of dict
        ``compare_cuts(...)["rows"]``.

    Returns
    -------
    str
    """
    header = (f"{'model':<20} {'cut':<8} {'rm':>4} {'total':>8} {'base':>7} "
              f"{'prep':>6} {'poly':>6} {'head':>6} {'acc % (mean ± std)':>18} "
              f"{'VI-Net - row':>13} {'img/s':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        diff = r.get("diff_vinet")
        paired = f"{diff['mean']:+6.2f} ± {diff['sem']:.2f}" if diff else ""
        speed = f"{r['throughput']:>9,.0f}" if r.get("throughput") else f"{'-':>9}"
        lines.append(
            f"{r['model']:<20} {r['node']:<8} {r['conv_removed']:>3.0f}% "
            f"{r['params_total']:>8,} {r['params_base']:>7,} {r['params_prep']:>6,} "
            f"{r['params_poly']:>6,} {r['params_head']:>6,} "
            f"{r['accuracy']:>10.2f} ± {r['accuracy_std']:<5.2f} {paired:>13} {speed}"
        )
    return "\n".join(lines)


def plot_comparison(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Plot accuracy against the share of convolution layers removed; save as PNG.

    Parameters
    ----------
    rows : sequence of dict
        ``compare_cuts(...)["rows"]``.
    path : path
        The ``.png`` to write (folders are created).

    Returns
    -------
    pathlib.Path
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    full = next(r for r in rows if r["kind"] == "full")
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    styles = {"vinet": ("o-", "C0"), "linear": ("s--", "C1"), "random": ("^:", "C2"),
              "mlp": ("d-.", "C3")}
    for kind, (style, color) in styles.items():
        pts = sorted((r["conv_removed"], r["accuracy"]) for r in rows if r["kind"] == kind)
        if pts:
            ax.plot(*zip(*pts, strict=True), style, color=color, label=MODEL_NAMES[kind])
    ax.axhline(full["accuracy"], color="k", lw=1, label="full network")
    ax.axhspan(full["accuracy"] - 1.0, full["accuracy"], color="k", alpha=0.08,
               label="within 1 point")
    ax.set_xlabel("convolution layers removed (%)")
    ax.set_ylabel("test accuracy (%, mean over seeds)")
    ax.set_title("VI-Net on the digits: accuracy vs cut depth")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
