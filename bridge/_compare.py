"""The paper's comparison: the full network against VI-Net and both baselines at several cuts.

One function builds every model of the table with the same code and measures it the
same way (:func:`bridge.evaluate_model`); ``vinet demo``, ``benchmarks/bench_vinet.py``
and the documentation's figure all use its result (a plain dict, saved as JSON).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

import neural
from bridge._baselines import linear_probe, random_monomial_baseline
from bridge._build import build_vinet
from bridge._vinet import evaluate_model

__all__ = ["acceptance", "compare_cuts", "conv_layers", "format_table", "interleaved_throughput",
           "plot_comparison"]

#: Row labels of the table, in the order they are printed for each cut.
MODEL_NAMES = {"full": "full network", "vinet": "VI-Net", "linear": "linear head",
               "random": "random monomials"}


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


def _row(name: str, node: str | None, removed: float, report: dict[str, Any],
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    p = report["params"]
    return {
        "model": MODEL_NAMES[name],
        "kind": name,
        "node": node or "-",
        "conv_removed": round(100.0 * removed, 1),
        "params_total": p["total"],
        "params_base": p["base"],
        "params_prep": p["prep"],
        "params_poly": p["poly"],
        "params_head": p["head"],
        "accuracy": round(100.0 * report["accuracy"], 2),
        "throughput": report["throughput"],
        **(extra or {}),
    }


def interleaved_throughput(models: Sequence[nn.Module], input_shape: tuple[int, ...], *,
                           rounds: int = 5, batch_size: int = 256) -> list[float]:
    """Images/s of several models, timed in interleaved rounds; the best round of each.

    Timing each model once, one after the other, lets a burst of other work on the
    machine fall on one model only; timing them in turn, round after round, and
    keeping each model's fastest pass spreads the disturbance over all of them, so
    their ratios are comparable.

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
    list of float
        Images per second, in the order of ``models``.
    """
    best = [0.0] * len(models)
    for _ in range(rounds):
        for i, net in enumerate(models):
            speed = neural.throughput(net, input_shape, batch_size=batch_size, repeats=2)
            best[i] = max(best[i], float(speed.max))
    return best


def compare_cuts(
    model: nn.Module,
    nodes: Sequence[str],
    train_data: Any,
    test_data: Any,
    *,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    throughput_repeats: int = 10,
    progress: bool = True,
    random_state: int = 0,
    **settings: Any,
) -> dict[str, Any]:
    """Build VI-Net and both baselines at every cut; measure them beside the full network.

    Parameters
    ----------
    model : nn.Module
        The pretrained classifier.
    nodes : sequence of str
        Cut points, shallow to deep or any order.
    train_data, test_data : tuple (X, y)
        Images and labels.
    arch, arch_kwargs : optional
        Registered architecture of ``model`` (stored in each VI-Net's config).
    throughput_repeats : int, default=10
        Timed passes per model, in interleaved rounds (:func:`interleaved_throughput`;
        the fastest is reported, batch 256).
    progress : bool, default=True
        One progress bar over the models built and the final timing (the builders'
        own bars are off).
    random_state : int, default=0
        Seed of every model built (subsampling, heads, mini-batch order).
    **settings
        Passed to :func:`build_vinet` (``n_components``, ``pooling``, ``psi``,
        ``max_degree``, ``keep``, ``epochs``, ``lr``, ...); the preprocessing and
        training settings also go to the baselines.

    Returns
    -------
    dict
        ``rows``: one dict per model (``model``, ``kind``, ``node``,
        ``conv_removed`` in %, ``params_total``, ``params_base``, ``params_prep``
        (the PCA and scaling map), ``params_poly`` (nonzero polynomial
        coefficients), ``params_head``, ``accuracy``
        in %, ``throughput`` in images/s, and for VI-Net ``n_generators``,
        ``n_terms``); ``settings``; ``models``: the trained VI-Nets by node (not
        JSON-serialisable; drop it before saving).
    """
    full_convs = conv_layers(model)
    nets: list[nn.Module] = [model]
    rows = [_row("full", None, 0.0, evaluate_model(model, test_data, throughput_repeats=0))]
    shared = {k: settings[k] for k in ("n_components", "pooling", "scaling", "epochs", "lr",
                                       "batch_size", "weight_decay") if k in settings}
    common = {"arch": arch, "arch_kwargs": arch_kwargs, "progress": False,
              "random_state": random_state}
    models = {}
    # One bar over the whole comparison; the builders' own bars (extraction, per-class
    # fits, fine-tuning) stay off, or a run prints a dozen interleaved bars per cut.
    bar = tqdm(total=3 * len(nodes) + 1, desc="models", unit="model", disable=not progress,
               leave=False)
    for node in nodes:
        bar.set_postfix_str(f"VI-Net at {node}")
        vinet = build_vinet(model, node, train_data, **common, **settings)
        bar.update()
        removed = 1.0 - conv_layers(vinet.backbone) / max(full_convs, 1)
        bar.set_postfix_str(f"linear head at {node}")
        probe = linear_probe(model, node, train_data, **common, **shared)
        bar.update()
        bar.set_postfix_str(f"random monomials at {node}")
        rand = random_monomial_baseline(vinet, train_data, progress=False,
                                        random_state=random_state)
        bar.update()
        extra = {"n_generators": vinet.poly.out_features, "n_terms": vinet.poly.n_terms}
        for kind, net in (("vinet", vinet), ("linear", probe), ("random", rand)):
            report = evaluate_model(net, test_data, throughput_repeats=0)
            rows.append(_row(kind, node, removed, report, extra if kind != "linear" else None))
            nets.append(net)
        models[node] = vinet
    bar.set_postfix_str(f"throughput of {len(nets)} models")
    speeds = interleaved_throughput(nets, tuple(test_data[0].shape[1:]),
                                    rounds=max(throughput_repeats // 2, 1))
    bar.update()
    bar.close()
    for row, speed in zip(rows, speeds, strict=True):
        row["throughput"] = round(speed, 1)
    return {"rows": rows, "settings": {**settings, "nodes": list(nodes),
                                       "threads": torch.get_num_threads()},
            "models": models}


def acceptance(rows: Sequence[dict[str, Any]], *, min_removed: float = 30.0,
               tolerance: float = 1.0) -> list[dict[str, Any]]:
    """The issue's acceptance test at each cut that removes ``min_removed`` % of the convolutions.

    Parameters
    ----------
    rows : sequence of dict
        ``compare_cuts(...)["rows"]``.
    min_removed : float, default=30.0
        Only cuts removing at least this share (in %) of the convolution layers count.
    tolerance : float, default=1.0
        Largest accuracy drop against the full network, in points.

    Returns
    -------
    list of dict
        Per qualifying cut: ``node``, ``conv_removed``, ``accuracy_drop`` (points),
        ``within_tolerance``, ``fewer_params``, ``faster``, ``beats_linear``,
        ``beats_random`` and ``met`` (all five).
    """
    full = next(r for r in rows if r["kind"] == "full")
    out = []
    for node in dict.fromkeys(r["node"] for r in rows if r["kind"] == "vinet"):
        at = {r["kind"]: r for r in rows if r["node"] == node}
        vi = at["vinet"]
        if vi["conv_removed"] < min_removed:
            continue
        checks = {
            "within_tolerance": full["accuracy"] - vi["accuracy"] <= tolerance,
            "fewer_params": vi["params_total"] < full["params_total"],
            "faster": vi["throughput"] > full["throughput"],
            "beats_linear": vi["accuracy"] > at["linear"]["accuracy"],
            "beats_random": vi["accuracy"] > at["random"]["accuracy"],
        }
        out.append({"node": node, "conv_removed": vi["conv_removed"],
                    "accuracy_drop": round(full["accuracy"] - vi["accuracy"], 2),
                    **checks, "met": all(checks.values())})
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
    header = (f"{'model':<17} {'cut':<8} {'conv rm':>7} {'total':>8} {'base':>8} "
              f"{'prep':>7} {'poly':>7} {'head':>6} {'acc %':>6} {'img/s':>9}")
    lines = [header, "-" * len(header)]
    for r in rows:
        lines.append(
            f"{r['model']:<17} {r['node']:<8} {r['conv_removed']:>6.0f}% {r['params_total']:>8,} "
            f"{r['params_base']:>8,} {r['params_prep']:>7,} {r['params_poly']:>7,} "
            f"{r['params_head']:>6,} "
            f"{r['accuracy']:>6.2f} {r['throughput']:>9,.0f}"
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
    styles = {"vinet": ("o-", "C0"), "linear": ("s--", "C1"), "random": ("^:", "C2")}
    for kind, (style, color) in styles.items():
        pts = sorted((r["conv_removed"], r["accuracy"]) for r in rows if r["kind"] == kind)
        if pts:
            ax.plot(*zip(*pts, strict=True), style, color=color, label=MODEL_NAMES[kind])
    ax.axhline(full["accuracy"], color="k", lw=1, label="full network")
    ax.axhspan(full["accuracy"] - 1.0, full["accuracy"], color="k", alpha=0.08,
               label="within 1 point")
    ax.set_xlabel("convolution layers removed (%)")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title("VI-Net on the digits: accuracy vs cut depth")
    ax.legend(loc="lower left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
