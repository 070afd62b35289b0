"""OAVI and ABM at scale: fit and transform time, peak memory, generators, time exponent.

The data is a noisy synthetic variety: the twisted cubic ``(t, t², t³)``, ``t`` uniform in
``[−1, 1]``, plus Gaussian noise of standard deviation 0.005; for ``n = 10`` the same
curve is mapped into ``R¹⁰`` by a random orthonormal ``10 × 3`` matrix (a curve in a
3-dimensional subspace, like PCA'd latent features).  ψ = 10⁻⁴ throughout.

For every method (ABM; OAVI with the BPCG oracle and weak inverse-Hessian boosting),
``n ∈ {3, 10}`` and ``m ∈ {10⁴, 10⁵, 10⁶}`` the script reports the best of a few fit
times and the transform time of :class:`~algebra.VanishingIdealTransformer` (fitted
without labels, so ``|G(X)|`` for one generator set) on the same ``m`` points, the
peak memory of one fit above the data (``tracemalloc``, which sees numpy's
allocations), the number of generators and of order-ideal terms, and, per method and
``n``, the exponent ``b`` of a least-squares fit
``time ≈ a · m^b`` over the three sizes.

Targets (issue 3, on a 2-core machine): 10⁶ × 3 fitted by OAVI in ≤ 1.5 s and by ABM in
≤ 0.8 s, transform of 10⁶ points in ≤ 0.25 s, time exponent ≤ 1.1.

Run ``python benchmarks/bench_algebra.py`` (``--quick``: m up to 10⁵); prints the table
and writes ``benchmarks/results/bench_algebra.json`` (see README.md).
"""

from __future__ import annotations

import argparse
import time
import tracemalloc

import numpy as np
from _results import metric, write_results
from sklearn.base import clone

from algebra import VanishingIdealTransformer

PSI = 1e-4
NOISE = 0.005

#: Fits go through the scikit-learn transformer, the user-facing path (its input
#: validation included); its transform is |G(X)| by one fused numba pass.
METHODS = {
    "abm": VanishingIdealTransformer(method="abm", psi=PSI),
    "oavi (bpcg, weak IHB)": VanishingIdealTransformer(method="oavi", psi=PSI, oracle="bpcg",
                                                       ihb="weak"),
}


def variety(m: int, n: int, seed: int = 0) -> np.ndarray:
    """``m`` noisy points of the twisted cubic, in ``n ≥ 3`` dimensions."""
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, m)
    X = np.column_stack([t, t**2, t**3])
    if n > 3:
        Q = np.linalg.qr(rng.normal(size=(n, 3)))[0]  # orthonormal columns
        X = X @ Q.T
    return np.ascontiguousarray(X + rng.normal(scale=NOISE, size=(m, n)))


def best_time(fn, repeat: int) -> tuple[float, object]:
    """Best wall time of ``repeat`` calls and the last result."""
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def peak_mb(fn) -> float:
    """Peak traced memory (MB) of one call, above what was allocated before it."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return (peak - base) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="m up to 1e5 only")
    args = parser.parse_args()
    sizes = [10**4, 10**5] if args.quick else [10**4, 10**5, 10**6]
    # Warm-up: load (or compile) every numba kernel before timing.
    for est in METHODS.values():
        for m in (2000, 30_000):
            est.fit(variety(m, 3)).transform(variety(m, 3))
    rows = []
    print(f"{'method':<22} {'n':>3} {'m':>8} {'fit s':>8} {'transform s':>12} "
          f"{'peak MB':>8} {'gens':>5} {'|O|':>4}")
    for name, est in METHODS.items():
        for n in (3, 10):
            for m in sizes:
                X = variety(m, n)
                repeat = 3 if m < 10**6 else 2
                fit_s, fitted = best_time(lambda X=X, est=est: clone(est).fit(X), repeat)
                G = fitted.polynomials_
                transform_s, _ = best_time(lambda X=X, f=fitted: f.transform(X), repeat)
                mem = peak_mb(lambda X=X, est=est: clone(est).fit(X))
                row = {"method": name, "n": n, "m": m, "fit_s": round(fit_s, 4),
                       "transform_s": round(transform_s, 4), "peak_mb": round(mem, 1),
                       "generators": len(G), "order_ideal": int(G.order_ideal.shape[0])}
                rows.append(row)
                print(f"{name:<22} {n:>3} {m:>8} {fit_s:>8.3f} {transform_s:>12.3f} "
                      f"{mem:>8.1f} {len(G):>5} {G.order_ideal.shape[0]:>4}", flush=True)
    exponents = {}
    for name in METHODS:
        for n in (3, 10):
            sel = [r for r in rows if r["method"] == name and r["n"] == n]
            b = np.polyfit(np.log([r["m"] for r in sel]), np.log([r["fit_s"] for r in sel]), 1)[0]
            exponents[(name, n)] = float(b)
            print(f"time exponent in m, {name}, n={n}: {b:.2f}")
    big = max(sizes)

    def at(name: str, key: str) -> float:
        return next(r[key] for r in rows if r["method"] == name and r["n"] == 3 and r["m"] == big)

    oavi, abm = "oavi (bpcg, weak IHB)", "abm"
    tag = f"{big:.0e} x 3".replace("+0", "")
    summary = [
        metric(f"OAVI fit, {tag}", at(oavi, "fit_s"), "s", "<= 1.5" if big == 10**6 else None),
        metric(f"ABM fit, {tag}", at(abm, "fit_s"), "s", "<= 0.8" if big == 10**6 else None),
        metric(f"transform of {big:.0e} points (OAVI generators, n=3)".replace("+0", ""),
               at(oavi, "transform_s"), "s", "<= 0.25" if big == 10**6 else None),
        metric("time exponent in m, max over methods and n", max(exponents.values()), "",
               "<= 1.1"),
        metric("peak fit memory above the data, max over runs",
               max(r["peak_mb"] for r in rows), "MB", None),
    ]
    write_results(
        "bench_algebra", summary, rows=rows, quick=args.quick,
        description="OAVI (BPCG, weak IHB) and ABM on a noisy twisted cubic, psi = 1e-4: "
                    "fit and transform time, peak memory, generators, time exponent in m.",
        exponents=[{"method": k[0], "n": k[1], "exponent": v} for k, v in exponents.items()],
    )


if __name__ == "__main__":
    main()
