"""Exponent-matrix utilities: degrees, divisibility, order ideals, borders, chains.

A monomial ``x_1**a_1 * ... * x_n**a_n`` is its exponent row ``a``; a set of monomials
is an int matrix ``E`` of shape (t, n).  An *order ideal* ``O`` is a set closed under
division (every divisor of a member is a member); its *border* is
``∂O = (x_1 O ∪ ... ∪ x_n O) \\ O`` (Kehrein, Kreuzer, Robbiano, "An algebraist's view
on border bases", 2005, Def. 2.1).  The design keeps every set sorted ascending in a
term order, so an order ideal lists each divisor before its multiples and
:func:`monomial_chain` gives every term a parent one variable lower.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._kernels import block_rows, eval_polys
from algebra._orders import TermOrder, get_term_order
from algebra._threads import run_kernel
from algebra._validation import (
    check_exponents,
    check_points,
    check_positive_int,
    check_random_state,
)

__all__ = [
    "all_monomials",
    "border",
    "divides",
    "evaluate_monomials",
    "is_order_ideal",
    "monomial_chain",
    "multiply",
    "order_ideal_closure",
    "random_order_ideal",
    "total_degree",
]

#: Default bytes of one chunk of monomial evaluations, which bounds temporary memory.
CHUNK_BYTES = 32 * 2**20
#: The most monomials :func:`all_monomials` and :func:`order_ideal_closure` will list:
#: enumerating more (e.g. every divisor of ``x**(2**40)``) would exhaust memory, so
#: they raise instead of hanging.
MAX_TERMS = 5_000_000


def _too_many_terms(count: int, what: str, fix: str) -> AlgebraError:
    """The error for an enumeration of more than :data:`MAX_TERMS` monomials."""
    return AlgebraError(
        f"{what} {count} monomials, more than MAX_TERMS = {MAX_TERMS} (they would not "
        f"fit in memory); {fix}."
    )


def total_degree(E: Any) -> np.ndarray:
    """Total degree of each monomial.

    Parameters
    ----------
    E : array_like of int, shape (t, n)
        Exponent vectors.

    Returns
    -------
    ndarray of int64, shape (t,)
        ``E.sum(axis=1)``.
    """
    return check_exponents(E, name="E").sum(axis=1)


def divides(a: Any, B: Any) -> np.ndarray:
    """Whether the monomial(s) ``a`` divide each monomial of ``B``.

    Parameters
    ----------
    a : array_like of int, shape (n,) or (k, n)
        One divisor, or ``k`` divisors.
    B : array_like of int, shape (t, n)
        The monomials to test.

    Returns
    -------
    ndarray of bool, shape (t,) or (k, t)
        ``out[..., j]`` is true when ``a`` divides ``B[j]`` (``a <= B[j]`` entrywise).
    """
    A, B, single = _pair(a, B)
    out = np.all(A[:, None, :] <= B[None, :, :], axis=2)
    return out[0] if single else out


def multiply(a: Any, B: Any) -> np.ndarray:
    """The products of the monomial(s) ``a`` with each monomial of ``B``.

    Parameters
    ----------
    a : array_like of int, shape (n,) or (k, n)
        One factor, or ``k`` factors.
    B : array_like of int, shape (t, n)
        The monomials to multiply.

    Returns
    -------
    ndarray of int64, shape (t, n) or (k, t, n)
        ``out[..., j, :]`` is the exponent vector of ``a * B[j]`` (exponents add).
    """
    A, B, single = _pair(a, B)
    out = A[:, None, :] + B[None, :, :]
    return out[0] if single else out


def _pair(a: Any, B: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate the operands of :func:`divides` / :func:`multiply`: ``(A (k, n), B, single)``."""
    a_arr = np.asarray(a)
    A = check_exponents(a_arr, name="a")
    return A, check_exponents(B, name="B", n_vars=A.shape[1]), a_arr.ndim == 1


def row_index(E: np.ndarray, Q: np.ndarray) -> np.ndarray:
    """Index of each row of ``Q`` among the rows of ``E`` (-1 where absent).

    Rows are compared as raw bytes (a void view), sorted once and looked up with
    ``searchsorted``, so the lookup is vectorised for any number of variables.
    """
    if E.shape[0] == 0 or Q.shape[0] == 0:
        return np.full(Q.shape[0], -1, dtype=np.int64)
    void = np.dtype((np.void, E.dtype.itemsize * E.shape[1]))
    ev = np.ascontiguousarray(E).view(void).ravel()
    qv = np.ascontiguousarray(Q, dtype=E.dtype).view(void).ravel()
    order = np.argsort(ev, kind="stable")
    pos = np.searchsorted(ev[order], qv)
    pos = np.minimum(pos, ev.shape[0] - 1)
    found = ev[order][pos] == qv
    return np.where(found, order[pos], -1).astype(np.int64)


