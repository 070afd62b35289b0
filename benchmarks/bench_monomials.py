"""Chain-kernel monomial evaluation and Jacobians against plain numpy, and exact BM scaling.

Rows of the table (all measured in this run, on this machine):

* ``monomials``: :func:`algebra.evaluate_monomials` (numba chain, one multiply per
  monomial) against numpy's ``prod(X[:, None, :] ** E, axis=2)``; ratio = numpy time /
  chain time (> 1 means the chain is faster).  The serial and parallel kernels are
  timed separately by calling them directly.
* ``gradient``: :meth:`algebra.PolynomialSet.gradient` against the numpy Jacobian
  ``Σ_i c_i a_ik x^(a_i - e_k)`` built from numpy powers.
* ``exact BM``: :func:`algebra.buchberger_moller` seconds for m random integer points in
  3 variables, and the ratio to the smallest m (the algorithm is O(n m^3) Fraction
  operations).

Run ``python benchmarks/bench_monomials.py`` (``--quick`` for a short run).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from algebra import PolynomialSet, all_monomials, buchberger_moller, monomial_chain
from algebra._kernels import eval_chain, eval_chain_parallel


def best_time(fn, repeat: int) -> float:
    """The best wall time of ``repeat`` calls after one warm-up call."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


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

    print(f"{'case':<34}{'vinet s':>10}{'numpy s':>10}{'ratio':>8}")
    for n, d in [(4, 4), (8, 3), (16, 2)]:
        E = all_monomials(n, d)
        X = rng.uniform(-1, 1, size=(m, n))
        parent, var = monomial_chain(E)
        out = np.empty((m, len(E)))
        t_np = best_time(lambda X=X, E=E: np.prod(X[:, None, :] ** E[None], axis=2), repeat)
        for name, kernel in (("serial", eval_chain), ("parallel", eval_chain_parallel)):
            t = best_time(lambda k=kernel, X=X, p=parent, v=var, o=out: k(X, p, v, o), repeat)
            label = f"monomials n={n} d={d} t={len(E)} {name}"
            print(f"{label:<34}{t:>10.4f}{t_np:>10.4f}{t_np / t:>8.1f}")

    for n, d, p in [(4, 3, 16), (8, 3, 32)]:
        E = all_monomials(n, d)
        coef = rng.standard_normal((len(E), p))
        P = PolynomialSet(E, coef)
        X = rng.uniform(-1, 1, size=(m // 10, n))
        t = best_time(lambda P=P, X=X: P.gradient(X), repeat)
        t_np = best_time(lambda X=X, E=E, c=coef: numpy_jacobian(X, E, c), repeat)
        label = f"gradient n={n} d={d} p={p}"
        print(f"{label:<34}{t:>10.4f}{t_np:>10.4f}{t_np / t:>8.1f}")

    sizes = [10, 20] if args.quick else [10, 20, 40]
    base = None
    for size in sizes:
        pts = np.unique(rng.integers(-20, 21, size=(size, 3)), axis=0)
        t = best_time(lambda pts=pts: buchberger_moller(pts, "degrevlex"), 1)
        base = base or t
        print(f"{'exact BM m=' + str(len(pts)) + ' n=3':<34}{t:>10.4f}{'':>10}{t / base:>8.1f}")


if __name__ == "__main__":
    main()
