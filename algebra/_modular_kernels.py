"""Numba kernels of the modular Buchberger–Möller algorithm (plain functions, never validate).

Arithmetic is in the prime field ``F_p`` with ``p < 2**22``, in float64, as in the
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

__all__ = [
    "PRIME_LIMIT",
    "bm_step",
    "invmod",
    "point_residues",
    "solve_border",
]

#: Every prime used is below this: a sum of BLOCK = 256 products of residues, plus a
#: residue, stays below 2**53, so float64 (and BLAS) compute it exactly.
PRIME_LIMIT = 2**22


@numba.njit(cache=True, inline="always")
def _reduce(y: float, p: float, pinv: float) -> float:
    """``y mod p`` for an exact integer ``0 <= y < 2**53`` held in a double (``pinv = 1/p``)."""
    r = y - np.floor(y * pinv) * p
    # floor(y * pinv) may be one off when y / p is within rounding of an integer.
    r = r + p if r < 0.0 else r
    return r - p if r >= p else r


@numba.njit(cache=True, inline="always")
def _axpy(y: np.ndarray, f: float, x: np.ndarray, p: float, pinv: float) -> None:
    """``y = (y + f * x) mod p``, vectorised.

    Callers pass slices (``A[r, c:]``) rather than a start index: a loop from 0 over a
    view vectorises, a loop from a run-time start did not (several times slower).
    """
    for i in range(y.shape[0]):
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
            _axpy(r, pf - a, R[j], pf, pinv)
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
            _axpy(R[j], pf - f, r, pf, pinv)
    piv[k] = lead
    return True


#: Up to this many points the LU runs unblocked: small BLAS products cost more than
#: they save.
UNBLOCKED_MAX = 384
#: Columns per panel of the blocked LU: a panel's update is one BLAS product of inner
#: dimension BLOCK, whose sums of BLOCK products of residues stay below 2**53.
BLOCK = 256


@numba.njit(cache=True)
def _reduce_block(A: np.ndarray, P: np.ndarray, r0: int, c0: int, p: float,
                  pinv: float) -> None:
    """``A[r0:, c0:] = (A[r0:, c0:] - P) mod p`` for an exact integer product ``P``."""
    rows, cols = P.shape
    for i in range(rows):
        row = A[r0 + i, c0:c0 + cols]
        prow = P[i]
        for j in range(cols):
            y = row[j] - prow[j]
            r = y - np.floor(y * pinv) * p
            r = r + p if r < 0.0 else r
            row[j] = r - p if r >= p else r


@numba.njit(cache=True)
def _lu_solve(A: np.ndarray, m: int, p: int, block: int) -> tuple[bool, int]:
    """Solve ``V C = W`` in place for ``A = [V | W]`` (m × w) modulo ``p``: (ok, det V).

    Blocked right-looking LU with partial (nonzero) pivoting, as LAPACK's ``getrf``
    and FFLAS-FFPACK's modular LU: each panel of ``block <= BLOCK`` columns is factored
    unblocked, then the rest of the matrix is updated with one float64 matrix product
    (BLAS, exact: every entry of it is an integer below ``2**53``) and reduced modulo
    ``p``; back substitution is blocked the same way.  On success ``A[:, m:]`` holds
    ``C``.  Memory traffic, not arithmetic, bounds the unblocked elimination beyond a
    few hundred points; the blocked one runs at matrix-product speed.
    """
    pf = np.float64(p)
    pinv = 1.0 / pf
    w = A.shape[1]
    det = 1.0
    for c0 in range(0, m, block):
        c1 = min(c0 + block, m)
        # Panel factorisation (getf2) on columns [c0, c1): multipliers stored below.
        for c in range(c0, c1):
            pr = -1
            for r in range(c, m):
                if A[r, c] != 0.0:
                    pr = r
                    break
            if pr < 0:
                return False, 0
            if pr != c:
                for j in range(w):
                    tmp = A[c, j]
                    A[c, j] = A[pr, j]
                    A[pr, j] = tmp
                det = pf - det if det != 0.0 else 0.0
            det = _reduce(det * A[c, c], pf, pinv)
            inv = np.float64(invmod(np.int64(A[c, c]), p))
            row_c = A[c, c + 1:c1]
            for r in range(c + 1, m):
                if A[r, c] != 0.0:
                    f = _reduce(A[r, c] * inv, pf, pinv)
                    A[r, c] = f
                    _axpy(A[r, c + 1:c1], pf - f, row_c, pf, pinv)
        if c1 == w:
            continue
        # U12 = L11^-1 A12 on the panel's rows (forward substitution).
        for c in range(c0, c1):
            for r in range(c + 1, c1):
                f = A[r, c]
                if f != 0.0:
                    _axpy(A[r, c1:w], pf - f, A[c, c1:w], pf, pinv)
        if c1 < m:
            L21 = np.ascontiguousarray(A[c1:m, c0:c1])
            U12 = np.ascontiguousarray(A[c0:c1, c1:w])
            _reduce_block(A, np.dot(L21, U12), c1, c1, pf, pinv)
    # Back substitution U C = Y, by blocks of rows from the bottom.
    nb = w - m
    for c1 in range(m, 0, -block):
        c0 = max(c1 - block, 0)
        for c in range(c1 - 1, c0 - 1, -1):
            inv = np.float64(invmod(np.int64(A[c, c]), p))
            row_c = A[c, m:w]
            for j in range(nb):
                row_c[j] = _reduce(row_c[j] * inv, pf, pinv)
            for r in range(c0, c):
                f = A[r, c]
                if f != 0.0:
                    _axpy(A[r, m:w], pf - f, row_c, pf, pinv)
        if c0 > 0 and nb > 0:
            U = np.ascontiguousarray(A[0:c0, c0:c1])
            Y = np.ascontiguousarray(A[c0:c1, m:w])
            _reduce_block(A, np.dot(U, Y), 0, m, pf, pinv)
    return True, np.int64(det)


@numba.njit(cache=True)
def solve_border(
    X: np.ndarray, primes: np.ndarray, parent: np.ndarray, var: np.ndarray,
    o_rows: np.ndarray, b_rows: np.ndarray, vals: np.ndarray, aug: np.ndarray,
    coords: np.ndarray, det: np.ndarray, ok: np.ndarray,
) -> None:
    """Normal forms of the border terms modulo each prime of a batch.

    For prime ``q``: the monomials of ``terms`` (the chain ``parent``, ``var``) are
    evaluated at the points ``X[q]`` (m, n) into ``vals`` (t, m); ``V`` (m, m) holds
    the columns ``o_rows`` (the order ideal), ``W`` (m, b) the columns ``b_rows``
    (the border), and ``[V | W]`` is solved in ``aug`` (m, m + b) by
    :func:`_lu_solve`, so ``coords[q] = V⁻¹ W`` (int64) holds, column ``j``, the
    coordinates of ``NF(border[j])`` on ``O``.  ``det[q] = det V mod p``; ``ok[q]`` is
    False where ``V`` is singular modulo ``p`` (an unlucky prime for this ``O``).
    ``X``, ``vals`` and ``aug`` are float64 residues; the primes run one after the
    other (the matrix products use BLAS's threads).
    """
    t = parent.shape[0]
    m = X.shape[1]
    nb = b_rows.shape[0]
    for q in range(primes.shape[0]):
        p = primes[q]
        pf = np.float64(p)
        pinv = 1.0 / pf
        x = X[q]
        for i in range(t):
            par = parent[i]
            if par < 0:
                vals[i, :] = 1.0
            else:
                v = var[i]
                for r in range(m):
                    vals[i, r] = _reduce(vals[par, r] * x[r, v], pf, pinv)
        for r in range(m):
            for c in range(m):
                aug[r, c] = vals[o_rows[c], r]
            for j in range(nb):
                aug[r, m + j] = vals[b_rows[j], r]
        good, d = _lu_solve(aug, m, p, m if m <= UNBLOCKED_MAX else BLOCK)
        ok[q] = good
        det[q] = d
        if good:
            for r in range(m):
                for j in range(nb):
                    coords[q, r, j] = np.int64(aug[r, m + j])