def _unique_rows(E: np.ndarray) -> np.ndarray:
    """The distinct rows of ``E`` (in no particular order)."""
    if E.shape[0] == 0:
        return E
    return np.unique(E, axis=0)


def all_monomials(
    n_vars: int, max_degree: int, order: str | TermOrder = "deglex"
) -> np.ndarray:
    """Every monomial in ``n_vars`` variables of total degree at most ``max_degree``.

    Parameters
    ----------
    n_vars : int
        Number of variables ``n >= 1``.
    max_degree : int
        Largest total degree ``d >= 0``.
    order : str or TermOrder, default "deglex"
        The term order of the result.

    Returns
    -------
    ndarray of int64, shape (binom(n + d, d), n)
        The exponent vectors, sorted ascending.

    Raises
    ------
    AlgebraError
        If ``n_vars < 1``, ``max_degree < 0``, or there are more than
        :data:`MAX_TERMS` such monomials.
    """
    n_vars = check_positive_int(n_vars, "n_vars")
    max_degree = check_positive_int(max_degree, "max_degree", minimum=0)
    order = get_term_order(order)
    count = math.comb(n_vars + max_degree, max_degree)
    if count > MAX_TERMS:
        raise _too_many_terms(
            count,
            f"all_monomials(n_vars={n_vars}, max_degree={max_degree}) has",
            "lower max_degree or reduce the number of variables (e.g. with PCA)",
        )
    layers = [np.zeros((1, n_vars), dtype=np.int64)]
    eye = np.eye(n_vars, dtype=np.int64)
    for _ in range(max_degree):
        prev = layers[-1]
        layers.append(_unique_rows((prev[:, None, :] + eye[None, :, :]).reshape(-1, n_vars)))
    E = np.concatenate(layers)
    return E[order.argsort(E)]


def random_order_ideal(
    degree_counts: Any,
    n_vars: int,
    order: str | TermOrder = "deglex",
    random_state: Any = None,
) -> np.ndarray:
    """A random order ideal with ``degree_counts[d]`` monomials of each degree ``d``.

    Built degree by degree: the monomials of degree ``d`` are drawn uniformly without
    replacement among the products ``m · x_v`` of the chosen degree ``d − 1`` monomials
    whose every divisor was chosen, so the result stays closed under division.  A
    degree with fewer such candidates than asked gets all of them, and a degree with
    none ends the ideal.  VI-Net's random-monomial baseline
    (:func:`bridge.random_monomial_baseline`) draws its monomials with this.

    Parameters
    ----------
    degree_counts : sequence of int
        ``degree_counts[d]`` monomials of degree ``d``; ``degree_counts[0]`` must be 1
        (the constant), the others ``>= 0``.
    n_vars : int
        Number of variables ``n >= 1``.
    order : str or TermOrder, default "deglex"
        The term order of the result.
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        Seed of the draws.

    Returns
    -------
    ndarray of int64, shape (t, n_vars)
        The exponent vectors, sorted ascending; ``t <= sum(degree_counts)``.

    Raises
    ------
    AlgebraError
        If ``degree_counts`` is not a non-empty sequence of non-negative integers
        starting with 1, or ``n_vars < 1``.

    Examples
    --------
    >>> from algebra import is_order_ideal, random_order_ideal, total_degree
    >>> E = random_order_ideal([1, 2, 2], n_vars=3, random_state=0)
    >>> is_order_ideal(E), total_degree(E).tolist()
    (True, [0, 1, 1, 2, 2])
    """
    counts = np.asarray(degree_counts)
    if (counts.ndim != 1 or counts.size == 0 or counts.dtype.kind not in "iu"
            or counts.min() < 0 or counts[0] != 1):
        raise AlgebraError(
            f"degree_counts must be a non-empty sequence of integers >= 0 whose first "
            f"entry is 1 (the constant monomial), got {degree_counts!r}; e.g. [1, 3, 4]."
        )
    n_vars = check_positive_int(n_vars, "n_vars")
    order = get_term_order(order)
    rng = check_random_state(random_state)
    eye = np.eye(n_vars, dtype=np.int64)
    levels = [np.zeros((1, n_vars), dtype=np.int64)]
    for count in counts[1:].tolist():
        prev = levels[-1]
        cand = _unique_rows((prev[:, None, :] + eye[None, :, :]).reshape(-1, n_vars))
        closed = np.ones(cand.shape[0], dtype=bool)
        for v in range(n_vars):  # every divisor u - e_v must have been chosen
            has = cand[:, v] > 0
            closed[has] &= row_index(prev, cand[has] - eye[v]) >= 0
        cand = cand[closed]
        take = min(count, cand.shape[0])
        if take == 0:
            break
        levels.append(cand[rng.choice(cand.shape[0], size=take, replace=False)])
    E = np.concatenate(levels)
    return E[order.argsort(E)]


