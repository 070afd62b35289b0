"""VI-Net at ImageNet scale, simulated: time and peak memory of each phase from shards.

Synthetic latents with class structure stand in for an extraction: ``K`` classes, each
near its own random 3-dimensional quadric variety in ``R^D`` (points ``c_k + A_k u +
B_k (u ⊗ u)``, ``u`` uniform in ``[-1, 1]^3``, plus Gaussian noise 0.05), ``m`` samples
in equal shares, shuffled, written as shards of at most 50,000 rows with the labels and
teacher logits (a random linear map of the latents, ``K`` float32 per sample: 5.2 GB at
1,000 classes and 1.3 M samples), exactly as ``vinet extract --shard i/n --teacher``
writes them. Then :func:`bridge.build_vinet_from_shards`'s phases run one by one on the
defaults of :class:`bridge.VINetConfig` (PCA to 16, OAVI ψ = 0.01, degree ≤ 2, 500
samples per class fit, 20 generators kept per class, the head on ``[x, |G(z)|]``,
distillation), each configuration in a fresh process on one thread (numba, BLAS,
torch): per phase the wall time and the peak resident memory (``VmHWM`` of
``/proc/self/status``, reset before the phase through ``/proc/self/clear_refs``: it sees
numpy's, torch's and numba's native allocations and the mapped shard pages that a
phase touched, which ``tracemalloc`` does not).

The phases: ``projection`` (two maps over the shards: the moments for the exact PCA,
the scaling's statistics), ``grouping`` (the projected latents written grouped by
class), ``fits`` (one OAVI fit per class), ``pruning`` (per-class sums over blocks of the
grouped latents, each class scored on at most ``max(32, --score-budget // K)`` of its
samples, default budget 32,768 rows in all: the scores evaluate every generator, whose
number grows with ``K``, on every scored row, so a per-class count would make pruning
grow like ``K²``; where a configuration allows, the kept generators are compared with
those chosen on every row, ``agreement``), ``compile`` (the layer), ``head start``
(the head's L-BFGS start on as many rows as fit ``--head-mb`` of features, default
256 MB: the library's default ``HEAD_BYTES``; with the default warm start the L-BFGS
fits only the pooled latents' columns, the features of those rows are computed once)
and ``epoch`` (one fine-tuning epoch of mini-batches of 256 read from the
memory-mapped shards: timed over its first
``--steps`` mini-batches, default 40, and scaled to the epoch's ``m / 256``; every step
costs the same, so this is the epoch's time without running its hour at 1,000
classes). ``build`` is their sum with one epoch, what the build after extraction costs
per fine-tuning epoch.

Per phase the exponents ``a`` and ``b`` of a least-squares fit
``log t = c + a log m + b log K`` over the main grid (``K ∈ {10, 100, 1000}`` at
``m = 130,000``; ``m ∈ {13,000, 130,000, 1.3 M}`` at ``K = 100``; and ``K = 1000`` at
``m = 1.3 M``), and from the same fit a projection to ImageNet's 1,000 classes and
1,281,167 images on ``N`` cores: the maps (projection, fits, pruning) divided by
``N``, the rest (grouping, compile, the head's start and the epochs: one process)
not. Rows at ``D = 16`` and ``64`` show the width's effect (not in the fit). A small
configuration runs first, unreported, so that numba's compilation (cached on disk) is
in no configuration's times.

Targets (issue 14): every phase's exponent ≤ 1.1 in ``m`` and in ``K``; at 1,000
classes and 1.3 M samples × 32 dimensions the whole build after extraction within
4 GB; pruning no slower than the per-class fits it prunes.

Run ``python benchmarks/bench_scale.py`` (about half an hour on 2 cores; ``--quick``: a
smoke run of small sizes, about a minute); prints the table and writes
``benchmarks/results/bench_scale.json`` (see README.md). ``--data-dir`` names where
the shards are written (default: a temporary folder; each configuration's is deleted
after it ran).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from _results import metric, write_results

IMAGENET = (1000, 1_281_167)
SHARD_ROWS = 50_000
WIDTH = 32
#: (K, m) of the main grid, the exponents' fit.
GRID = [(10, 130_000), (100, 130_000), (1000, 130_000), (100, 13_000), (100, 1_300_000),
        (1000, 1_300_000)]
#: Latent widths besides 32, at (K, m) = (100, 130,000).
WIDTHS = (16, 64)
QUICK_GRID = [(10, 13_000), (100, 13_000), (10, 52_000), (100, 52_000)]
PHASES = ("projection", "grouping", "fits", "pruning", "compile", "head start", "epoch")
#: Phases that are maps over shards, classes or blocks (they divide over N cores).
PARALLEL = ("projection", "fits", "pruning")
#: Configurations up to this many samples also choose the generators on every row.
AGREEMENT_MAX_ROWS = 130_000


# -- the data ------------------------------------------------------------------------

def write_shards(folder: Path, n_classes: int, m: int, width: int, seed: int = 0) -> None:
    """``m`` latents of ``n_classes`` quadric varieties in ``R^width``, with labels and
    teacher logits, as shards of at most ``SHARD_ROWS`` rows."""
    import neural

    rng = np.random.default_rng(seed)
    centre = rng.normal(size=(n_classes, width)) * 2
    linear = rng.normal(size=(n_classes, 3, width))
    quad = rng.normal(size=(n_classes, 6, width)) * 0.5
    mix = rng.normal(size=(width, n_classes)).astype(np.float32) / math.sqrt(width)
    labels = rng.permutation(np.arange(m) % n_classes)
    rows, cols = np.triu_indices(3)
    n_shards = -(-m // SHARD_ROWS)
    for i, part in enumerate(np.array_split(np.arange(m), n_shards)):
        y = labels[part]
        u = rng.uniform(-1, 1, size=(part.size, 3))
        x = (centre[y] + np.einsum("ni,niw->nw", u, linear[y])
             + np.einsum("ni,niw->nw", u[:, rows] * u[:, cols], quad[y])
             + 0.05 * rng.normal(size=(part.size, width))).astype(np.float32)
        neural.save_shard(folder, x, y, shard=(i, n_shards), teacher=x @ mix,
                          meta={"pooling": "avg", "n_classes": n_classes})


# -- one configuration, in its own process -----------------------------------------------

def _hwm_reset() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _hwm_mb() -> float:
    """Peak resident set (MB) since the last reset; ``ru_maxrss`` where /proc lacks it."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _kept_keys(kept: list) -> set:
    """One key per kept generator: its class's position and its leading term."""
    return {(j, row.tobytes()) for j, s in enumerate(kept) for row in s.leading_terms}


