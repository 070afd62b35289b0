"""Exact border bases and reduced Gröbner bases of finite point sets.

The Buchberger–Möller algorithm (Möller & Buchberger 1982; Marinari, Möller & Mora
1993; in the border-basis form of Kehrein & Kreuzer, "Computing border bases", JPAA
2006, and Kreuzer & Robbiano, *Computational Commutative Algebra 2*, §6.3) runs over
the rationals with :class:`fractions.Fraction`:

1. visit terms in increasing term order, starting from 1, skipping multiples of the
   leading terms found so far;
2. reduce the term's evaluation vector at the points against those of the order
   ideal ``O`` found so far (Gaussian elimination kept in reduced echelon form);
3. a nonzero remainder puts the term into ``O`` and its multiples ``x_i t`` into the
   queue; a zero remainder makes it a leading term of the ideal.

It stops when ``|O|`` equals the number of points, since then the evaluation vectors
of ``O`` are a basis of ``Q^m``.  Every border term ``b`` of ``O`` then has a unique
normal form ``NF(b) = Σ c_o o`` with the same values on the points, giving the
O-border basis ``{b - NF(b)}``; its members whose border term is a minimal generator
of the leading-term ideal (a "corner") form the reduced Gröbner basis.
"""

from __future__ import annotations

import math
from fractions import Fraction
from typing import Any

import numpy as np

from algebra._coefficients import to_fraction
from algebra._errors import AlgebraError
from algebra._modular import enumerate_order_ideal, modular_border_basis
from algebra._monomials import border, divides, monomial_chain, order_ideal_closure, row_index
from algebra._orders import TermOrder, get_term_order
from algebra._polyset import PolynomialSet
from algebra._recover import points_from_multiplication_matrices
from algebra._validation import check_positive_int, describe

__all__ = ["BorderBasis", "buchberger_moller", "rational_circle_points"]

#: Floats are accepted as exact points only if their exact binary value has a
#: denominator at most this (0.5, 0.375 pass; 0.1 and 0.6, stored inexactly, fail).
MAX_FLOAT_DENOMINATOR = 2**20


def _exact_entry(value: Any, where: str) -> Fraction:
    """One coordinate as a Fraction, with the float rule of :func:`buchberger_moller`."""
    if isinstance(value, (bool, np.bool_)):
        # bool is an int subclass, so True would silently become 1: refuse it.
        raise AlgebraError(
            f"points{where} = {value!r} is a boolean, not a coordinate; pass numbers "
            f"(convert a boolean array with points.astype(int) if 0/1 is meant)."
        )
    if isinstance(value, str):
        try:
            return Fraction(value.strip())
        except ValueError:
            raise AlgebraError(
                f"points{where} = {value!r} is not a number; write rationals as '3/5' "
                f"or pass numbers."
            ) from None
        except ZeroDivisionError:
            raise AlgebraError(
                f"points{where} = {value!r} has a zero denominator; every coordinate must "
                f"be a finite rational such as '3/5'."
            ) from None
    if isinstance(value, Fraction):
        # A Fraction built from numpy integers keeps them; store Python ints.
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if not np.isfinite(value):
            raise AlgebraError(
                f"points{where} is {value}; exact points must be finite rationals."
            )
        frac = Fraction(value)
        if frac.denominator > MAX_FLOAT_DENOMINATOR:
            guess = frac.limit_denominator(1000)
            raise AlgebraError(
                f"points{where} = {value!r} is a float that is not exactly a rational with "
                f"a small denominator (it is stored as {frac}); pass exact rationals "
                f"instead, e.g. fractions.Fraction('{guess}') or sympy.Rational("
                f"{guess.numerator}, {guess.denominator}) in an object array, or integers."
            )
        return frac
    try:
        return to_fraction(value, where)
    except AlgebraError:
        raise AlgebraError(
            f"points{where} = {value!r} of type {type(value).__name__} is not a rational "
            f"number; pass integers, fractions.Fraction or sympy.Rational."
        ) from None


