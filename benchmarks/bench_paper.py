"""The paper's throughput at the paper's cut points: CIFAR ResNet-18 against four VI-Nets.

The CIFAR ResNet-18 (:func:`neural.resnet18`, 11.17 M parameters) is cut at the four
points of the paper's table (Pelleriti et al., ICML 2025), whose base networks have
0.68 / 2.18 / 3.96 / 8.81 M parameters: after ``layer2`` (675,392), and after the first
convolution, batch norm and ReLU of ``layer3.1`` (2,184,768), ``layer4.0`` (3,955,776)
and ``layer4.1`` (8,808,512).  Each cut is followed by average pooling, PCA to
``--components`` dimensions with min-max scaling (:func:`neural.make_preprocessing`,
fitted on random latents), a :class:`bridge.PolynomialLayer` and a linear head, assembled
as a :class:`bridge.VINet`.  The polynomial layer is of the size class of VI-Net's layers
(``bench_layer.py``): every monomial of degree ≤ ``--degree`` in the PCA components,
``--generators`` polynomials per class for 10 classes, each with a random
``--density`` of those monomials (fixed seed).  Weights are random: throughput does not
depend on them.

Every model is timed with :func:`neural.throughput` on 32 × 32 inputs at batch
``--batch`` (256, the paper's), eager and ``torch.compile``-d, on the CPU (``--threads``
torch threads, default 1) and, where CUDA is present (or with ``--device cuda``), on the
GPU.  The models are timed in turns, round after round, and each keeps its best round,
so every ratio VI-Net / ResNet-18 compares two numbers measured in the same run.  On
the CPU each model's images per CPU-second of the process are reported too: on a
shared machine other jobs change the wall clock by tens of percent over the seconds a
batch takes, but hardly the CPU time.

The paper reports 100,798 against 66,533 images/s (1.51×) for its smallest VI-Net and
1.19× for the next, on a GPU.  Targets: those ratios on a GPU (≥ 1.51 and ≥ 1.19 for
the first two cuts); on the CPU the ratios are measured and reported.

Run ``python benchmarks/bench_paper.py`` (``--quick``: batch 32, eager, one round;
``--device cpu`` or ``cuda`` for one device only); prints the table and writes
``benchmarks/results/bench_paper.json`` (see README.md).
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import torch
from _results import metric, write_results

import neural
from algebra import all_monomials
from bridge import PolynomialLayer, VINet

#: The paper's cuts: (label, base parameters in the paper, a node or the block whose
#: first conv-bn-ReLU ends the cut).
CUTS = [
    ("0.68M", "layer2", None),
    ("2.18M", None, "layer3.1"),
    ("3.96M", None, "layer4.0"),
    ("8.81M", None, "layer4.1"),
]
#: The paper's GPU ratios (VI-Net / ResNet-18 images/s at batch 256), by cut.
PAPER_GPU_RATIOS = {"0.68M": 100_798 / 66_533, "2.18M": 1.19}
N_CLASSES = 10
INPUT = (3, 32, 32)


def cut_node(model: torch.nn.Module, node: str | None, block: str | None) -> str:
    """``node``, or the ReLU right after ``block.bn1`` (the fx name, e.g. ``relu_11``)."""
    if node is not None:
        return node
    names = [n.name for n in neural.list_nodes(model, torch.zeros(1, *INPUT))]
    after = names.index(f"{block}.bn1")
    return next(n for n in names[after + 1 :] if n.startswith("relu"))


def build(model: torch.nn.Module, node: str, args: argparse.Namespace,
          rng: np.random.Generator) -> VINet:
    """VI-Net at ``node``: cut, pooling, PCA + min-max, polynomial layer, head."""
    backbone = neural.truncate(model, node).eval()
    with torch.inference_mode():
        width = backbone(torch.zeros(2, *INPUT)).shape[1]
    latents = torch.randn(4 * args.components + 64, width)
    preprocess = neural.make_preprocessing(latents, n_components=args.components)
    terms = all_monomials(args.components, args.degree)
    p = N_CLASSES * args.generators
    mask = rng.random((terms.shape[0], p)) < args.density
    poly = PolynomialLayer(terms, p, mask, labels=np.repeat(np.arange(N_CLASSES),
                                                            args.generators))
    head = torch.nn.Linear(p, N_CLASSES)
    config = {"arch": "resnet18", "node": node, "latent_width": int(width),
              "n_components_out": args.components}
    return VINet(backbone, preprocess, poly, head, pooling="avg", config=config).eval()


def measure(models: dict[str, torch.nn.Module], device: str, batch: int, rounds: int,
            repeats: int) -> tuple[dict[str, float], dict[str, float]]:
    """Best images/s of each model, the models timed in turns for ``rounds``.

    Returns the best median of :func:`neural.throughput` (wall clock) and, on the CPU,
    the best images per CPU-second of the process over the same passes (the untimed
    warm-up pass included), which other jobs on a shared machine do not inflate.
    """
    best = dict.fromkeys(models, 0.0)
    best_cpu = dict.fromkeys(models, 0.0)
    for _ in range(rounds):
        for name, model in models.items():
            start = time.process_time()
            result = neural.throughput(model, INPUT, batch, warmup=1, repeats=repeats,
                                       device=device)
            cpu = time.process_time() - start
            best[name] = max(best[name], result.median)
            if device == "cpu":
                best_cpu[name] = max(best_cpu[name], batch * (1 + repeats) / cpu)
            print(f"  {name:<22} {result.median:>12,.0f} img/s"
                  + (f" {best_cpu[name]:>10,.1f} img/CPU-s" if device == "cpu" else ""),
                  flush=True)
    return best, best_cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="batch 32, eager only, one round (a smoke run)")
    parser.add_argument("--device", choices=("cpu", "cuda"), action="append",
                        help="a device to time on (repeatable; default: the CPU, and the "
                             "GPU where CUDA is present)")
    parser.add_argument("--batch", type=int, default=256, help="images per batch (256)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default 1: steady on a busy machine)")
    parser.add_argument("--components", type=int, default=16, help="PCA dimensions (16)")
    parser.add_argument("--degree", type=int, default=3, help="largest monomial degree (3)")
    parser.add_argument("--generators", type=int, default=32,
                        help="polynomials per class, 10 classes (32)")
    parser.add_argument("--density", type=float, default=0.1,
                        help="fraction of the monomials in each polynomial (0.1)")
    args = parser.parse_args()
    devices = args.device or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])
    if "cuda" in devices and not torch.cuda.is_available():
        raise SystemExit("bench_paper: --device cuda, but CUDA is not available here.")
    batch = 32 if args.quick else args.batch
    modes = ["eager"] if args.quick else ["eager", "compiled"]
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)

    full = neural.resnet18(num_classes=N_CLASSES).eval()
    models: dict[str, torch.nn.Module] = {"ResNet-18": full}
    rows = []
    base_total = neural.count_parameters(full).total
    rows.append({"model": "ResNet-18", "node": "-", "base_params": base_total,
                 "prep_params": 0, "poly_params": 0, "head_params": 0,
                 "total_params": base_total})
    for label, node, block in CUTS:
        node = cut_node(full, node, block)
        vinet = build(full, node, args, rng)
        counts = vinet.parameter_counts()
        name = f"VI-Net {label}"
        models[name] = vinet
        rows.append({"model": name, "node": node, "base_params": counts["base"],
                     "prep_params": counts["prep"], "poly_params": counts["poly"],
                     "head_params": counts["head"], "total_params": counts["total"]})
    print(f"{'model':<16} {'node':<8} {'base':>10} {'prep':>7} {'poly':>7} {'head':>6}")
    for r in rows:
        print(f"{r['model']:<16} {r['node']:<8} {r['base_params']:>10,} "
              f"{r['prep_params']:>7,} {r['poly_params']:>7,} {r['head_params']:>6,}")

    speed_rows, summary = [], []
    for device in devices:
        where = (torch.cuda.get_device_name(0) if device == "cuda"
                 else f"CPU, {args.threads} thread(s)")
        rounds = 1 if args.quick else (5 if device == "cuda" else 2)
        repeats = 20 if device == "cuda" else 2
        for mode in modes:
            print(f"\n{where}, {mode}, batch {batch}:", flush=True)
            timed = ({k: torch.compile(m) for k, m in models.items()} if mode == "compiled"
                     else models)
            best, best_cpu = measure(timed, device, batch, rounds, repeats)
            for name, rate in best.items():
                row = {"device": device, "mode": mode, "batch": batch, "model": name,
                       "img_per_s": round(rate, 1),
                       "ratio_to_resnet18": round(rate / best["ResNet-18"], 3)}
                if device == "cpu":
                    row["img_per_cpu_s"] = round(best_cpu[name], 1)
                    row["cpu_time_ratio"] = round(best_cpu[name] / best_cpu["ResNet-18"], 3)
                speed_rows.append(row)
            for label, _, _ in CUTS:
                name = f"VI-Net {label}"
                paper = PAPER_GPU_RATIOS.get(label) if device == "cuda" else None
                target = f">= {paper:.2f}" if paper is not None else None
                summary.append(metric(
                    f"{name} / ResNet-18 images/s, {device} ({where}), {mode}, "
                    f"batch {batch}", best[name] / best["ResNet-18"], "x", target))
                if device == "cpu":
                    summary.append(metric(
                        f"{name} / ResNet-18 images per CPU-second, {mode}, batch {batch}",
                        best_cpu[name] / best_cpu["ResNet-18"], "x", None))
            for label_, rates in (("ratios", best), ("CPU-time ratios", best_cpu)):
                if rates["ResNet-18"] > 0:
                    print(f"  {label_}: " + ", ".join(
                        f"{cut} {rates[f'VI-Net {cut}'] / rates['ResNet-18']:.2f}x"
                        for cut, _, _ in CUTS), flush=True)
    if "cuda" not in devices:
        summary.append(metric("GPU ratios: not measured (no CUDA device in this run)",
                              float("nan"), "x", None))
    write_results(
        "bench_paper", summary,
        tables=[{"title": "Parameters (VI-Net: base, preprocessing, polynomial nonzeros, "
                          "head)", "rows": rows},
                {"title": "Throughput at 32 x 32, best round of each model", "rows":
                 speed_rows}],
        quick=args.quick,
        description="CIFAR ResNet-18 against VI-Net at the paper's four cut points "
                    "(0.68/2.18/3.96/8.81 M base parameters): images/s at batch 256, eager "
                    "and compiled, on the CPU and on a GPU where present.",
        config={"components": args.components, "degree": args.degree,
                "generators_per_class": args.generators, "density": args.density,
                "threads": args.threads, "devices": devices},
    )


if __name__ == "__main__":
    main()
