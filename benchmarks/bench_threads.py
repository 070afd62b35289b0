"""The thread budget under load: the 10⁶-point OAVI fit with the cores free and busy.

The fit of ``bench_algebra.py`` (OAVI with BPCG and weak IHB, ψ = 10⁻⁴, on 10⁶ noisy
points of the twisted cubic in 3 variables) is timed with algebra's default budget
(every available core) and with :func:`algebra.thread_budget` of one thread,
alternately, first with the machine as it is, then while one busy-looping process per
core (``python -c "while True: pass"``, started and killed by this script) competes for
every core.  Reported: best, median and worst of the repeats.

Before issue 12 the same fit took 0.25–0.35 s with the cores free and 0.79–9.4 s while
they were busy (numba's OpenMP threads and BLAS's threads oversubscribing them), against
0.19–0.23 s on one thread.  Target: with the cores busy the default budget is no slower
than one thread (median ratio ≤ 1), so nobody has to set a budget to avoid the collapse.

Run ``python benchmarks/bench_threads.py`` (``--quick``: fewer repeats); prints the table
and writes ``benchmarks/results/bench_threads.json`` (see README.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np
from _results import metric, write_results
from bench_algebra import PSI, variety

from algebra import fit_oavi, thread_budget
from algebra._threads import available_cores


def series(X: np.ndarray, repeat: int) -> dict[str, list[float]]:
    """Fit times, the default budget and one thread alternately, ``repeat`` each."""
    times: dict[str, list[float]] = {"default": [], "1 thread": []}
    for _ in range(repeat):
        for label, threads in (("default", None), ("1 thread", 1)):
            with thread_budget(threads):
                t0 = time.perf_counter()
                fit_oavi(X, psi=PSI)
                times[label].append(time.perf_counter() - t0)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 repeats instead of 9")
    args = parser.parse_args()
    repeat = 3 if args.quick else 9
    cores = available_cores()
    X = variety(10**6, 3)
    fit_oavi(X[:30_000], psi=PSI)  # load the kernels
    results = {"free": series(X, repeat)}
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"])
               for _ in range(cores)]
    try:
        time.sleep(0.5)
        results["busy"] = series(X, repeat)
    finally:
        for proc in burners:
            proc.kill()
            proc.wait()
    rows = []
    print(f"{'cores':<6} {'budget':<18} {'best s':>8} {'median s':>9} {'worst s':>8}")
    for state, times in results.items():
        for label, values in times.items():
            budget = f"default ({cores})" if label == "default" else label
            row = {"cores": state, "budget": budget, "best_s": round(min(values), 3),
                   "median_s": round(float(np.median(values)), 3),
                   "worst_s": round(max(values), 3), "repeats": len(values)}
            rows.append(row)
            print(f"{state:<6} {budget:<18} {row['best_s']:>8.3f} {row['median_s']:>9.3f} "
                  f"{row['worst_s']:>8.3f}", flush=True)

    def median(state: str, label: str) -> float:
        return float(np.median(results[state][label]))

    summary = [
        metric(f"OAVI fit 1e6 x 3, {cores} cores busy: median, default budget / one thread",
               median("busy", "default") / median("busy", "1 thread"), "x", "<= 1"),
        metric(f"OAVI fit 1e6 x 3, {cores} cores busy: worst time, default budget",
               max(results["busy"]["default"]), "s", None),
        metric(f"OAVI fit 1e6 x 3, {cores} cores busy / free: median, default budget",
               median("busy", "default") / median("free", "default"), "x", None),
        metric("OAVI fit 1e6 x 3, cores free: median, default budget / one thread",
               median("free", "default") / median("free", "1 thread"), "x", None),
    ]
    write_results(
        "bench_threads", summary, rows=rows, quick=args.quick,
        description="The 1e6-point OAVI fit with the default thread budget and with one "
                    "thread, alternately, with the cores free and with one busy-looping "
                    "process per core.",
    )


if __name__ == "__main__":
    main()