def _missing_divisors(E: np.ndarray) -> np.ndarray:
    """The distinct divisors ``E[i] - e_v`` (one variable lower) absent from ``E``."""
    n = E.shape[1]
    rows = []
    for v in range(n):
        has = E[:, v] > 0
        if np.any(has):
            d = E[has].copy()
            d[:, v] -= 1
            rows.append(d)
    if not rows:
        return np.zeros((0, n), dtype=np.int64)
    cand = _unique_rows(np.concatenate(rows))
    return cand[row_index(E, cand) < 0]


def is_order_ideal(E: Any) -> bool:
    """Whether a set of monomials is closed under division.

    Parameters
    ----------
    E : array_like of int, shape (t, n)
        Distinct exponent vectors (in any order).

    Returns
    -------
    bool
        True when every divisor of every row is a row (the empty set counts).
    """
    E = check_exponents(E, name="E")
    # Closure under the one-variable-lower divisors implies closure under all divisors.
    return _missing_divisors(E).shape[0] == 0


def order_ideal_closure(E: Any, order: str | TermOrder = "deglex") -> np.ndarray:
    """The smallest order ideal containing the given monomials.

    Parameters
    ----------
    E : array_like of int, shape (t, n)
        Exponent vectors (duplicates allowed).
    order : str or TermOrder, default "deglex"
        The term order of the result.

    Returns
    -------
    ndarray of int64, shape (s, n)
        All divisors of all rows of ``E``, distinct, sorted ascending.

    Raises
    ------
    AlgebraError
        If the closure could hold more than :data:`MAX_TERMS` monomials (a monomial
        ``x**a`` has ``prod(a_k + 1)`` divisors).
    """
    E = _unique_rows(check_exponents(E, name="E"))
    order = get_term_order(order)
    # Upper bound on the closure's size, in float so that huge exponents cannot overflow.
    bound = float(np.prod(E.astype(np.float64) + 1.0, axis=1).sum()) if E.shape[0] else 0.0
    if bound > MAX_TERMS:
        raise _too_many_terms(
            int(min(bound, 1e300)),
            f"The order ideal spanned by these monomials (largest exponent {int(E.max())}) "
            f"could have up to",
            "pass monomials of lower degree",
        )
    while True:
        missing = _missing_divisors(E)
        if missing.shape[0] == 0:
            break
        E = np.concatenate([E, missing])
    return E[order.argsort(E)]


def border(
    O: Any, degree: int | None = None, order: str | TermOrder = "deglex"
) -> np.ndarray:
    """The border of an order ideal: the terms one variable outside it.

    ``∂O = (x_1 O ∪ … ∪ x_n O) \\ O`` (Kehrein, Kreuzer & Robbiano 2005, Def. 2.1).

    Parameters
    ----------
    O : array_like of int, shape (s, n)
        A non-empty order ideal.
    degree : int, optional
        Return only the border terms of this total degree (the degree-``d`` part
        used degree by degree in OAVI and Buchberger–Möller); all when omitted.
    order : str or TermOrder, default "deglex"
        The term order of the result.

    Returns
    -------
    ndarray of int64, shape (b, n)
        The border terms, distinct, sorted ascending.

    Raises
    ------
    AlgebraError
        If ``O`` is empty or not closed under division.
    """
    O = check_exponents(O, name="O")
    order = get_term_order(order)
    if O.shape[0] == 0:
        raise AlgebraError(
            "O is empty; the border of the empty order ideal is not defined (pass at "
            "least the constant term, np.zeros((1, n_vars), dtype=int))."
        )
    if not is_order_ideal(O):
        raise AlgebraError(
            "O is not an order ideal (some divisor of a term is missing); close it "
            "first with order_ideal_closure(O)."
        )
    if degree is not None:
        degree = check_positive_int(degree, "degree", minimum=0)
        # Degree-d border terms are x_v * o with deg(o) = d - 1.
        base = O[O.sum(axis=1) == degree - 1]
    else:
        base = O
    n = O.shape[1]
    if base.shape[0] == 0:
        return np.zeros((0, n), dtype=np.int64)
    cand = _unique_rows((base[:, None, :] + np.eye(n, dtype=np.int64)[None]).reshape(-1, n))
    B = cand[row_index(O, cand) < 0]
    return B[order.argsort(B)]