def _exact_points(points: Any) -> np.ndarray:
    """Validate points and return them as an (m, n) object array of Fraction."""
    arr = points if isinstance(points, np.ndarray) else np.asarray(points, dtype=object)
    if arr.ndim == 1 and any(isinstance(r, (list, tuple, np.ndarray)) for r in arr):
        raise AlgebraError(
            "points must be a 2-D array of shape (n_points, n_variables); the rows given "
            "have different lengths."
        )
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise AlgebraError(
            f"points must be a non-empty 2-D array of shape (n_points, n_variables), got "
            f"{describe(arr)}; use points.reshape(-1, 1) for points on a line."
        )
    out = np.empty(arr.shape, dtype=object)
    for (i, j), value in np.ndenumerate(arr):
        out[i, j] = _exact_entry(value.item() if isinstance(value, np.generic) else value,
                                 f"[{i}, {j}]")
    seen: dict[tuple[Fraction, ...], int] = {}
    for i, row in enumerate(map(tuple, out)):
        if row in seen:
            shown = "(" + ", ".join(str(c) for c in row) + ")"
            raise AlgebraError(
                f"points rows {seen[row]} and {i} are the same point {shown}; the ideal of "
                f"a point set needs distinct points, remove duplicates first (e.g. "
                f"np.unique(points, axis=0))."
            )
        seen[row] = i
    return out


def _exact_monomials(P: np.ndarray, terms: np.ndarray) -> list[list[Fraction]]:
    """Exact values of each term (rows of ``terms``) at the points: ``vals[i][r]``."""
    parent, var = monomial_chain(terms)
    cols = [list(P[:, k]) for k in range(P.shape[1])]
    vals: list[list[Fraction]] = []
    for p, v in zip(parent.tolist(), var.tolist(), strict=True):
        if p < 0:
            vals.append([Fraction(1)] * P.shape[0])
        else:
            vals.append([a * b for a, b in zip(vals[p], cols[v], strict=True)])
    return vals


class _Echelon:
    """Evaluation vectors of ``O`` in reduced row echelon form, with the change of basis.

    ``rows[j]`` has a 1 at ``pivots[j]`` and 0 at every other pivot, and equals
    ``Σ_k coords[j][k] * (values of O[k])``, so any vector's coordinates in the basis
    O(points) follow from its entries at the pivots (one pass, no back-substitution).
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: list[list[Fraction]] = []
        self.coords: list[list[Fraction]] = []
        self.pivots: list[int] = []

    def reduce(self, v: list[Fraction]) -> tuple[list[Fraction], list[Fraction]]:
        """``(c, r)`` with ``v = Σ_k c[k] O[k](points) + r``; ``r == 0`` iff v in the span."""
        r = list(v)
        c = [Fraction(0)] * self.size
        for row, coord, piv in zip(self.rows, self.coords, self.pivots, strict=True):
            a = r[piv]
            if a:
                r = [x - a * y for x, y in zip(r, row, strict=True)]
                c = [x + a * y for x, y in zip(c, coord, strict=True)]
        return c, r

    def add(self, c: list[Fraction], r: list[Fraction]) -> None:
        """Append the next term of O, whose vector reduced to ``r`` with coordinates ``c``."""
        k = len(self.rows)
        piv = next(i for i, x in enumerate(r) if x)
        inv = 1 / r[piv]
        new = [x * inv for x in r]
        # r = v - Σ c_k O[k]  =>  r in O-coordinates is e_k - c.
        coord = [-x * inv for x in c]
        coord[k] += inv
        for j, row in enumerate(self.rows):
            f = row[piv]
            if f:
                self.rows[j] = [x - f * y for x, y in zip(row, new, strict=True)]
                self.coords[j] = [x - f * y for x, y in zip(self.coords[j], coord, strict=True)]
        self.rows.append(new)
        self.coords.append(coord)
        self.pivots.append(piv)


def _find_order_ideal(P: np.ndarray, order: TermOrder) -> tuple[np.ndarray, _Echelon]:
    """Buchberger–Möller term enumeration: the order ideal O of the points' ideal."""
    m, n = P.shape
    ech = _Echelon(m)
    O_vals: list[list[Fraction]] = []
    cols = [list(P[:, k]) for k in range(n)]

    def joins(k: int, parent: int, var: int) -> bool:
        if parent < 0:
            v = [Fraction(1)] * m
        else:
            v = [a * b for a, b in zip(O_vals[parent], cols[var], strict=True)]
        c, r = ech.reduce(v)
        if not any(r):
            return False
        ech.add(c, r)
        O_vals.append(v)
        return True

    O = enumerate_order_ideal(m, n, order, joins)
    return np.array(O, dtype=np.int64).reshape(len(O), n), ech


#: The algorithms of :func:`buchberger_moller`.
METHODS: tuple[str, ...] = ("modular", "fraction")


