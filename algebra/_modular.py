"""Exact Buchberger–Möller by modular arithmetic, Chinese remaindering and a certificate.

The standard fast route to the ideal of rational points (Abbott, Bigatti, Kreuzer &
Robbiano, "Computing ideals of points", JSC 2000, §4; the multi-modular scheme of
Arnold, "Modular algorithms for computing Gröbner bases", JSC 2003):

1. **Order ideal.**  Buchberger–Möller runs over ``F_p`` for one word-size prime
   (:func:`algebra._modular_kernels.bm_step`): it visits terms in increasing term
   order and keeps the evaluation vectors of ``O`` in reduced echelon form.
2. **Normal forms modulo many primes.**  With ``O`` and its border ``∂O`` fixed, each
   prime solves ``V C = W`` (``V``: values of ``O`` at the points, ``W``: values of
   ``∂O``) by a blocked LU whose updates are BLAS matrix products
   (:func:`~algebra._modular_kernels.solve_border`);
   column ``j`` of ``C`` holds the coordinates of ``NF(∂O[j])`` on ``O``.
3. **Chinese remaindering** (Garner) combines the residues into ``C mod M``,
   ``M = p_1 ⋯ p_k``.  **Rational reconstruction** (Wang's half-extended Euclid, as in
   Monagan, "Maximal quotient rational reconstruction", ISSAC 2004) finds one common
   denominator ``D`` (for integer points, ``det V`` first: every coordinate is a
   ratio of determinants with that denominator), so that the symmetric residues
   ``N = D·C mod M`` are small integers.
4. **Certificate.**  Scale each point's row by ``Q_p^d`` (``Q_p``: the common
   denominator of its coordinates, ``d``: the largest degree) so ``V`` and ``W`` become
   integer matrices with entries at most ``B``.  Then ``E = V N − D W`` is an integer
   matrix that vanishes modulo every prime used, and ``|E| ≤ m·B·max|N| + D·B``; once
   that bound is below ``M/2``, ``E = 0`` exactly, i.e. every border polynomial
   ``b − Σ (N/D) o`` vanishes on every point.  More primes are added until it holds.
   Finally every border polynomial must have its border term as leading term (all its
   other terms lie below it); then ``O`` is the order ideal of the term order
   (``LT(I) ⊇ ⟨∂O⟩``, and both quotients have dimension ``m``), and the border basis is
   the unique one the rational algorithm finds.  The result is proven, not
   probabilistic.

Unlucky primes are detected, never trusted: a prime dividing a point's denominator is
skipped; a prime whose ``V`` is singular (``p | det V``) is dropped from the batch; an
order ideal from an unlucky discovery prime either makes every ``V`` singular (over
``Q`` too) or fails the leading-term check, and the order ideal is then rediscovered
with the next prime.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable, Iterator, Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._modular_kernels import PRIME_LIMIT, bm_step, point_residues, solve_border
from algebra._monomials import border, monomial_chain, order_ideal_closure, row_index
from algebra._orders import TermOrder

__all__ = ["crt", "enumerate_order_ideal", "modular_border_basis", "primes_below"]

#: Most primes per batch between reconstruction attempts (fewer when their residues
#: would exceed the memory below).
BATCH_PRIMES = 256
#: Bytes of the residues of one batch.
BATCH_BYTES = 256 * 2**20
#: Entries reconstructed first, before an attempt over all of them.
SAMPLES = 16
#: Order ideals tried (rediscovered with a new prime) before giving up.
MAX_DISCOVERIES = 8

_PRIMES: list[int] = []


def _is_prime(n: int) -> bool:
    """Deterministic Miller–Rabin for ``n < 3,215,031,751`` (bases 2, 3, 5, 7 suffice)."""
    if n < 2:
        return False
    for q in (2, 3, 5, 7):
        if n % q == 0:
            return n == q
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for a in (2, 3, 5, 7):
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = x * x % n
            if x == n - 1:
                break
        else:
            return False
    return True


def primes_below(count: int, limit: int = PRIME_LIMIT) -> list[int]:
    """The ``count`` largest primes below ``limit`` (default ``2**22``), descending.

    Parameters
    ----------
    count : int
        How many primes.
    limit : int, default 2**22
        Exclusive upper bound; must be at most ``2**22``.

    Returns
    -------
    list of int
    """
    if limit == PRIME_LIMIT:
        n = _PRIMES[-1] - 2 if _PRIMES else limit - 1
        while len(_PRIMES) < count:
            if _is_prime(n):
                _PRIMES.append(n)
            n -= 2
        return _PRIMES[:count]
    out: list[int] = []
    n = limit - 1 if limit % 2 == 0 else limit - 2
    while len(out) < count and n > 2:
        if _is_prime(n):
            out.append(n)
        n -= 2
    return out


def _prime_stream() -> Iterator[int]:
    """Primes below ``2**22``, descending, without end (extended on demand)."""
    i = 0
    while True:
        if i >= len(_PRIMES):
            primes_below(len(_PRIMES) + 256)
        yield _PRIMES[i]
        i += 1


class _Points:
    """Numerators and denominators of exact points, their residues and size bounds."""

    def __init__(self, P: np.ndarray) -> None:
        self.m, self.n = P.shape
        self.num = np.array([[f.numerator for f in row] for row in P], dtype=object)
        self.den = np.array([[f.denominator for f in row] for row in P], dtype=object)
        self.integer = all(d == 1 for d in self.den.ravel())
        limit = 2**62
        small = all(abs(v) < limit for v in self.num.ravel()) and all(
            d < limit for d in self.den.ravel())
        self._num64 = self.num.astype(np.int64) if small else None
        self._den64 = self.den.astype(np.int64) if small else None
        # Per point: Q_p = lcm of the coordinate denominators, R_p = max(1, max_k |x_pk|).
        self.row_den = [math.lcm(*row) for row in self.den.tolist()]
        self.row_max = [max(Fraction(1), *(abs(v) for v in row)) for row in P.tolist()]

    def residues(self, p: int) -> np.ndarray | None:
        """The points modulo ``p`` (m, n) int64, or None if ``p`` divides a denominator."""
        if self._num64 is not None:
            num, den = self._num64 % p, self._den64 % p
        else:
            num = (self.num % p).astype(np.int64)
            den = (self.den % p).astype(np.int64)
        out = np.empty((self.m, self.n), dtype=np.float64)
        return out if point_residues(num, den, p, out) else None

    def entry_bound(self, degree: int) -> int:
        """``B ≥ |x_p^t| Q_p^degree`` for every point and every term of degree ≤ ``degree``.

        ``|x_p^t| ≤ R_p^deg(t) ≤ R_p^degree`` since ``R_p ≥ 1``.
        """
        return max(math.ceil((q * r) ** degree)
                   for q, r in zip(self.row_den, self.row_max, strict=True))


def enumerate_order_ideal(
    m: int, n: int, order: TermOrder, joins: Callable[[int, int, int], bool]
) -> list[tuple[int, ...]]:
    """Buchberger–Möller's term enumeration, for any arithmetic.

    Terms are visited in increasing term order from 1, skipping multiples of the
    leading terms found so far; ``joins(k, parent, var)`` decides whether the term
    ``O[parent] * x_var`` (the constant for ``parent < 0``) is independent of the
    ``k`` terms of ``O`` found so far, and must record it when it is.  Stops when
    ``|O| = m`` or no term is left.

    Returns
    -------
    list of tuple of int
        ``O`` in increasing order (shorter than ``m`` if the terms ran out).
    """
    O: list[tuple[int, ...]] = []
    leads: list[tuple[int, ...]] = []
    one = (0,) * n
    heap: list[tuple[Any, tuple[int, ...], int, int]] = [(order.key(one), one, -1, -1)]
    seen: set[tuple[int, ...]] = set()
    while heap and len(O) < m:
        _, t, parent, var = heapq.heappop(heap)
        if t in seen or any(all(a <= b for a, b in zip(lt, t, strict=True)) for lt in leads):
            continue
        seen.add(t)
        if joins(len(O), parent, var):
            O.append(t)
            for k in range(n):
                u = tuple(e + (i == k) for i, e in enumerate(t))
                heapq.heappush(heap, (order.key(u), u, len(O) - 1, k))
        else:
            leads.append(t)
    return O


def _discover(X: np.ndarray, order: TermOrder, p: int) -> np.ndarray | None:
    """The order ideal over ``F_p`` (terms reduced by :func:`bm_step`), or None.

    None when fewer than ``m`` terms are independent (two points coincide modulo ``p``).
    """
    m, n = X.shape
    vals = np.empty((m, m), dtype=np.float64)
    R = np.empty((m, m), dtype=np.float64)
    piv = np.empty(m, dtype=np.int64)
    O = enumerate_order_ideal(
        m, n, order, lambda k, parent, var: bm_step(X, vals, R, piv, k, parent, var, p))
    if len(O) < m:
        return None
    return np.array(O, dtype=np.int64).reshape(m, n)


def rational_reconstruction(u: int, M: int) -> tuple[int, int] | None:
    """``a / b ≡ u (mod M)`` with ``|a|, b ≤ sqrt(M / 2)`` (Wang 1981), or None."""
    bound = math.isqrt(M // 2)
    r0, r1 = M, u % M
    s0, s1 = 0, 1
    while r1 > bound:
        q = r0 // r1
        r0, r1 = r1, r0 - q * r1
        s0, s1 = s1, s0 - q * s1
    if s1 == 0 or abs(s1) > bound or math.gcd(r1, abs(s1)) != 1:
        return None
    return (r1, s1) if s1 > 0 else (-r1, -s1)


#: Bits per limb when Chinese remaindering runs as one float64 matrix product.
_LIMB = 16
#: Primes per such product: residue (< 2**22) × limb (< 2**16) summed stays below 2**53.
_CRT_CHUNK = 2**53 // (PRIME_LIMIT * 2**_LIMB)


def _to_limbs(values: Sequence[int], n_limbs: int) -> np.ndarray:
    """Non-negative ints as rows of ``_LIMB``-bit limbs (little-endian), float64."""
    raw = b"".join(v.to_bytes(2 * n_limbs, "little") for v in values)
    return np.frombuffer(raw, dtype="<u2").reshape(len(values), n_limbs).astype(np.float64)


def _from_limbs(S: np.ndarray) -> list[int]:
    """The ints ``Σ_l S[:, l] 2^(16 l)`` of exact integer float64 sums ``S`` (< 2**53)."""
    S = S.astype(np.int64)
    rows, width = S.shape
    limbs = np.empty((rows, width + 4), dtype=np.int64)
    carry = np.zeros(rows, dtype=np.int64)
    for col in range(width + 4):
        v = carry + S[:, col] if col < width else carry
        limbs[:, col] = v & 0xFFFF
        carry = v >> _LIMB
    raw = limbs.astype("<u2")
    return [int.from_bytes(row.tobytes(), "little") for row in raw]


def crt(residues: np.ndarray, primes: Sequence[int], scale: int = 1) -> np.ndarray:
    """Chinese remaindering of many residue vectors at once (times a constant).

    ``x = Σ_i r_i e_i mod M`` with ``e_i = (M/p_i) ((M/p_i)^{-1} mod p_i)`` (the
    idempotents of the Chinese remainder theorem).  Splitting each ``scale·e_i mod M``
    into 16-bit limbs turns the sum over primes into one float64 matrix product whose
    every partial sum is an exact integer below ``2**53``, so BLAS does the
    big-integer work; only the carry and one ``mod M`` per entry are Python integer
    operations.

    Parameters
    ----------
    residues : ndarray of int64, shape (e, k)
        Row ``j``: the residues of entry ``j`` modulo each prime.
    primes : sequence of int, length k
        Distinct primes below ``2**22``.
    scale : int, default 1
        Multiply every result by this modulo ``M``.

    Returns
    -------
    ndarray of object (int), shape (e,)
        ``scale * x mod M`` for each entry ``x``, in ``[0, M)``, ``M = Π primes``.
    """
    M = math.prod(primes)
    out = np.zeros(residues.shape[0], dtype=object)
    rows = np.flatnonzero(residues.any(axis=1))  # zero stays zero (sparse bases)
    if rows.size == 0:
        return out
    residues = residues[rows]
    n_limbs = (M.bit_length() + _LIMB - 1) // _LIMB + 1
    total: np.ndarray | None = None
    for lo in range(0, len(primes), _CRT_CHUNK):
        chunk = primes[lo:lo + _CRT_CHUNK]
        idem = []
        for p in chunk:
            Mi = M // p
            idem.append(Mi * pow(Mi % p, -1, p) * scale % M)
        S = residues[:, lo:lo + len(chunk)].astype(np.float64) @ _to_limbs(idem, n_limbs)
        part = np.array(_from_limbs(S), dtype=object)
        total = part if total is None else total + part
    assert total is not None
    out[rows] = total % M
    return out


class _Crt:
    """Residues of the normal-form coordinates and of ``det V``, modulo each prime so far."""

    def __init__(self) -> None:
        self.primes: list[int] = []
        self.residues: list[np.ndarray] = []
        self.dets: list[int] = []
        #: Bits of M before the next attempt over every entry (after one failed, the
        #: modulus must grow by a quarter first, so failed attempts cost O(log) passes).
        self.next_full_bits = 0

    def add(self, p: int, residues: np.ndarray, det: int) -> None:
        self.primes.append(p)
        self.residues.append(residues.ravel())
        self.dets.append(det)

    @property
    def M(self) -> int:
        return math.prod(self.primes)

    def entries(self, index: np.ndarray) -> list[int]:
        """Some entries (``index`` into the flattened coordinates) modulo ``M``."""
        return [int(v) for v in crt(np.stack([r[index] for r in self.residues], axis=1),
                                    self.primes)]

    def det(self) -> int:
        return int(crt(np.array([self.dets]), self.primes)[0])

    def values(self, scale: int) -> np.ndarray:
        """``scale`` times every entry, modulo ``M`` (object ints, flattened)."""
        return crt(np.stack(self.residues, axis=1), self.primes, scale)


def _symmetric(value: Any, M: int) -> Any:
    """Representatives in ``(-M/2, M/2]`` of residues in ``[0, M)`` (int or object array)."""
    if isinstance(value, np.ndarray):
        return np.where(value > M // 2, value - M, value)
    return value - M if value > M // 2 else value


def _reconstruct(crt_: _Crt, pts: _Points, degree: int,
                 shape: tuple[int, int]) -> tuple[int, np.ndarray] | None:
    """A common denominator ``D`` and numerators ``N`` (object ints) that the certificate proves.

    Returns ``(D, N)`` with ``N ≡ D·C (mod M)`` and ``m·B·max|N| + D·B ≤ M // 2`` (the
    bound of the module docstring), or None when ``M`` is still too small.
    :data:`SAMPLES` entries are reconstructed first, so an attempt with too few primes
    costs almost nothing; only a promising one combines every entry.
    """
    M = crt_.M
    B = pts.entry_bound(degree)
    half = M // 2

    def limit(D: int) -> int:
        return (half - D * B) // (pts.m * B)

    if M.bit_length() < crt_.next_full_bits:
        return None
    size = shape[0] * shape[1]
    samples = crt_.entries(np.unique(np.linspace(0, size - 1, SAMPLES).astype(np.int64)))

    def fits(D: int) -> bool:
        return D > 0 and limit(D) > 0 and all(
            abs(_symmetric(x * D % M, M)) <= limit(D) for x in samples)

    starts = []
    if pts.integer:
        # Every coordinate is a ratio of minors of V with denominator det V (Cramer).
        D = abs(_symmetric(crt_.det(), M))
        if fits(D):
            starts.append(D)
    D = 1
    for x in samples:  # stop at the first sample that does not reconstruct yet
        rr = rational_reconstruction(x * D % M, M)
        if rr is None:
            break
        D *= rr[1]
    else:
        if fits(D):
            starts.append(D)
    for D in starts:
        found = _common_denominator(crt_, D, limit)
        if found is not None:
            return found[0], found[1].reshape(shape)
    if starts:
        crt_.next_full_bits = M.bit_length() * 5 // 4
    return None


def _common_denominator(crt_: _Crt, D: int, limit: Any) -> tuple[int, np.ndarray] | None:
    """Grow ``D`` until every ``D·x mod M`` is within ``limit(D)``: ``(D, N)`` or None."""
    M = crt_.M
    half = M // 2
    Y = crt_.values(D)  # D·x mod M; kept up to date as D grows (one product per entry)
    for _ in range(8):
        if limit(D) <= 0:
            return None
        N = _symmetric(Y, M)
        bad = np.flatnonzero((np.abs(N) > limit(D)).astype(bool))
        if bad.size == 0:
            return D, N
        D0 = D
        # Columns may need further factors of the denominator (lex does): grow D by
        # reconstructing only the entries it does not yet make small, then re-check all.
        for i in bad.tolist():
            bound = limit(D)
            if bound <= 0:
                return None
            u = int(Y[i]) * (D // D0) % M
            if abs(u - M if u > half else u) <= bound:
                continue
            rr = rational_reconstruction(u, M)
            if rr is None or rr[1] == 1:
                return None
            D *= rr[1]
        Y = Y * (D // D0) % M
    return None


def _leading_terms_hold(N: np.ndarray, o_rows: np.ndarray, b_rows: np.ndarray) -> bool:
    """Whether every border polynomial's other terms lie below its border term.

    Rows of ``terms`` ascend in the term order, so ``O[i] < ∂O[j]`` iff
    ``o_rows[i] < b_rows[j]``.
    """
    nonzero = (N != 0).astype(bool)
    above = o_rows[:, None] > b_rows[None, :]
    return not bool(np.any(nonzero & above))


def modular_border_basis(
    P: np.ndarray, order: TermOrder, primes: Sequence[int] | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The exact border basis of the points ``P`` by the modular route of the module doc.

    Parameters
    ----------
    P : ndarray of object (Fraction), shape (m, n)
        Distinct, validated points.
    order : TermOrder
        The term order.
    primes : sequence of int, optional
        The primes to use, in order (each below ``2**22``); by default the largest
        primes below ``2**22``.  Tests pass unlucky primes first.

    Returns
    -------
    O : ndarray of int64, shape (m, n)
        The order ideal, ascending.
    B : ndarray of int64, shape (b, n)
        Its border, ascending.
    terms : ndarray of int64, shape (t, n)
        The closure of ``O ∪ B``, ascending.
    coef : ndarray of object (Fraction), shape (t, b)
        Column ``j``: ``B[j] − NF(B[j])``.
    b_rows : ndarray of int64, shape (b,)
        The row of ``terms`` of each ``B[j]``.
    """
    pts = _Points(P)
    m = pts.m
    stream: Iterator[int] = iter(primes) if primes is not None else _prime_stream()

    def next_prime() -> int:
        try:
            return next(stream)
        except StopIteration:
            raise AlgebraError(
                "the primes given to the modular Buchberger-Moller ran out before the "
                "result was certified; pass more primes (or none, for the default list)."
            ) from None

    for _ in range(MAX_DISCOVERIES):
        O = None
        while O is None:
            p = next_prime()
            X = pts.residues(p)
            O = None if X is None else _discover(X, order, p)
        B = border(O, order=order)
        terms = order_ideal_closure(np.concatenate([O, B]), order)
        o_rows, b_rows = row_index(terms, O), row_index(terms, B)
        parent, var = monomial_chain(terms)
        degree = int(terms[np.concatenate([o_rows, b_rows])].sum(axis=1).max())
        t, nb = terms.shape[0], B.shape[0]
        per_prime = 8 * m * nb
        batch = max(1, min(BATCH_PRIMES, BATCH_BYTES // per_prime))
        acc = _Crt()
        result = None
        while result is None:
            # Each batch adds half the primes so far (two at first): few primes suffice
            # for small coefficients, and big ones take O(log) attempts, overshooting
            # the primes needed by at most half.
            size = min(max(2, len(acc.primes) // 2), batch)
            chosen: list[int] = []
            residues: list[np.ndarray] = []
            while len(chosen) < size:
                p = next_prime()
                X = pts.residues(p)
                if X is not None:
                    chosen.append(p)
                    residues.append(X)
            k = len(chosen)
            coords = np.empty((k, m, nb), dtype=np.int64)
            det = np.empty(k, dtype=np.int64)
            ok = np.empty(k, dtype=np.bool_)
            solve_border(np.stack(residues), np.array(chosen, dtype=np.int64), parent, var,
                         o_rows, b_rows, np.empty((t, m), dtype=np.float64),
                         np.empty((m, m + nb), dtype=np.float64), coords, det, ok)
            if not ok.any():
                break  # every prime of the batch divides det V: start afresh
            for i in np.flatnonzero(ok):
                acc.add(chosen[i], coords[i], int(det[i]))
            result = _reconstruct(acc, pts, degree, (m, nb))
        if result is None:
            continue
        D, N = result
        if not _leading_terms_hold(N, o_rows, b_rows):
            continue  # O is not the order ideal of the term order: rediscover it
        coef = np.empty((t, nb), dtype=object)
        coef.fill(Fraction(0))
        coef[b_rows, np.arange(nb)] = Fraction(1)
        for i, j in zip(*np.nonzero((N != 0).astype(bool)), strict=True):
            coef[o_rows[i], j] = Fraction(-N[i, j], D)
        return O, B, terms, coef, b_rows
    raise AlgebraError(
        f"the modular Buchberger-Moller found no certified order ideal in "
        f"{MAX_DISCOVERIES} tries; this should not happen for distinct rational points; "
        f"use method='fraction'."
    )
