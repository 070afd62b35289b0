"""Chain-kernel monomial evaluation and Jacobians against plain numpy, and exact BM scaling.

Rows of the table (all measured in this run, on this machine):

* ``monomials``: :func:`algebra.evaluate_monomials` (numba chain, one multiply per
  monomial) against numpy's ``prod(X[:, None, :] ** E, axis=2)``; ratio = numpy time /
  chain time (> 1 means the chain is faster).  Timed on one thread and on every core
  (:func:`algebra.thread_budget`).
* ``gradient``: :meth:`algebra.PolynomialSet.gradient` against the numpy Jacobian
  ``Σ_i c_i a_ik x^(a_i - e_k)`` built from numpy powers.
* ``exact BM``: :func:`algebra.buchberger_moller` seconds for m random integer points in
  3 variables, and the ratio to the smallest m (the modular route: O(m^3) word-size
  operations per prime, the number of primes growing with the coefficients;
  ``bench_exact.py`` compares it with the Fraction route and with Singular).

Run ``python benchmarks/bench_monomials.py`` (``--quick`` for a short run); prints the
table and writes ``benchmarks/results/bench_monomials.json`` (see README.md).
"""

from __future__ import annotations

import argparse

import numpy as np
from _results import metric, write_results
from _timing import best_time

from algebra import (
    PolynomialSet,
    all_monomials,
    buchberger_moller,
    evaluate_monomials,
    thread_budget,
)
from algebra._threads import available_cores


def seconds(fn, repeat: int) -> float:
    """The best wall time of ``repeat`` calls after one warm-up call."""
    return best_time(fn, repeat, warmup=True)[0]


def numpy_jacobian(X: np.ndarray, E: np.ndarray, coef: np.ndarray) -> np.ndarray:
    out = np.empty((X.shape[0], coef.shape[1], X.shape[1]))
    for k in range(X.shape[1]):
        lowered = E.copy()
        lowered[:, k] = np.maximum(lowered[:, k] - 1, 0)
        out[:, :, k] = (np.prod(X[:, None, :] ** lowered[None], axis=2) * E[:, k]) @ coef
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer repeats")
    args = parser.parse_args()
    m = 20_000 if args.quick else 100_000
    repeat = 2 if args.quick else 5
    rng = np.random.default_rng(0)
    monomial_rows, gradient_rows, bm_rows = [], [], []

    print(f"{'case':<34}{'vinet s':>10}{'numpy s':>10}{'ratio':>8}")
    for n, d in [(4, 4), (8, 3), (16, 2)]:
        E = all_monomials(n, d)
        X = rng.uniform(-1, 1, size=(m, n))
        t_np = seconds(lambda X=X, E=E: np.prod(X[:, None, :] ** E[None], axis=2), repeat)
        for name, threads in (("1 thread", 1), (f"{available_cores()} threads", None)):
            with thread_budget(threads):
                t = seconds(lambda X=X, E=E: evaluate_monomials(X, E), repeat)
            label = f"monomials n={n} d={d} t={len(E)} {name}"
            print(f"{label:<34}{t:>10.4f}{t_np:>10.4f}{t_np / t:>8.1f}")
            monomial_rows.append({"m": m, "n": n, "degree": d, "terms": len(E),
                                  "kernel": name, "vinet_s": t, "numpy_s": t_np,
                                  "numpy_over_vinet": t_np / t})

    for n, d, p in [(4, 3, 16), (8, 3, 32)]:
        E = all_monomials(n, d)
        coef = rng.standard_normal((len(E), p))
        P = PolynomialSet(E, coef)
        X = rng.uniform(-1, 1, size=(m // 10, n))
        t = seconds(lambda P=P, X=X: P.gradient(X), repeat)
        t_np = seconds(lambda X=X, E=E, c=coef: numpy_jacobian(X, E, c), repeat)
        label = f"gradient n={n} d={d} p={p}"
        print(f"{label:<34}{t:>10.4f}{t_np:>10.4f}{t_np / t:>8.1f}")
        gradient_rows.append({"m": m // 10, "n": n, "degree": d, "polys": p, "vinet_s": t,
                              "numpy_s": t_np, "numpy_over_vinet": t_np / t})

    sizes = [10, 20] if args.quick else [10, 20, 40]
    base = None
    for size in sizes:
        pts = np.unique(rng.integers(-20, 21, size=(size, 3)), axis=0)
        t = seconds(lambda pts=pts: buchberger_moller(pts, "degrevlex"), 1)
        base = base or t
        print(f"{'exact BM m=' + str(len(pts)) + ' n=3':<34}{t:>10.4f}{'':>10}{t / base:>8.1f}")
        bm_rows.append({"points": len(pts), "n": 3, "seconds": t, "ratio_to_smallest": t / base})

    # Fitted exponent of time against m on a log-log scale.
    exponent = np.polyfit(np.log([r["points"] for r in bm_rows]),
                          np.log([r["seconds"] for r in bm_rows]), 1)[0]
    serial = [r["numpy_over_vinet"] for r in monomial_rows if r["kernel"] == "1 thread"]
    parallel = [r["numpy_over_vinet"] for r in monomial_rows if r["kernel"] != "1 thread"]
    write_results(
        "bench_monomials",
        [
            metric("monomials: numpy time / numba chain time, 1 thread, min over shapes",
                   min(serial), "x"),
            metric("monomials: numpy time / numba chain time, all cores, min over shapes",
                   min(parallel), "x"),
            metric("Jacobian: numpy time / PolynomialSet.gradient time, min over shapes",
                   min(r["numpy_over_vinet"] for r in gradient_rows), "x"),
            metric("exact Buchberger-Moller: fitted exponent of time in m (n = 3)",
                   exponent, ""),
        ],
        tables=[
            {"title": f"Monomial evaluation, m = {m} points", "rows": monomial_rows},
            {"title": f"Jacobian of p polynomials, m = {m // 10} points",
             "rows": gradient_rows},
            {"title": "Exact Buchberger-Moller, random integer points in 3 variables",
             "rows": bm_rows},
        ],
        quick=args.quick,
        description="The numba monomial chain and Jacobian against plain numpy powers, and "
                    "the scaling of exact Buchberger-Moller.",
    )


if __name__ == "__main__":
    main()
