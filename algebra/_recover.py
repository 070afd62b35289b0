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
3. The roots of ``μ`` are rational (the points are) and distinct: sympy factors ``μ``
   over ``QQ`` into linear factors.

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

__all__ = ["points_from_multiplication_matrices"]

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
        lam = sympy.Symbol("lam")
        mu = sympy.Poly([1] + [-sol[i, 0] for i in range(s - 1, -1, -1)], lam, domain="QQ")
        _, factors = mu.factor_list()
        roots: list[Fraction] = []
        for factor, mult in factors:
            if factor.degree() != 1:
                raise AlgebraError(
                    f"the multiplication matrices have an irrational eigenvalue (a factor "
                    f"of degree {factor.degree()}); recover_points needs an ideal of "
                    f"rational points, as buchberger_moller gives."
                )
            a, b = (sympy.Rational(c) for c in factor.all_coeffs())
            root = -b / a
            roots.extend([Fraction(int(root.p), int(root.q))] * mult)
        if len(set(roots)) != s:
            raise AlgebraError(
                "the multiplication matrices have a repeated eigenvalue on every linear "
                "form; recover_points needs the ideal of distinct points (a radical ideal)."
            )
        f = [[Fraction(int(sympy.Rational(sol[i, 1 + k]).p), int(sympy.Rational(sol[i, 1 + k]).q))
              for i in range(s)] for k in range(n)]
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
