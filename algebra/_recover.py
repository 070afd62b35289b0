"""Exact recovery of the points of a zero-dimensional radical ideal over the rationals.

From the multiplication matrices ``M_k`` of ``R/I`` (basis ``O``, ``O[0] = 1``) alone,
in exact rational arithmetic (the *rational univariate representation*: Rouillier,
"Solving zero-dimensional systems through the rational univariate representation",
AAECC 1999; Cox, Little & O'Shea, *Using Algebraic Geometry*, §2.4):

1. Pick a linear form ``ℓ = Σ r_k x_k`` with random integer ``r``.  The Krylov vectors
   ``NF(ℓ^i) = M_ℓ^i e_0`` (``M_ℓ = Σ r_k M_k``) for ``i < s = |O|`` are a basis of
   ``R/I`` exactly when ``ℓ`` takes ``s`` distinct values on the points (it
   *separates* them); otherwise another ``ℓ`` is tried.
2. One exact solve expresses ``NF(ℓ^s)`` and each ``NF(x_k) = M_k e_0`` in that basis:
   ``ℓ^s ≡ Σ c_i ℓ^i`` gives the minimal polynomial ``μ(λ) = λ^s − Σ c_i λ^i`` of
   ``M_ℓ``, whose roots are the values ``ℓ(p)``, and ``x_k ≡ f_k(ℓ)`` gives
   ``p_k = f_k(ℓ(p))``.
3. The roots of ``μ`` are rational (the points are) and distinct: they are found
   modulo a prime, lifted p-adically and rationally reconstructed
   (:func:`rational_roots`), each checked to be an exact root.

No floating point is involved, so the points come back exactly, always.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import sympy
from sympy.polys.domains import QQ
from sympy.polys.matrices import DomainMatrix

from algebra._errors import AlgebraError
from algebra._modular import primes_below, rational_reconstruction

__all__ = ["points_from_multiplication_matrices", "rational_roots"]

#: Linear forms tried before giving up on separating the points (each is a fresh
#: random form with a wider coefficient range).
MAX_FORMS = 12


#: The prime of the separation check (products of residues fit in int64).
_CHECK_PRIME = 2**31 - 1


def _separates_mod_p(L: list[list[int]]) -> bool:
    """Whether the Krylov vectors ``L^i e_0`` (i < s) are independent modulo a prime.

    Independence modulo ``p`` implies independence over ``Q`` (a nonzero minor stays
    nonzero), so a True answer proves that the form separates the points; a False
    one (rarely, for an unlucky prime) only costs another form.
    """
    p = _CHECK_PRIME
    s = len(L)
    Lp = np.array([[v % p for v in row] for row in L], dtype=np.int64)
    K = np.zeros((s, s), dtype=np.int64)
    v = np.zeros(s, dtype=np.int64)
    v[0] = 1
    for i in range(s):
        K[:, i] = v
        # (Lp @ v) mod p without overflow: products < 2**62, reduced term by term.
        v = np.array([int(x) for x in (Lp.astype(object) @ v.astype(object)) % p],
                     dtype=np.int64)
    for c in range(s):
        rows = np.flatnonzero(K[c:, c]) + c
        if rows.size == 0:
            return False
        K[[c, rows[0]]] = K[[rows[0], c]]
        inv = pow(int(K[c, c]), -1, p)
        K[c] = K[c] * inv % p
        below = K[c + 1:, c].copy()
        K[c + 1:] = (K[c + 1:] - (below[:, None] * K[c][None, :]) % p) % p
    return True


def _to_fraction(value: object) -> Fraction:
    r = sympy.Rational(value)
    return Fraction(int(r.p), int(r.q))


def _horner(coeffs: list[int], x: int, modulus: int) -> int:
    acc = 0
    for c in coeffs:
        acc = (acc * x + c) % modulus
    return acc


def rational_roots(coeffs: list[Fraction]) -> list[Fraction]:
    """The roots of a polynomial that splits into distinct rational linear factors.

    p-adic root finding: clear denominators, find the ``s`` roots modulo a prime ``p``
    by evaluating at every residue (vectorised), lift each by Newton's iteration
    (Hensel's lemma; quadratic: ``p^(2^j)``), and rationally reconstruct it; the
    precision doubles until every reconstructed root is an exact root.  Cheaper than
    a general factorisation over ``QQ``, which also lifts factors of higher degree.

    Parameters
    ----------
    coeffs : list of Fraction
        From the highest degree down; degree ``s = len(coeffs) - 1 >= 1``.

    Returns
    -------
    list of Fraction
        The ``s`` roots, ascending.

    Raises
    ------
    AlgebraError
        If the polynomial does not have ``s`` distinct rational roots.
    """
    s = len(coeffs) - 1
    den = math.lcm(*(c.denominator for c in coeffs))
    ints = [int(c * den) for c in coeffs]
    deriv = [c * (s - i) for i, c in enumerate(ints[:-1])]
    base_roots: list[int] = []
    p = 0
    for p in primes_below(64, limit=2**17):  # below 2**17: residue products fit int64
        if ints[0] % p == 0:
            continue
        x = np.arange(p, dtype=np.int64)
        acc = np.zeros(p, dtype=np.int64)
        for c in ints:
            acc = (acc * x + c % p) % p
        base_roots = np.flatnonzero(acc == 0).tolist()
        if len(base_roots) == s:
            break
    else:
        raise AlgebraError(
            "the multiplication matrices do not have distinct rational eigenvalues (an "
            "irrational or repeated one); recover_points needs the ideal of distinct "
            "rational points, as buchberger_moller gives."
        )
    # A rational root u/v of the integer polynomial has v | ints[0] and |u/v| below the
    # Cauchy bound 1 + max|ints[i] / ints[0]|, so |u|, v <= height; rational
    # reconstruction recovers it once the modulus exceeds 2 * height**2.
    height = abs(ints[0]) + max(abs(c) for c in ints)
    modulus, roots = p, base_roots
    while True:
        found = []
        for r in roots:
            rr = rational_reconstruction(r, modulus)
            if rr is None:
                break
            q = Fraction(rr[0], rr[1])
            acc = Fraction(0)
            for c in coeffs:
                acc = acc * q + c
            if acc != 0:
                break
            found.append(q)
        else:
            return sorted(found)
        if modulus > 4 * height * height:
            break
        # Newton step modulo p^(2k): r <- r - f(r) / f'(r); f'(r) is a unit (simple root).
        target = modulus * modulus
        roots = [(r - _horner(ints, r, target) * pow(_horner(deriv, r, target), -1, target))
                 % target for r in roots]
        modulus = target
    raise AlgebraError(
        "the eigenvalues of the multiplication matrices are not rational; recover_points "
        "needs the ideal of rational points, as buchberger_moller gives."
    )


def points_from_multiplication_matrices(M: np.ndarray) -> np.ndarray:
    """The points of a radical ideal with rational points, from its multiplication matrices.

    Parameters
    ----------
    M : ndarray of object (Fraction), shape (n, s, s)
        ``M[k] @ coords(f) = coords(x_k f)`` on a basis ``O`` of ``R/I`` whose first
        element is the constant 1.

    Returns
    -------
    ndarray of object (Fraction), shape (s, n)
        The ``s`` points, rows sorted ascending.

    Raises
    ------
    AlgebraError
        If no linear form separates the points (the ideal is not radical) or the
        points are not rational.
    """
    n, s, _ = M.shape
    mats = [DomainMatrix([[QQ(f.numerator, f.denominator) for f in row]
                          for row in M[k].tolist()], (s, s), QQ) for k in range(n)]
    den = math.lcm(*(f.denominator for f in M.ravel()))
    scaled = [[[int(f * den) for f in row] for row in M[k].tolist()] for k in range(n)]
    e0 = DomainMatrix([[QQ(1)] if i == 0 else [QQ(0)] for i in range(s)], (s, 1), QQ)
    nf_x = [mats[k] * e0 for k in range(n)]  # NF(x_k) = M_k e_0
    rng = np.random.default_rng(0)
    for attempt in range(MAX_FORMS):
        # Small coefficients keep the numbers small, but s points have s(s-1)/2
        # differences to avoid, so the range grows 4-fold per try; a form is used only
        # if it separates the points modulo a prime (then it does over Q): cheap.
        width = 2 * 4**attempt
        r = [1] + [int(v) for v in rng.integers(-width, width + 1, size=n - 1)]
        if not _separates_mod_p([[sum(r[k] * scaled[k][i][j] for k in range(n))
                                  for j in range(s)] for i in range(s)]):
            continue
        L = mats[0]
        for k in range(1, n):
            if r[k]:
                L = L + mats[k] * QQ(r[k])
        krylov = [e0]  # NF(ℓ^i) = M_ℓ^i e_0
        for _ in range(s):
            krylov.append(L * krylov[-1])
        system = DomainMatrix.hstack(*krylov[:s], krylov[s], *nf_x)
        rref, pivots = system.rref()
        if tuple(pivots) != tuple(range(s)):
            continue  # cannot happen once the modular check passed; kept for safety
        sol = rref.to_Matrix()[:, s:]  # column 0: c (μ), columns 1..n: f_k
        # μ(λ) = λ^s − Σ c_i λ^i, coefficients from the highest degree down.
        mu = [Fraction(1)] + [-_to_fraction(sol[i, 0]) for i in range(s - 1, -1, -1)]
        roots = rational_roots(mu)
        f = [[_to_fraction(sol[i, 1 + k]) for i in range(s)] for k in range(n)]
        out = []
        for rho in roots:
            point = []
            for k in range(n):
                acc = Fraction(0)
                for i in range(s - 1, -1, -1):  # Horner: p_k = f_k(ℓ(p))
                    acc = acc * rho + f[k][i]
                point.append(acc)
            out.append(tuple(point))
        return np.array(sorted(out), dtype=object).reshape(s, n)
    raise AlgebraError(
        f"no linear form among {MAX_FORMS} tried separates the points of the ideal; "
        f"recover_points needs the ideal of distinct points (a radical ideal)."
    )
