"""Term orders on monomials and variable-permutation strategies.

A term order is a total order on the monomials ``x**a`` (exponent vectors ``a``) that
is *admissible*: ``1 <= t`` for every ``t`` and ``a < b`` implies ``a*c < b*c``.  The
three orders here are those of :mod:`sympy.polys.orderings` (Cox, Little, O'Shea,
*Ideals, Varieties, and Algorithms*, §2.2), with the same keys, so sorting with
:meth:`TermOrder.key` agrees with ``sorted(..., key=sympy.polys.orderings.monomial_key(alias))``.

Sorting whole exponent matrices is vectorised with :func:`numpy.lexsort`: terms are
always listed in *ascending* order, so the constant term comes first and, in an order
ideal, every divisor of a term comes before it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._validation import check_exponents, check_points

__all__ = [
    "PERMUTATIONS",
    "TERM_ORDERS",
    "TermOrder",
    "deglex",
    "degrevlex",
    "get_term_order",
    "grevlex",
    "grlex",
    "lex",
    "sort_terms",
    "variable_permutation",
]


@dataclass(frozen=True)
class TermOrder:
    """An admissible term order on exponent vectors.

    Instances are small, immutable and hashable (the sympy style); use the module
    constants :data:`lex`, :data:`deglex` and :data:`degrevlex`, or
    :func:`get_term_order` to resolve a name.

    Parameters
    ----------
    name : {"lex", "deglex", "degrevlex"}
        The vinet name of the order.
    alias : {"lex", "grlex", "grevlex"}
        The sympy name of the same order (accepted by :func:`get_term_order` too).

    Examples
    --------
    >>> from algebra import deglex
    >>> sorted([(0, 2), (1, 0), (1, 1)], key=deglex.key)
    [(1, 0), (0, 2), (1, 1)]
    """

    name: str
    alias: str

    def __post_init__(self) -> None:
        if self.name not in _KEYS:
            raise AlgebraError(
                f"TermOrder name must be one of {sorted(_KEYS)}, got {self.name!r}; use "
                f"get_term_order(name) to resolve aliases."
            )

    def key(self, monomial: Sequence[int]) -> tuple[Any, ...]:
        """The sort key of one monomial, identical to sympy's ``monomial_key(alias)``.

        Parameters
        ----------
        monomial : sequence of int of length n
            An exponent vector.

        Returns
        -------
        tuple
            ``a < b`` in this order if and only if ``key(a) < key(b)``.
        """
        return _KEYS[self.name](tuple(int(e) for e in monomial))

    __call__ = key

    def argsort(self, E: Any) -> np.ndarray:
        """Indices that sort the rows of an exponent matrix ascending in this order.

        Parameters
        ----------
        E : array_like of int, shape (t, n)
            Exponent vectors, one per row.

        Returns
        -------
        ndarray of int64, shape (t,)
            ``E[perm]`` is sorted ascending (smallest term first); ties (equal rows)
            keep their input order.
        """
        E = check_exponents(E, name="E")
        if E.shape[0] == 0:
            return np.zeros(0, dtype=np.int64)
        # np.lexsort sorts by its LAST key first, so keys are listed least significant
        # first; each branch mirrors the sympy key tuple read right to left.
        cols = [E[:, j] for j in range(E.shape[1])]
        if self.name == "lex":
            keys = cols[::-1]
        elif self.name == "deglex":
            keys = [*cols[::-1], E.sum(axis=1)]
        else:  # degrevlex: (degree, -a_n, -a_{n-1}, ..., -a_1)
            keys = [*(-c for c in cols), E.sum(axis=1)]
        return np.lexsort(keys).astype(np.int64)

    @property
    def is_degree_compatible(self) -> bool:
        """Whether ``deg(a) < deg(b)`` implies ``a < b`` (true for deglex and degrevlex)."""
        return self.name != "lex"

    def __repr__(self) -> str:
        return f"TermOrder({self.name!r})"

    def __str__(self) -> str:
        return self.name


def _lex_key(m: tuple[int, ...]) -> tuple[Any, ...]:
    return m


def _deglex_key(m: tuple[int, ...]) -> tuple[Any, ...]:
    return (sum(m), m)


def _degrevlex_key(m: tuple[int, ...]) -> tuple[Any, ...]:
    # sympy.polys.orderings.ReversedGradedLexOrder.__call__
    return (sum(m), tuple(reversed([-e for e in m])))


_KEYS: dict[str, Callable[[tuple[int, ...]], tuple[Any, ...]]] = {
    "lex": _lex_key,
    "deglex": _deglex_key,
    "degrevlex": _degrevlex_key,
}

#: Lexicographic order: compare the exponent of ``x_1``, then ``x_2``, ...
lex = TermOrder("lex", "lex")
#: Degree-lexicographic order (sympy's ``grlex``): total degree, then lex.
deglex = TermOrder("deglex", "grlex")
#: Degree-reverse-lexicographic order (sympy's ``grevlex``).
degrevlex = TermOrder("degrevlex", "grevlex")
#: The sympy name of :data:`deglex`.
grlex = deglex
#: The sympy name of :data:`degrevlex`.
grevlex = degrevlex

#: Every accepted name (vinet names and sympy aliases) -> its :class:`TermOrder`.
TERM_ORDERS: dict[str, TermOrder] = {
    "lex": lex,
    "deglex": deglex,
    "grlex": deglex,
    "degrevlex": degrevlex,
    "grevlex": degrevlex,
}


def get_term_order(order: str | TermOrder) -> TermOrder:
    """Resolve a term-order name or object.

    Parameters
    ----------
    order : str or TermOrder
        A :class:`TermOrder`, or one of the names in :data:`TERM_ORDERS`
        (case-insensitive): ``"lex"``, ``"deglex"``/``"grlex"``,
        ``"degrevlex"``/``"grevlex"``.

    Returns
    -------
    TermOrder

    Raises
    ------
    AlgebraError
        If the name is unknown; the message lists the supported names.
    """
    if isinstance(order, TermOrder):
        return order
    if isinstance(order, str) and order.lower() in TERM_ORDERS:
        return TERM_ORDERS[order.lower()]
    raise AlgebraError(
        f"order must be a TermOrder or one of {', '.join(repr(k) for k in TERM_ORDERS)}, "
        f"got {order!r}."
    )


def sort_terms(E: Any, order: str | TermOrder = "deglex") -> tuple[np.ndarray, np.ndarray]:
    """Sort the rows of an exponent matrix ascending in a term order.

    Parameters
    ----------
    E : array_like of int, shape (t, n)
        Exponent vectors, one per row.
    order : str or TermOrder, default "deglex"
        The term order.

    Returns
    -------
    E_sorted : ndarray of int64, shape (t, n)
        ``E[perm]``.
    perm : ndarray of int64, shape (t,)
        The sorting permutation.
    """
    E = check_exponents(E, name="E")
    perm = get_term_order(order).argsort(E)
    return E[perm], perm


#: The variable-permutation strategies accepted by :func:`variable_permutation`.
PERMUTATIONS: tuple[str, ...] = ("identity", "pearson", "rev_pearson")


def variable_permutation(X: Any, strategy: str = "identity") -> np.ndarray:
    """Order the variables (columns) of data before a term order is applied.

    Term orders are not symmetric in the variables, so which column is ``x_1``
    changes the order ideal an algorithm finds.  ``"pearson"`` follows the feature
    ordering of Wirth & Pokutta (2022, "Conditional gradients for the approximately
    vanishing ideal", §6): columns sorted by ascending sum of absolute Pearson
    correlations with all columns, so the least redundant variable comes first.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data.
    strategy : {"identity", "pearson", "rev_pearson"}, default "identity"
        ``"identity"`` keeps the columns, ``"pearson"`` sorts them by ascending sum of
        absolute correlations, ``"rev_pearson"`` by descending sum.  Constant columns
        count as uncorrelated with everything; ties keep the column order.

    Returns
    -------
    ndarray of int64, shape (n,)
        ``X[:, perm]`` is the reordered data.

    Raises
    ------
    AlgebraError
        If ``strategy`` is unknown or ``X`` is not a finite 2-D array.
    """
    if strategy not in PERMUTATIONS:
        raise AlgebraError(
            f"strategy must be one of {', '.join(repr(s) for s in PERMUTATIONS)}, got "
            f"{strategy!r}."
        )
    X = check_points(X)
    n = X.shape[1]
    if strategy == "identity" or n == 1:
        return np.arange(n, dtype=np.int64)
    centred = X - X.mean(axis=0)
    norms = np.sqrt((centred**2).sum(axis=0))
    # A constant column has zero norm: give it zero correlation instead of NaN.
    safe = np.where(norms > 0, norms, 1.0)
    unit = centred / safe
    corr = np.abs(unit.T @ unit)
    score = corr.sum(axis=1)
    if strategy == "rev_pearson":
        score = -score
    return np.argsort(score, kind="stable").astype(np.int64)
