"""Exact Buchberger–Möller: vinet's modular route against its Fraction route and Singular.

For m random rational points in 3 variables (coordinates a/b, a in [-20, 20], b in
[1, 10]; degrevlex) the table gives, measured in this run and interleaved:

* ``modular_s``: ``buchberger_moller(points, "degrevlex")`` (numba kernels modulo
  primes below 2**26, Chinese remaindering, rational reconstruction, exact
  certificate);
* ``fraction_s``: ``method="fraction"`` (Python ``Fraction`` arithmetic, the reference),
  for small m only; both results are checked to be equal;
* ``singular_interp_s`` / ``singular_std_s``: where a ``Singular`` binary is on PATH
  (Debian package ``singular``), its kernel command ``interpolation(l, v)`` (l the
  list of the points' maximal ideals, v all ones) and ``std(intersect(l[1], ...,
  l[m]))``, each timed inside Singular with ``rtimer``, so process start-up is
  excluded; ``*_over_vinet`` = Singular time / vinet time (> 1: vinet is faster);
* ``coef_bits``: the largest numerator or denominator of the border basis, in bits
  (the size of the exact answer, which bounds any exact method from below).

A second table times a 10 × 10 × 10 grid of rational points (1,000 points, small
coefficients).  Run ``python benchmarks/bench_exact.py`` (``--quick``: m ≤ 40;
``--full``: also m = 160 and 320 random points); it prints the tables and writes
``benchmarks/results/bench_exact.json``.
"""

from __future__ import annotations

import argparse
import math
import re
import shutil
import subprocess
import tempfile
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
from _results import metric, write_results

from algebra import buchberger_moller

ORDER = "degrevlex"


def random_points(m: int, seed: int = 0) -> np.ndarray:
    """m distinct random rational points in 3 variables, coordinates a/b."""
    rng = np.random.default_rng(seed)
    seen: set[tuple[Fraction, ...]] = set()
    while len(seen) < m:
        seen.add(tuple(Fraction(int(rng.integers(-20, 21)), int(rng.integers(1, 11)))
                       for _ in range(3)))
    return np.array(sorted(seen), dtype=object)