def worker(folder: str, score_budget: int, head_mb: float, steps: int) -> dict:
    """Run the phases on the shards in ``folder``; time and peak memory of each."""
    import torch

    from bridge import VINetConfig
    from bridge import _shards as S
    from bridge._build import train_standardised

    torch.set_num_threads(1)
    config = VINetConfig(pooling="avg")
    out: dict = {"phases": {}}
    resettable = _hwm_reset()
    out["per_phase_memory"] = resettable

    def phase(name: str, fn):
        _hwm_reset()
        start = time.perf_counter()
        value = fn()
        out["phases"][name] = {"seconds": time.perf_counter() - start, "peak_mb": _hwm_mb()}
        return value

    source = S.open_source(folder)
    work = Path(tempfile.mkdtemp(prefix="work-", dir=folder))
    proj, mean, std = phase("projection",
                            lambda: S.fit_projection_streamed(source, config, n_jobs=1))
    path, offsets = phase("grouping", lambda: S.group_by_class(source, proj, work))
    sets, _ = phase("fits", lambda: S.fit_streamed(path, offsets, config, n_jobs=1,
                                                   random_state=0, progress=False,
                                                   fit_kwargs={}))
    score_samples = max(32, score_budget // source.n_classes)
    kept, rms = phase("pruning", lambda: S.select_streamed(
        sets, path, offsets, config, score_samples=score_samples, random_state=0, n_jobs=1))
    out.update(score_samples=score_samples)
    if len(source) <= AGREEMENT_MAX_ROWS:  # the same choice on every row, for comparison
        every, _ = S.select_streamed(sets, path, offsets, config, score_samples=None,
                                     random_state=0, n_jobs=1)
        keys = _kept_keys(every)
        out["agreement"] = len(keys & _kept_keys(kept)) / len(keys)
    poly = phase("compile", lambda: S.compile_layer(kept, rms))
    out.update(generators_fitted=sum(len(s) for s in sets), generators_kept=poly.out_features)
    net = S.tail_vinet(source, config, proj, poly)

    def train(epochs: int, rows: int, limit: int | None):
        inputs = S.ShardInputs(source.shards, source.labels, teacher=True, head_samples=rows,
                               random_state=0)
        if limit is not None:
            batches = inputs.batches
            inputs.batches = lambda *a: itertools.islice(batches(*a), limit)
        return train_standardised(net, inputs, mean, std, config.replace(epochs=epochs),
                                  random_state=0, progress=False)

    head_samples = max(2, int(head_mb * 2**20) // (4 * net.head.in_features))
    phase("head start", lambda: train(0, head_samples, None))
    per_epoch = -(-len(source) // config.batch_size)
    timed = min(steps, per_epoch)
    phase("epoch", lambda: train(1, 2, timed))
    out["phases"]["epoch"]["seconds"] *= per_epoch / timed
    out.update(steps_timed=timed, steps_per_epoch=per_epoch, head_width=net.head.in_features,
               head_samples=head_samples)
    return out


def run_config(n_classes: int, m: int, width: int, args: argparse.Namespace) -> dict:
    """Write the shards (a subprocess), run the phases (a fresh one), delete the shards."""
    base = Path(args.data_dir) if args.data_dir else Path(tempfile.gettempdir())
    base.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"scale-{n_classes}-{m}-{width}-", dir=base))
    env = {**os.environ, **{k: str(args.threads) for k in (
        "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")}}
    try:
        start = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write", str(folder), str(n_classes),
                        str(m), str(width)], check=True, env=env)
        written = time.perf_counter() - start
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", str(folder), str(args.score_budget),
             str(args.head_mb), str(args.steps)],
            check=True, env=env, capture_output=True, text=True)
        result = json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    result.update(K=n_classes, m=m, D=width, data_seconds=written)
    return result