def monomial_chain(terms: Any) -> tuple[np.ndarray, np.ndarray]:
    """The ``(parent, var)`` chain of a sorted order ideal.

    Parameters
    ----------
    terms : array_like of int, shape (t, n)
        Distinct monomials, closed under division and sorted ascending in an
        admissible term order (so divisors come first).

    Returns
    -------
    parent : ndarray of int64, shape (t,)
        ``terms[i] == terms[parent[i]] + e_{var[i]}`` with ``parent[i] < i``; the
        constant term has ``parent == -1`` and ``var == -1``.
    var : ndarray of int64, shape (t,)
        The variable multiplied in.

    Raises
    ------
    AlgebraError
        If a divisor of some term is missing or listed after it.
    """
    E = check_exponents(terms, name="terms")
    t = E.shape[0]
    nonconst = E.sum(axis=1) > 0
    # The first variable present in each term; any variable would do.
    var = np.where(nonconst, np.argmax(E > 0, axis=1), -1).astype(np.int64)
    parent = np.full(t, -1, dtype=np.int64)
    idx = np.flatnonzero(nonconst)
    if idx.size:
        P = E[idx].copy()
        P[np.arange(idx.size), var[idx]] -= 1
        parent[idx] = row_index(E, P)
        bad = idx[(parent[idx] < 0) | (parent[idx] >= idx)]
        if bad.size:
            i = int(bad[0])
            raise AlgebraError(
                f"terms is not a sorted order ideal: the divisor of term {i} "
                f"({E[i].tolist()}) one degree lower in variable {var[i]} is "
                f"{'missing' if parent[i] < 0 else 'listed after it'}; close and sort "
                f"the terms with order_ideal_closure(terms, order)."
            )
    return parent, var


def default_chunk_rows(row_bytes: int, chunk_size: int | None) -> int:
    """Rows per chunk: ``chunk_size`` if given, else what fits in :data:`CHUNK_BYTES`."""
    if chunk_size is not None:
        return check_positive_int(chunk_size, "chunk_size")
    return max(1, CHUNK_BYTES // max(1, row_bytes))


def chain_into(X: np.ndarray, parent: np.ndarray, var: np.ndarray, out: np.ndarray) -> None:
    """Write the monomials of validated ``X`` into ``out`` (m, t) under the thread budget.

    The fused evaluation kernel with the identity as coefficients: polynomial ``i`` is
    monomial ``i``.
    """
    t = parent.shape[0]
    index = np.arange(t + 1, dtype=np.int64)
    run_kernel(eval_polys, X.shape[0], X, parent, var, index, index[:t], np.ones(t), False,
               block_rows(2 * t), out)


def chain_monomials(
    X: np.ndarray, parent: np.ndarray, var: np.ndarray, chunk_size: int | None = None
) -> np.ndarray:
    """``μ(X)`` (m, t) of validated ``X`` along a chain, ``chunk_size`` rows per kernel call.

    The whole output is returned, so by default one kernel call fills it (one parallel
    region, its blocks handed out dynamically).
    """
    out = np.empty((X.shape[0], parent.shape[0]), dtype=np.float64)
    step = X.shape[0] if chunk_size is None else check_positive_int(chunk_size, "chunk_size")
    for start in range(0, X.shape[0], step):
        chain_into(X[start : start + step], parent, var, out[start : start + step])
    return out


def evaluate_monomials(X: Any, terms: Any, chunk_size: int | None = None) -> np.ndarray:
    """Evaluate every monomial of a sorted order ideal at every sample.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The samples.
    terms : array_like of int, shape (t, n)
        A sorted order ideal (see :func:`monomial_chain`).
    chunk_size : int, optional
        Rows handed to the kernel at a time; by default all of them (the output holds
        every row anyway, and one call is one parallel region).

    Returns
    -------
    ndarray of float64, shape (m, t)
        ``out[r, i] = prod_k X[r, k] ** terms[i, k]``, computed with one multiply per
        monomial along the chain, on the threads of :func:`~algebra.thread_budget`.
    """
    E = check_exponents(terms, name="terms")
    X = check_points(X, n_vars=E.shape[1])
    parent, var = monomial_chain(E)
    return chain_monomials(X, parent, var, chunk_size)
