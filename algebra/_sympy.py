"""Conversion between coefficient arrays and sympy expressions.

The functions work on the arrays of a :class:`~algebra.PolynomialSet` (``terms``
(t, n), ``coef`` (t, p), the term order) and return sympy objects, or build those
arrays from sympy expressions; the set's methods (``to_sympy``, ``to_latex``,
``from_sympy``, ``__str__``) wrap them, so this module never imports
:mod:`algebra._polyset`.

Exact coefficients become sympy ``Rational`` numbers; float coefficients become
``Float`` (keeping their exact binary value, so a round trip is lossless) or, with
``rational=True``, the nearest rational of bounded denominator
(:meth:`fractions.Fraction.limit_denominator`), which recovers coefficients such as
``-1`` or ``1/3`` that a float algorithm produced up to rounding.  Terms print in the
set's term order (sympy's ``order=`` printer setting).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np
import sympy

from algebra._errors import AlgebraError
from algebra._orders import TermOrder

__all__ = ["default_symbols", "from_sympy", "pretty", "to_latex", "to_sympy"]


def default_symbols(n_vars: int) -> tuple[sympy.Symbol, ...]:
    """The default variable names ``x0, x1, ..., x{n-1}`` (as scikit-learn names features).

    Parameters
    ----------
    n_vars : int
        Number of variables.

    Returns
    -------
    tuple of sympy.Symbol
    """
    return tuple(sympy.Symbol(f"x{i}") for i in range(n_vars))


def _resolve_symbols(symbols: Any, n_vars: int) -> tuple[sympy.Symbol, ...]:
    """Turn ``None``, a string ``"x y"`` or a sequence of names/Symbols into n Symbols."""
    if symbols is None:
        return default_symbols(n_vars)
    if isinstance(symbols, str):
        made = sympy.symbols(symbols)
        gens = tuple(made) if isinstance(made, (tuple, list)) else (made,)
    else:
        try:
            gens = tuple(sympy.Symbol(s) if isinstance(s, str) else s for s in symbols)
        except TypeError:
            gens = ()
    if len(gens) != n_vars or not all(isinstance(g, sympy.Symbol) for g in gens):
        raise AlgebraError(
            f"symbols must name {n_vars} variables (a sequence of sympy Symbols or "
            f"strings, or a string like 'x y z'), got {symbols!r}."
        )
    if len(set(gens)) != n_vars:
        raise AlgebraError(f"symbols must be distinct, got {symbols!r}.")
    return gens


def _sympy_coef(c: Any, exact: bool, rational: bool, max_denominator: int) -> Any:
    if exact:
        return sympy.Rational(c.numerator, c.denominator)
    if rational:
        f = Fraction(float(c)).limit_denominator(max_denominator)
        return sympy.Rational(f.numerator, f.denominator)
    return sympy.Float(float(c))


def to_sympy(
    terms: np.ndarray,
    coef: np.ndarray,
    symbols: Any = None,
    rational: bool = False,
    as_poly: bool = False,
    max_denominator: int = 10**6,
) -> list[Any]:
    """Polynomials given by their coefficients as sympy expressions (or ``Poly`` objects).

    Parameters
    ----------
    terms : ndarray of int64, shape (t, n)
        The exponent vectors (of a :class:`~algebra.PolynomialSet`).
    coef : ndarray, shape (t, p)
        float64, or an object array of :class:`fractions.Fraction` (exact).
    symbols, rational, as_poly, max_denominator
        As in :meth:`algebra.PolynomialSet.to_sympy`.

    Returns
    -------
    list of sympy.Expr or sympy.Poly, length p
    """
    gens = _resolve_symbols(symbols, terms.shape[1])
    if isinstance(max_denominator, bool) or not isinstance(max_denominator, int) or (
        max_denominator < 1
    ):
        raise AlgebraError(f"max_denominator must be an integer >= 1, got {max_denominator!r}.")
    exact = coef.dtype == object
    domain = sympy.QQ if exact or rational else sympy.RR
    monomials = [tuple(int(e) for e in row) for row in terms]
    out = []
    for j in range(coef.shape[1]):
        rep = {
            m: _sympy_coef(c, exact, rational, max_denominator)
            for m, c in zip(monomials, coef[:, j], strict=True)
            if c
        }
        poly = sympy.Poly.from_dict(rep, *gens, domain=domain)
        out.append(poly if as_poly else poly.as_expr())
    return out


def to_latex(
    terms: np.ndarray, coef: np.ndarray, order: TermOrder, symbols: Any = None,
    rational: bool = False,
) -> list[str]:
    """LaTeX of each polynomial, terms in descending term order.

    Parameters
    ----------
    terms, coef, symbols, rational
        As in :func:`to_sympy`.
    order : TermOrder
        The order in which the terms are printed (descending).

    Returns
    -------
    list of str, length p
    """
    return [
        sympy.latex(e, order=order.alias)
        for e in to_sympy(terms, coef, symbols=symbols, rational=rational)
    ]


def pretty(terms: np.ndarray, coef: np.ndarray, order: TermOrder, max_polys: int = 20) -> str:
    """One line ``g_j = ...`` per polynomial (floats shown with 6 digits).

    Parameters
    ----------
    terms, coef
        As in :func:`to_sympy`.
    order : TermOrder
        The order in which the terms are printed (descending).
    max_polys : int, default 20
        Print at most this many polynomials, then a line counting the others.

    Returns
    -------
    str
    """
    p = coef.shape[1]
    exprs = to_sympy(terms, coef[:, :max_polys])  # zero coefficients are not printed
    if coef.dtype != object:
        exprs = [e.evalf(6) for e in exprs]
    lines = [f"g{j} = {sympy.sstr(e, order=order.alias)}" for j, e in enumerate(exprs)]
    if p > max_polys:
        lines.append(f"... ({p - max_polys} more)")
    return "\n".join(lines)


def from_sympy(exprs: Any, gens: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """The exponent and coefficient arrays of sympy polynomials.

    Parameters
    ----------
    exprs, gens
        As in :meth:`algebra.PolynomialSet.from_sympy`.

    Returns
    -------
    terms : ndarray of int64, shape (t, n)
        The monomials present in some polynomial, unsorted.
    coef : ndarray, shape (t, p)
        Exact (an object array of ``Fraction``) when every coefficient is rational,
        else float64.

    Raises
    ------
    AlgebraError
        If an expression is not a polynomial in ``gens`` with numeric coefficients, or
        is zero.
    """
    # A string is one expression ("x**2 - y"), not a sequence of one-character ones.
    single = isinstance(exprs, (sympy.Basic, sympy.Poly, str, int, float, Fraction))
    items = [exprs] if single else list(exprs)
    if not items:
        raise AlgebraError("exprs is empty; pass at least one polynomial.")
    if isinstance(gens, str):
        made = sympy.symbols(gens)
        gens = list(made) if isinstance(made, (tuple, list)) else [made]
    gens = list(gens)
    if not gens:
        raise AlgebraError("gens is empty; pass the variables, e.g. sympy.symbols('x y').")
    syms = _resolve_symbols(gens, len(gens))
    dicts = []
    for j, e in enumerate(items):
        try:
            expr = e.as_expr() if isinstance(e, sympy.Poly) else sympy.sympify(e)
        except sympy.SympifyError:
            raise AlgebraError(
                f"exprs[{j}] = {e!r} is not a sympy expression; pass sympy expressions or "
                f"strings sympy can parse, such as 'x**2 + y**2 - 1'."
            ) from None
        extra = expr.free_symbols - set(syms)
        if extra:
            raise AlgebraError(
                f"exprs[{j}] = {expr} contains {sorted(map(str, extra))}, which are not in "
                f"gens {list(syms)}; add them to gens."
            )
        try:
            poly = sympy.Poly(expr, *syms)
        except sympy.PolynomialError:
            raise AlgebraError(
                f"exprs[{j}] = {expr} is not a polynomial in {list(syms)}; only "
                f"non-negative integer powers are allowed."
            ) from None
        if not (poly.domain.is_QQ or poly.domain.is_ZZ or poly.domain.is_RR):
            raise AlgebraError(
                f"exprs[{j}] = {expr} has coefficients in {poly.domain}; only real "
                f"numeric coefficients are supported."
            )
        dicts.append(poly.as_dict())
    exact = all(c.is_Rational for d in dicts for c in d.values())
    monomials = sorted({m for d in dicts for m in d})
    if not monomials:
        raise AlgebraError("exprs[0] is identically zero; drop zero polynomials.")
    index = {m: i for i, m in enumerate(monomials)}
    coef = np.empty((len(monomials), len(dicts)), dtype=object if exact else np.float64)
    coef[...] = Fraction(0) if exact else 0.0
    for j, d in enumerate(dicts):
        for m, c in d.items():
            coef[index[m], j] = Fraction(int(c.p), int(c.q)) if exact else float(c)
    return np.array(monomials, dtype=np.int64), coef