def _fraction_border_basis(
    P: np.ndarray, order: TermOrder
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Buchberger–Möller in :class:`~fractions.Fraction` arithmetic (the reference route).

    Returns ``(O, B, terms, coef, b_rows)`` as
    :func:`algebra._modular.modular_border_basis` does.
    """
    O, ech = _find_order_ideal(P, order)
    B = border(O, order=order)
    terms = order_ideal_closure(np.concatenate([O, B]), order)
    vals = _exact_monomials(P, terms)
    o_rows = row_index(terms, O)
    b_rows = row_index(terms, B)
    coef = np.empty((terms.shape[0], B.shape[0]), dtype=object)
    coef.fill(Fraction(0))
    for j, row in enumerate(b_rows.tolist()):
        # |O| == m, so the evaluation vectors of O span Q^m and the remainder is zero.
        c, _ = ech.reduce(vals[row])
        coef[row, j] = Fraction(1)
        coef[o_rows, j] = [-x for x in c]
    return O, B, terms, coef, b_rows


def buchberger_moller(
    points: Any, order: str | TermOrder = "deglex", method: str = "modular"
) -> BorderBasis:
    """The exact O-border basis and reduced Gröbner basis of a finite point set.

    Parameters
    ----------
    points : array_like of shape (m, n)
        Distinct points with rational coordinates: integers, :class:`fractions.Fraction`,
        sympy ``Rational``, strings such as ``"3/5"``, or floats whose exact binary value
        has a denominator of at most ``2**20`` (like 0.5 or 0.375; 0.1 is rejected
        because the float is not one tenth).  Booleans are rejected.
    order : str or TermOrder, default "deglex"
        The term order (any of :data:`~algebra.TERM_ORDERS`).
    method : {"modular", "fraction"}, default "modular"
        ``"modular"`` runs Buchberger–Möller modulo word-size primes in numba
        kernels, recovers the rationals by Chinese remaindering and rational
        reconstruction, and proves the result exact before returning it (see
        :mod:`algebra._modular`); ``"fraction"`` runs it in Python
        :class:`~fractions.Fraction` arithmetic (much slower; the reference the
        tests compare against).  Both return the same basis.

    Returns
    -------
    BorderBasis
        With ``order_ideal`` (m, n), ``border`` and the exact border basis
        ``polynomials``; :meth:`BorderBasis.groebner_basis` gives the reduced Gröbner
        basis.

    Raises
    ------
    AlgebraError
        On non-rational, non-finite, inexact-float, boolean or duplicate points, a
        zero denominator, wrong shapes, or an unknown ``method``.

    Examples
    --------
    >>> from algebra import buchberger_moller
    >>> bb = buchberger_moller([[1, 0], [0, 1], [-1, 0], [0, -1]])
    >>> bb.order_ideal.tolist()
    [[0, 0], [0, 1], [1, 0], [0, 2]]
    >>> [str(g) for g in bb.groebner_basis().to_sympy()]
    ['x0*x1', 'x0**2 + x1**2 - 1', 'x1**3 - x1']
    """
    order = get_term_order(order)
    if method not in METHODS:
        raise AlgebraError(
            f"method must be one of {', '.join(repr(m) for m in METHODS)}, got {method!r}."
        )
    P = _exact_points(points)
    route = modular_border_basis if method == "modular" else _fraction_border_basis
    O, B, terms, coef, b_rows = route(P, order)
    polys = PolynomialSet(terms, coef, order=order, leading=b_rows, order_ideal=O)
    return BorderBasis(points=P, order=order, order_ideal=O, border=B, polynomials=polys)


class BorderBasis:
    """The O-border basis of the ideal of a finite point set (from :func:`buchberger_moller`).

    Parameters
    ----------
    points : ndarray of object (Fraction), shape (m, n)
        The distinct points.
    order : TermOrder
        The term order used.
    order_ideal : ndarray of int64, shape (m, n)
        ``O``: the monomials not in the leading-term ideal, sorted ascending; their
        residue classes are a basis of ``R/I`` (so ``|O| = m``).
    border : ndarray of int64, shape (b, n)
        ``∂O``, sorted ascending.
    polynomials : PolynomialSet
        Exact; polynomial ``j`` is ``border[j] - NF(border[j])`` with leading term
        ``border[j]`` (coefficient 1) and every other term in ``O``.

    Attributes
    ----------
    points, order, order_ideal, border, polynomials
        As above.
    """

    def __init__(
        self,
        *,
        points: np.ndarray,
        order: TermOrder,
        order_ideal: np.ndarray,
        border: np.ndarray,
        polynomials: PolynomialSet,
    ) -> None:
        self.points = points
        self.order = order
        self.order_ideal = order_ideal
        self.border = border
        self.polynomials = polynomials
        self._mult: np.ndarray | None = None  # cache of multiplication_matrices()

    @property
    def n_vars(self) -> int:
        """Number of variables ``n``."""
        return int(self.order_ideal.shape[1])

    def __len__(self) -> int:
        return self.polynomials.n_polys

    def __repr__(self) -> str:
        return (
            f"BorderBasis(n_points={self.points.shape[0]}, n_vars={self.n_vars}, "
            f"order={self.order.name!r}, |O|={self.order_ideal.shape[0]}, "
            f"|border|={self.border.shape[0]})"
        )

    def __str__(self) -> str:
        return str(self.polynomials)

    def _border_coords(self) -> np.ndarray:
        """(|O|, b) object array: column j = coordinates of NF(border[j]) in O."""
        rows = row_index(self.polynomials.terms, self.order_ideal)
        return -self.polynomials.coef[rows]

    def groebner_basis(self) -> PolynomialSet:
        """The reduced Gröbner basis of the ideal, for this set's term order.

        Returns
        -------
        PolynomialSet
            Exact and monic: the border-basis polynomials whose border term is a
            *corner*, i.e. a minimal generator of the leading-term ideal (no other
            border term divides it).  Sorted by leading term, ascending.
        """
        B = self.border
        proper = divides(B, B) & ~np.eye(B.shape[0], dtype=bool)  # proper[i, j]: B[i] | B[j]
        corners = np.flatnonzero(~proper.any(axis=0))
        return self.polynomials.select(corners)

    def normal_form(self, poly: PolynomialSet) -> np.ndarray:
        """The normal form of polynomials with respect to the border basis.

        ``NF(f)`` is the unique combination of the terms of ``O`` with ``f - NF(f)``
        in the ideal.  It uses the border basis only (not the points): along the
        chain ``t = parent * x_v`` of ``f``'s terms, ``NF(t) = M_v NF(parent)`` with
        the multiplication matrices, which are built from the border-basis
        polynomials ``b - NF(b)`` (Kreuzer & Robbiano, *Computational Commutative
        Algebra 2*, §6.4).

        Parameters
        ----------
        poly : PolynomialSet
            Polynomials in the same number of variables; float coefficients are taken
            as their exact binary values.

        Returns
        -------
        ndarray of object (Fraction), shape (|O|, p)
            Column ``j`` holds the coefficients of ``NF(poly_j)`` on ``order_ideal``
            (all zero when ``poly_j`` lies in the ideal).
        """
        if not isinstance(poly, PolynomialSet) or poly.n_vars != self.n_vars:
            raise AlgebraError(
                f"poly must be a PolynomialSet in {self.n_vars} variables, got "
                f"{poly!r}; build one with PolynomialSet.from_sympy(exprs, gens)."
            )
        nf = self._term_normal_forms(poly.terms)
        coef = poly.coef if poly.is_exact else poly.astype(object).coef
        out = np.empty((self.order_ideal.shape[0], poly.n_polys), dtype=object)
        for j in range(poly.n_polys):
            col = [Fraction(0)] * self.order_ideal.shape[0]
            for i, c in enumerate(coef[:, j]):
                if c:
                    col = [a + c * b for a, b in zip(col, nf[i], strict=True)]
            out[:, j] = col
        return out

    def _term_normal_forms(self, terms: np.ndarray) -> list[list[Fraction]]:
        """NF of each monomial of a sorted order ideal, as coordinates on ``O``.

        Monomials are visited along the chain ``t = parent * x_v``: with
        ``NF(parent) = Σ c_o o`` known, ``NF(t) = Σ c_o NF(x_v o)``, and ``x_v o`` is
        in ``O`` or in the border, whose normal form is a border-basis polynomial.
        """
        s = self.order_ideal.shape[0]
        parent, var = monomial_chain(terms)
        M = self.multiplication_matrices()
        nf: list[list[Fraction]] = []
        for p, v in zip(parent.tolist(), var.tolist(), strict=True):
            if p < 0:
                e = [Fraction(0)] * s
                e[0] = Fraction(1)  # O[0] is the constant term
                nf.append(e)
            else:
                # coords(x_v f) = M_v @ coords(f)
                nf.append(list(M[v].dot(np.array(nf[p], dtype=object))))
        return nf

    def multiplication_matrices(self) -> np.ndarray:
        """The matrices of multiplication by each variable on ``R/I``, basis ``O``.

        Returns
        -------
        ndarray of object (Fraction), shape (n, |O|, |O|)
            ``M[k][i, j]`` is the coefficient of ``O[i]`` in ``NF(x_k O[j])``, so
            ``M[k] @ coords(f) = coords(x_k f)``.  For a point ``p`` the vector
            ``u = (o(p))_{o in O}`` is a left eigenvector: ``u @ M[k] = p_k u``.
        """
        if self._mult is not None:
            return self._mult
        O, B = self.order_ideal, self.border
        s, n = O.shape
        coords = self._border_coords()
        M = np.empty((n, s, s), dtype=object)
        M.fill(Fraction(0))
        for k in range(n):
            shifted = O.copy()
            shifted[:, k] += 1
            in_O = row_index(O, shifted)
            in_B = row_index(B, shifted)
            for j in range(s):
                if in_O[j] >= 0:
                    M[k, in_O[j], j] = Fraction(1)
                else:
                    M[k, :, j] = coords[:, in_B[j]]
        self._mult = M
        return M

    def commutes(self) -> bool:
        """Whether the multiplication matrices commute pairwise, exactly.

        Commuting multiplication matrices characterise border bases among border
        prebases (Mourrain 1999; Kreuzer & Robbiano, CCA 2, Thm. 6.4.30).

        Returns
        -------
        bool
        """
        M = self.multiplication_matrices()
        return all(
            np.array_equal(M[a].dot(M[b]), M[b].dot(M[a]))
            for a in range(len(M))
            for b in range(a + 1, len(M))
        )

    def recover_points(self) -> np.ndarray:
        """Recover the points, exactly, from the multiplication matrices alone.

        A linear form ``ℓ`` that separates the points turns the problem univariate
        (the rational univariate representation; Rouillier 1999): the minimal
        polynomial of multiplication by ``ℓ`` has the values ``ℓ(p)`` as roots, and
        every coordinate is a polynomial in ``ℓ`` modulo the ideal.  Everything is
        exact rational arithmetic, and the rational roots are found modulo a prime,
        lifted p-adically and checked to be exact roots; no floating point is
        involved (see :mod:`algebra._recover`).

        Returns
        -------
        ndarray of object (Fraction), shape (m, n)
            The points, rows sorted ascending.

        Raises
        ------
        AlgebraError
            If the matrices are not those of distinct rational points (only possible
            for a hand-built :class:`BorderBasis`).
        """
        return points_from_multiplication_matrices(self.multiplication_matrices())


def rational_circle_points(n_points: int = 8) -> np.ndarray:
    """Distinct rational points on the unit circle ``x² + y² = 1``.

    The stereographic parametrisation ``t ↦ ((1 - t²)/(1 + t²), 2t/(1 + t²))`` (and
    ``(-1, 0)`` for ``t = ∞``) maps every rational ``t`` to a rational point; the
    Pythagorean triples (3, 4, 5), (5, 12, 13), ... appear this way.  The parameters
    are taken as 0, ∞, ±1, ±2, ±1/2, ±3, ±3/2, ±1/3, ±2/3, ... (by height).

    Parameters
    ----------
    n_points : int, default 8
        How many points; the default gives (±1, 0), (0, ±1), (±3/5, ±4/5).

    Returns
    -------
    ndarray of object (Fraction), shape (n_points, 2)
    """
    n_points = check_positive_int(n_points, "n_points")
    params: list[Fraction | None] = [Fraction(0), None]
    height = 1
    while len(params) < n_points:
        new = sorted(
            {Fraction(a, b) for a in range(1, height + 1) for b in range(1, height + 1)
             if max(a, b) == height and math.gcd(a, b) == 1},
            key=lambda f: (f.denominator, f.numerator),
        )
        for f in new:
            params.extend([f, -f])
        height += 1
    out = np.empty((n_points, 2), dtype=object)
    for i, t in enumerate(params[:n_points]):
        if t is None:
            out[i] = [Fraction(-1), Fraction(0)]
        else:
            out[i] = [(1 - t * t) / (1 + t * t), 2 * t / (1 + t * t)]
    return out