# -- the report ------------------------------------------------------------------------

def exponents(results: list[dict], name: str) -> tuple[float, float, np.ndarray]:
    """Least-squares ``log t = c + a log m + b log K`` over ``results``: (a, b, coef)."""
    A = np.array([[1.0, math.log(r["m"]), math.log(r["K"])] for r in results])
    t = np.log([max(r["phases"][name]["seconds"], 1e-6) for r in results])
    coef = np.linalg.lstsq(A, t, rcond=None)[0]
    return float(coef[1]), float(coef[2]), coef


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a smoke run)")
    parser.add_argument("--data-dir", help="where to write the shards (default: a temp folder)")
    parser.add_argument("--threads", type=int, default=1,
                        help="threads of numba, BLAS and torch per configuration (default 1)")
    parser.add_argument("--score-budget", type=int, default=32_768,
                        help="rows the pruning scores run on, in all: max(32, budget // K) "
                             "per class (default 32,768)")
    parser.add_argument("--head-mb", type=float, default=256.0,
                        help="features of the head's L-BFGS start, in MB (default 256, "
                             "the library's HEAD_BYTES)")
    parser.add_argument("--steps", type=int, default=40,
                        help="fine-tuning mini-batches timed per configuration (default 40)")
    args = parser.parse_args()
    grid = QUICK_GRID if args.quick else GRID
    configs = [(k, m, WIDTH) for k, m in grid]
    if not args.quick:
        configs += [(100, 130_000, w) for w in WIDTHS]
    results = []
    header = (f"{'K':>5} {'m':>9} {'D':>3} " + " ".join(f"{p:>12}" for p in PHASES)
              + f" {'peak MB':>8} {'kept':>6}")
    # One small configuration first, not reported: it fills numba's disk cache, so no
    # configuration's times include the kernels' compilation.
    run_config(10, 5_000, WIDTH, args)
    print(header)
    for n_classes, m, width in configs:
        r = run_config(n_classes, m, width, args)
        results.append(r)
        print(f"{n_classes:>5} {m:>9} {width:>3} "
              + " ".join(f"{r['phases'][p]['seconds']:>11.2f}s" for p in PHASES)
              + f" {max(v['peak_mb'] for v in r['phases'].values()):>8.0f}"
              + f" {r['generators_kept']:>6}", flush=True)
    main_rows = [r for r in results if r["D"] == WIDTH]
    for r in results:
        r["phases"]["build"] = {"seconds": sum(r["phases"][p]["seconds"] for p in PHASES),
                                "peak_mb": max(r["phases"][p]["peak_mb"] for p in PHASES)}
    summary, fits = [], {}
    for name in (*PHASES, "build"):
        a, b, coef = exponents(main_rows, name)
        fits[name] = coef
        summary.append(metric(f"{name}: time exponent in m", a, "", "<= 1.1"))
        summary.append(metric(f"{name}: time exponent in K", b, "", "<= 1.1"))
    target = next((r for r in results if (r["K"], r["m"], r["D"]) == (1000, 1_300_000, 32)),
                  None)
    biggest = target or max(main_rows, key=lambda r: r["m"] * r["K"])
    where = f"K = {biggest['K']}, m = {biggest['m']:,}, D = {biggest['D']}"
    summary.append(metric(f"peak memory of the build after extraction ({where})",
                          biggest["phases"]["build"]["peak_mb"] / 1024, "GB", "<= 4"))
    summary.append(metric(f"pruning / per-class fits time ({where})",
                          biggest["phases"]["pruning"]["seconds"]
                          / biggest["phases"]["fits"]["seconds"], "x", "<= 1"))
    k, m = IMAGENET
    projection = []
    for cores in (1, 2, 8, 32):
        row = {"cores": cores}
        for name in PHASES:
            seconds = math.exp(fits[name] @ [1.0, math.log(m), math.log(k)])
            row[name] = round(seconds / (cores if name in PARALLEL else 1), 1)
        row["build (1 epoch)"] = round(sum(row[p] for p in PHASES), 1)
        projection.append(row)
    print("\nprojection to ImageNet (K = 1,000, m = 1,281,167, D = 32), seconds:")
    for row in projection:
        print("  " + ", ".join(f"{key} {value}" for key, value in row.items()))
    for s in summary:
        print(f"{s['metric']}: {s['value']:.3g} {s['unit']} (target {s['target']}, "
              f"{'met' if s['met'] else 'NOT met'})")
    rows = [{"K": r["K"], "m": r["m"], "D": r["D"], "shards": -(-r["m"] // SHARD_ROWS),
             **{f"{p} s": round(r["phases"][p]["seconds"], 2) for p in (*PHASES, "build")},
             **{f"{p} MB": round(r["phases"][p]["peak_mb"]) for p in (*PHASES, "build")},
             "pruning / fits": round(r["phases"]["pruning"]["seconds"]
                                     / r["phases"]["fits"]["seconds"], 2),
             "scored per class": r["score_samples"], "agreement": r.get("agreement"),
             "fitted": r["generators_fitted"], "kept": r["generators_kept"],
             "head rows": r["head_samples"],
             "steps timed": f"{r['steps_timed']}/{r['steps_per_epoch']}"}
            for r in results]
    exps = [{"phase": name, "exponent in m": round(exponents(main_rows, name)[0], 3),
             "exponent in K": round(exponents(main_rows, name)[1], 3)}
            for name in (*PHASES, "build")]
    write_results(
        "bench_scale", summary, quick=args.quick,
        tables=[{"title": "Time (s) and peak resident memory (MB) of each phase", "rows": rows},
                {"title": "Fitted exponents (log t = c + a log m + b log K)", "rows": exps},
                {"title": "Projection to ImageNet on N cores (s)", "rows": projection}],
        description=("VI-Net's build from memory-mapped shards of synthetic latents (K "
                     "quadric varieties in R^32), phase by phase, one thread; exponents in "
                     "m and K and a projection to ImageNet size."),
        settings={"score_budget": args.score_budget, "head_mb": args.head_mb,
                  "steps": args.steps, "threads": args.threads,
                  "per_phase_memory": all(r["per_phase_memory"] for r in results)},
    )


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--write":
        write_shards(Path(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
    elif len(sys.argv) > 1 and sys.argv[1] == "--worker":
        print(json.dumps(worker(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]),
                                int(sys.argv[5]))))
    else:
        main()