def grid_points(side: int = 10) -> np.ndarray:
    """The side³ grid with coordinates (k - side/2) / 3."""
    values = [Fraction(k - side // 2, 3) for k in range(side)]
    return np.array([[a, b, c] for a in values for b in values for c in values], dtype=object)


def best_of(fn, repeat: int) -> float:
    best = math.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def singular_times(points: np.ndarray, repeat: int, with_std: bool,
                   timeout: float) -> tuple[float, float]:
    """Best ``interpolation`` and ``std(intersect)`` seconds inside Singular (nan if absent)."""
    exe = shutil.which("Singular")
    if exe is None:
        return math.nan, math.nan
    ideals = ", ".join(
        "ideal(" + ", ".join(f"x{k}-({c})" for k, c in enumerate(row)) + ")" for row in points)
    m = len(points)
    std_part = ""
    if with_std:
        args = ", ".join(f"l[{i + 1}]" for i in range(m))
        std_part = f"""
int bs = -1;
for (i = 1; i <= {repeat}; i++) {{
  t0 = rtimer; ideal J = std(intersect({args})); t1 = rtimer;
  if (bs < 0 || t1 - t0 < bs) {{ bs = t1 - t0; }}
  kill J;
}}
print("std " + string(bs));"""
    script = f"""system("--ticks-per-sec", 1000000);
ring r = 0, (x0, x1, x2), dp;
list l = {ideals};
intvec v = {", ".join(["1"] * m)};
int i; int t0; int t1; int bi = -1;
for (i = 1; i <= {repeat}; i++) {{
  t0 = rtimer; ideal I = interpolation(l, v); t1 = rtimer;
  if (bi < 0 || t1 - t0 < bi) {{ bi = t1 - t0; }}
  kill I;
}}
print("interpolation " + string(bi));{std_part}
quit;
"""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sing"
        path.write_text(script, encoding="utf-8")
        try:
            out = subprocess.run([exe, "-q", str(path)], capture_output=True, text=True,
                                 timeout=timeout, check=False).stdout
        except subprocess.TimeoutExpired:
            return math.nan, math.nan
    found = dict(re.findall(r"^(interpolation|std) (\d+)$", out, flags=re.M))
    interp = int(found["interpolation"]) / 1e6 if "interpolation" in found else math.nan
    std = int(found["std"]) / 1e6 if "std" in found else math.nan
    return interp, std


def coef_bits(bb) -> int:
    return max(max(abs(c.numerator).bit_length(), c.denominator.bit_length())
               for c in bb.polynomials.coef.ravel() if c)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="m <= 40, fewer repeats")
    parser.add_argument("--full", action="store_true", help="also m = 160 and 320")
    args = parser.parse_args()
    sizes = [10, 20, 40] if args.quick else [10, 20, 40, 80]
    if args.full:
        sizes += [160, 320]
    repeat = 2 if args.quick else 3
    fraction_max = 40 if not args.full else 80
    std_max = 40
    buchberger_moller([[1, 2], [3, 4]])  # compile / load the kernels once

    rows = []
    head = (f"{'m':>5}{'modular s':>11}{'fraction s':>12}{'Sing. interp s':>16}"
            f"{'ratio':>7}{'Sing. std s':>13}{'ratio':>7}{'coef bits':>11}")
    print(head)
    for m in sizes:
        pts = random_points(m)
        reps = repeat if m <= 80 else 1
        # Interleave: Singular, vinet, Singular, vinet, ... and keep the best of each.
        t_mod, t_si, t_ss = math.inf, math.inf, math.inf
        bb = None
        for _ in range(reps):
            si, ss = singular_times(pts, 1, m <= std_max, timeout=600)
            t_si, t_ss = min(t_si, si), min(t_ss, ss)
            t0 = time.perf_counter()
            bb = buchberger_moller(pts, ORDER)
            t_mod = min(t_mod, time.perf_counter() - t0)
        t_si = math.nan if math.isinf(t_si) else t_si
        t_ss = math.nan if math.isinf(t_ss) else t_ss
        t_frac = math.nan
        if m <= fraction_max:
            ref = [None]

            def run_fraction(pts=pts, ref=ref) -> None:
                ref[0] = buchberger_moller(pts, ORDER, method="fraction")

            t_frac = best_of(run_fraction, 1 if m > 20 else repeat)
            assert ref[0].polynomials == bb.polynomials, f"m={m}: modular != fraction"
        bits = coef_bits(bb)
        row = {"m": m, "n": 3, "modular_s": t_mod, "fraction_s": t_frac,
               "singular_interp_s": t_si, "singular_std_s": t_ss,
               "interp_over_vinet": t_si / t_mod, "std_over_vinet": t_ss / t_mod,
               "coef_bits": bits, "border": len(bb.border)}
        rows.append(row)
        print(f"{m:>5}{t_mod:>11.4f}{t_frac:>12.4f}{t_si:>16.4f}{t_si / t_mod:>7.2f}"
              f"{t_ss:>13.4f}{t_ss / t_mod:>7.2f}{bits:>11}")

    grid_rows = []
    if not args.quick:
        pts = grid_points(10)
        si, _ = singular_times(pts, 1, False, timeout=120)
        t0 = time.perf_counter()
        bb = buchberger_moller(pts, ORDER)
        t_grid = time.perf_counter() - t0
        grid_rows.append({"m": len(pts), "n": 3, "modular_s": t_grid,
                          "singular_interp_s": si, "interp_over_vinet": si / t_grid,
                          "coef_bits": coef_bits(bb), "border": len(bb.border)})
        shown = f"{si:.3f} s" if not math.isnan(si) else "not finished in 120 s (or absent)"
        print(f"grid 10x10x10: modular {t_grid:.3f} s, Singular interpolation {shown}, "
              f"coefficient bits {grid_rows[0]['coef_bits']}")

    # Time exponent in m over the random sets (log-log fit).
    ms = [r["m"] for r in rows]
    exponent = float(np.polyfit(np.log(ms), np.log([r["modular_s"] for r in rows]), 1)[0])
    bit_exp = float(np.polyfit(np.log(ms), np.log([r["coef_bits"] for r in rows]), 1)[0])
    summary = []
    top = max((r for r in rows if r["m"] <= 80), key=lambda r: r["m"])
    if not math.isnan(top["singular_interp_s"]):
        summary.append(metric(
            f"m = {top['m']} random rational points, n = 3: Singular interpolation time / "
            f"vinet time", top["interp_over_vinet"], "x", ">= 1"))
    summary.append(metric(f"m = {top['m']} random rational points, n = 3: vinet seconds",
                          top["modular_s"], "s"))
    if grid_rows:
        summary.append(metric("1,000 points (10 x 10 x 10 rational grid), n = 3: vinet seconds",
                              grid_rows[0]["modular_s"], "s", "<= 10"))
    summary.append(metric("random points: fitted exponent of time in m", exponent, ""))
    summary.append(metric("random points: fitted exponent of coefficient bits in m",
                          bit_exp, ""))
    tables = [{"title": "Random rational points in 3 variables, degrevlex", "rows": rows}]
    if grid_rows:
        tables.append({"title": "A 10 x 10 x 10 grid of rational points, degrevlex",
                       "rows": grid_rows})
    write_results(
        "bench_exact",
        summary,
        tables=tables,
        quick=args.quick,
        description="Exact Buchberger-Moller: vinet's modular route against its Fraction "
                    "route and Singular's interpolation and std(intersect), same run.",
        singular=shutil.which("Singular") is not None,
    )


if __name__ == "__main__":
    main()
