"""Numba kernels of the modular Buchberger–Möller algorithm (plain functions, never validate).

Arithmetic is in the prime field ``F_p`` with ``p < 2**26``, in float64, as in the
exact linear algebra of FFLAS-FFPACK (Dumas, Giorgi & Pernet, "Dense linear algebra
over word-size prime fields", ACM TOMS 2008): residues are integers in ``[0, p)``
stored as doubles, so ``a + f * b < 2**53`` is computed exactly, and the remainder
``y - floor(y / p) * p`` with one correction each way is exact too.  Unlike an integer
division by a run-time divisor, these loops vectorise (SIMD): an ``axpy`` modulo ``p``
costs a fraction of a nanosecond per entry instead of several.
:mod:`algebra._modular` validates, drives and certifies.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import prange

from algebra._kernels import jit_pair

__all__ = [
    "PRIME_LIMIT",
    "bm_step",
    "invmod",
    "point_residues",
    "solve_border",
    "solve_border_parallel",
]

#: Every prime used is below this: a residue product plus a residue stays below 2**53.
PRIME_LIMIT = 2**26


@numba.njit(cache=True, inline="always")
def _reduce(y: float, p: float, pinv: float) -> float:
    """``y mod p`` for an exact integer ``0 <= y < 2**53`` held in a double (``pinv = 1/p``)."""
    r = y - np.floor(y * pinv) * p
    # floor(y * pinv) may be one off when y / p is within rounding of an integer.
    r = r + p if r < 0.0 else r
    return r - p if r >= p else r


@numba.njit(cache=True, inline="always")
def _axpy(y: np.ndarray, f: float, x: np.ndarray, start: int, p: float, pinv: float) -> None:
    """``y[start:] = (y[start:] + f * x[start:]) mod p``, vectorised."""
    for i in range(start, y.shape[0]):
        y[i] = _reduce(y[i] + f * x[i], p, pinv)


@numba.njit(cache=True)
def invmod(a: int, p: int) -> int:
    """The inverse of ``a`` modulo the prime ``p`` (extended Euclid); 0 has none (returns 0)."""
    t, new_t = 0, 1
    r, new_r = p, a % p
    while new_r != 0:
        q = r // new_r
        t, new_t = new_t, t - q * new_t
        r, new_r = new_r, r - q * new_r
    if r != 1:
        return 0
    return t + p if t < 0 else t


@numba.njit(cache=True)
def point_residues(num: np.ndarray, den: np.ndarray, p: int, out: np.ndarray) -> bool:
    """``out = num / den mod p`` entrywise (float64); False if ``p`` divides a denominator.

    ``num`` and ``den`` (m, n) int64 hold the residues of the numerators and
    denominators modulo ``p`` already, in ``[0, p)``.
    """
    m, n = num.shape
    for i in range(m):
        for k in range(n):
            d = den[i, k]
            if d == 0:
                return False
            out[i, k] = np.float64(num[i, k] * invmod(d, p) % p)
    return True


@numba.njit(cache=True)
def bm_step(
    X: np.ndarray, vals: np.ndarray, R: np.ndarray, piv: np.ndarray, k: int,
    parent: int, var: int, p: int,
) -> bool:
    """One term of Buchberger–Möller over ``F_p``: does it join the order ideal?

    The evaluation vectors of the ``k`` terms of ``O`` found so far are ``vals[:k]``
    (rows, length m), and ``R[:k]`` is their span in *reduced* row echelon form, row
    ``j`` with a 1 at column ``piv[j]`` and 0 at every other pivot.  The new term's
    vector is ``v = vals[parent] * X[:, var]`` (all ones for ``parent < 0``); since
    ``R`` is reduced, its remainder is ``r = v - Σ_j v[piv[j]] R[j]`` (Marinari, Möller
    & Mora 1993, §3, over a prime field).  A nonzero ``r`` is normalised at its first
    nonzero entry and appended (``vals[k] = v``, ``R[k] = r``), and that column is
    cleared from the earlier rows so ``R`` stays reduced; the return value says which.
    All arrays are float64 residues.
    """
    m = X.shape[0]
    pf = np.float64(p)
    pinv = 1.0 / pf
    v = vals[k]
    if parent < 0:
        v[:] = 1.0
    else:
        for i in range(m):
            v[i] = _reduce(vals[parent, i] * X[i, var], pf, pinv)
    r = R[k]
    r[:] = v
    for j in range(k):
        a = v[piv[j]]
        if a != 0.0:
            _axpy(r, pf - a, R[j], 0, pf, pinv)
    lead = -1
    for i in range(m):
        if r[i] != 0.0:
            lead = i
            break
    if lead < 0:
        return False
    inv = np.float64(invmod(np.int64(r[lead]), p))
    for i in range(m):
        r[i] = _reduce(r[i] * inv, pf, pinv)
    for j in range(k):
        f = R[j, lead]
        if f != 0.0:
            _axpy(R[j], pf - f, r, 0, pf, pinv)
    piv[k] = lead
    return True


def _solve_border(
    X: np.ndarray, primes: np.ndarray, parent: np.ndarray, var: np.ndarray,
    o_rows: np.ndarray, b_rows: np.ndarray, vals: np.ndarray, aug: np.ndarray,
    coords: np.ndarray, det: np.ndarray, ok: np.ndarray,
) -> None:
    """Normal forms of the border terms modulo each prime of a batch (in parallel: one thread each).

    For prime ``q``: the monomials of ``terms`` (the chain ``parent``, ``var``) are
    evaluated at the points ``X[q]`` (m, n) into ``vals[q]`` (t, m); ``V`` (m, m)
    holds the columns ``o_rows`` (the order ideal), ``W`` (m, b) the columns
    ``b_rows`` (the border), and ``[V | W]`` is solved by Gaussian elimination in
    ``aug[q]``, so ``coords[q] = V⁻¹ W`` (int64) holds, column ``j``, the coordinates
    of ``NF(border[j])`` on ``O``.  ``det[q] = det V mod p``; ``ok[q]`` is False where
    ``V`` is singular modulo ``p`` (an unlucky prime for this ``O``).  ``X``, ``vals``
    and ``aug`` are float64 residues.
    """
    n_primes = primes.shape[0]
    t = parent.shape[0]
    m = X.shape[1]
    nb = b_rows.shape[0]
    w = m + nb
    for q in prange(n_primes):
        p = primes[q]
        pf = np.float64(p)
        pinv = 1.0 / pf
        val = vals[q]
        x = X[q]
        for i in range(t):
            par = parent[i]
            if par < 0:
                val[i, :] = 1.0
            else:
                v = var[i]
                for r in range(m):
                    val[i, r] = _reduce(val[par, r] * x[r, v], pf, pinv)
        A = aug[q]
        for r in range(m):
            for c in range(m):
                A[r, c] = val[o_rows[c], r]
            for j in range(nb):
                A[r, m + j] = val[b_rows[j], r]
        d = 1.0
        good = True
        for c in range(m):
            pr = -1
            for r in range(c, m):
                if A[r, c] != 0.0:
                    pr = r
                    break
            if pr < 0:
                good = False
                break
            if pr != c:
                for cc in range(c, w):
                    tmp = A[c, cc]
                    A[c, cc] = A[pr, cc]
                    A[pr, cc] = tmp
                d = pf - d
            d = _reduce(d * A[c, c], pf, pinv)
            inv = np.float64(invmod(np.int64(A[c, c]), p))
            row_c = A[c]
            for cc in range(c, w):
                row_c[cc] = _reduce(row_c[cc] * inv, pf, pinv)
            for r in range(c + 1, m):
                f = A[r, c]
                if f != 0.0:
                    _axpy(A[r], pf - f, row_c, c, pf, pinv)
        ok[q] = good
        det[q] = np.int64(d) if good else 0
        if not good:
            continue
        # Back substitution on the right-hand sides (V is now unit upper triangular).
        for c in range(m - 1, 0, -1):
            row_c = A[c]
            for r in range(c):
                f = A[r, c]
                if f != 0.0:
                    _axpy(A[r], pf - f, row_c, m, pf, pinv)
        for r in range(m):
            for j in range(nb):
                coords[q, r, j] = np.int64(A[r, m + j])


solve_border, solve_border_parallel = jit_pair(_solve_border)
