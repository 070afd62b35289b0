"""Exponent-matrix utilities and the chain kernel, against brute force, numpy and sympy."""

import itertools
from math import comb

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from numba import prange
from sympy.polys.orderings import monomial_key

from algebra import (
    AlgebraError,
    all_monomials,
    border,
    divides,
    evaluate_monomials,
    is_order_ideal,
    monomial_chain,
    multiply,
    order_ideal_closure,
    random_order_ideal,
    total_degree,
)

ORDERS = ["lex", "deglex", "degrevlex"]


def monomial_sets(max_vars=3, max_exp=4, max_size=8):
    """Non-empty lists of exponent tuples of one common length."""
    return st.integers(1, max_vars).flatmap(
        lambda n: st.lists(
            st.tuples(*[st.integers(0, max_exp)] * n), min_size=1, max_size=max_size
        )
    )


def brute_divisors(m):
    return set(itertools.product(*[range(e + 1) for e in m]))


def numpy_monomials(X, E):
    return np.prod(X[:, None, :] ** E[None, :, :], axis=2)


def test_total_degree_and_divides():
    E = np.array([[0, 0], [2, 1], [1, 3]])
    assert total_degree(E).tolist() == [0, 3, 4]
    assert divides([1, 1], E).tolist() == [False, True, True]
    assert divides([[0, 0], [2, 0]], E).tolist() == [[True, True, True], [False, True, False]]


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("n", "d"), [(1, 4), (2, 3), (3, 3), (4, 2)])
def test_all_monomials_is_every_monomial_sorted(order, n, d):
    E = all_monomials(n, d, order)
    brute = [m for m in itertools.product(range(d + 1), repeat=n) if sum(m) <= d]
    assert len(E) == comb(n + d, d) == len(brute)
    alias = {"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}[order]
    assert [tuple(r) for r in E.tolist()] == sorted(brute, key=monomial_key(alias))
    assert is_order_ideal(E)


@given(monomial_sets())
def test_closure_is_the_smallest_order_ideal(gens):
    E = order_ideal_closure(np.array(gens), "deglex")
    expected = set().union(*(brute_divisors(g) for g in gens))
    assert {tuple(r) for r in E.tolist()} == expected
    assert len(E) == len(expected)  # distinct
    assert is_order_ideal(E)


def test_is_order_ideal_detects_a_missing_divisor():
    E = all_monomials(2, 2)
    assert is_order_ideal(E)
    assert not is_order_ideal(E[[0, 1, 3, 4]])  # (0,1) gone but (0,2),(1,1) kept
    assert is_order_ideal(np.zeros((0, 2), dtype=int))


@given(monomial_sets(), st.sampled_from(ORDERS))
def test_border_matches_definition(gens, order):
    O = order_ideal_closure(np.array(gens), order)
    n = O.shape[1]
    o_set = {tuple(r) for r in O.tolist()}
    expected = {
        tuple(e + (k == v) for k, e in enumerate(o)) for o in o_set for v in range(n)
    } - o_set
    B = border(O, order=order)
    assert {tuple(r) for r in B.tolist()} == expected and len(B) == len(expected)
    keys = [monomial_key({"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}[order])(
        tuple(r)) for r in B.tolist()]
    assert keys == sorted(keys)
    for d in range(int(B.sum(axis=1).max()) + 2):
        part = border(O, degree=d, order=order)
        assert {tuple(r) for r in part.tolist()} == {b for b in expected if sum(b) == d}


def test_border_errors():
    with pytest.raises(AlgebraError, match=r"O is not an order ideal"):
        border([[0, 0], [2, 0]])
    with pytest.raises(AlgebraError, match=r"O is empty"):
        border(np.zeros((0, 2), dtype=int))
    with pytest.raises(AlgebraError, match=r"degree must be an integer >= 0, got -1"):
        border([[0, 0]], degree=-1)


@pytest.mark.parametrize("order", ORDERS)
def test_monomial_chain_property(order):
    E = order_ideal_closure([[3, 0, 1], [0, 2, 2], [1, 1, 1]], order)
    parent, var = monomial_chain(E)
    const = np.flatnonzero(E.sum(axis=1) == 0)
    assert const.tolist() == [0] and parent[0] == -1 and var[0] == -1
    for i in range(1, len(E)):
        assert 0 <= parent[i] < i
        step = np.zeros(E.shape[1], dtype=int)
        step[var[i]] = 1
        assert np.array_equal(E[i], E[parent[i]] + step)


def test_monomial_chain_errors():
    with pytest.raises(AlgebraError, match=r"divisor of term 1 \(\[2, 0\]\).*missing"):
        monomial_chain([[0, 0], [2, 0]])
    with pytest.raises(AlgebraError, match=r"listed after it"):
        monomial_chain([[0, 0], [2, 0], [1, 0]])


@pytest.mark.parametrize("chunk_size", [None, 1, 7])
def test_evaluate_monomials_against_numpy_powers(chunk_size):
    rng = np.random.default_rng(0)
    E = all_monomials(3, 4, "degrevlex")
    X = rng.uniform(-1.5, 1.5, size=(23, 3))
    mu = evaluate_monomials(X, E, chunk_size=chunk_size)
    assert mu.shape == (23, len(E)) and mu.dtype == np.float64
    np.testing.assert_allclose(mu, numpy_monomials(X, E), rtol=1e-13, atol=1e-15)


def test_evaluate_monomials_parallel_path_against_numpy():
    # Enough rows for the parallel kernel (algebra._threads.PARALLEL_MIN_ROWS).
    rng = np.random.default_rng(1)
    E = all_monomials(2, 3)
    X = rng.uniform(-1, 1, size=(25_000, 2))
    np.testing.assert_allclose(evaluate_monomials(X, E), numpy_monomials(X, E), rtol=1e-13,
                               atol=1e-15)


def test_evaluate_monomials_against_sympy():
    x = sympy.symbols("x0:3")
    E = order_ideal_closure([[2, 1, 0], [0, 0, 3], [1, 1, 1]], "lex")
    pts = [[sympy.Rational(1, 2), -2, 3], [sympy.Rational(-3, 4), sympy.Rational(5, 3), 1]]
    mu = evaluate_monomials(np.array(pts, dtype=float), E)
    for r, p in enumerate(pts):
        for i, e in enumerate(E.tolist()):
            monomial = sympy.Mul(*[xi**k for xi, k in zip(x, e, strict=True)])
            exact = monomial.subs(dict(zip(x, p, strict=True)))
            assert mu[r, i] == pytest.approx(float(exact), rel=1e-14)


def test_evaluate_monomials_accepts_int_and_float32():
    E = all_monomials(2, 2)
    X = np.array([[1, 2], [3, -1]])
    np.testing.assert_array_equal(evaluate_monomials(X, E), numpy_monomials(X.astype(float), E))
    X32 = X.astype(np.float32)
    np.testing.assert_array_equal(evaluate_monomials(X32, E), evaluate_monomials(X, E))


def test_evaluate_monomials_bad_input():
    E = all_monomials(2, 1)
    with pytest.raises(AlgebraError, match=r"X contains NaN or infinite values.*row 1, column 0"):
        evaluate_monomials([[0.0, 1.0], [np.inf, 0.0]], E)
    with pytest.raises(AlgebraError, match=r"X has 3 columns but the polynomials are in 2"):
        evaluate_monomials(np.ones((2, 3)), E)
    with pytest.raises(AlgebraError, match=r"X must be a 2-D array.*reshape"):
        evaluate_monomials(np.ones(2), E)
    with pytest.raises(AlgebraError, match=r"X has no rows"):
        evaluate_monomials(np.ones((0, 2)), E)
    with pytest.raises(AlgebraError, match=r"X must hold real numbers"):
        evaluate_monomials([["a", "b"]], E)
    with pytest.raises(AlgebraError, match=r"X must hold real numbers"):
        evaluate_monomials(np.ones((1, 2), dtype=complex), E)
    with pytest.raises(AlgebraError, match=r"chunk_size must be an integer >= 1, got 0"):
        evaluate_monomials(np.ones((1, 2)), E, chunk_size=0)
    with pytest.raises(AlgebraError, match=r"terms is not a sorted order ideal"):
        evaluate_monomials(np.ones((1, 2)), [[0, 0], [0, 2]])


def test_too_many_terms_raise_instead_of_hanging():
    from algebra._monomials import MAX_TERMS

    with pytest.raises(AlgebraError, match=r"all_monomials\(n_vars=10, max_degree=1000\) has "
                                           r"\d+ monomials, more than MAX_TERMS.*lower max_degree"):
        all_monomials(10, 1000)
    # x**(2**62) has 2**62 + 1 divisors: refused up front, not enumerated.
    with pytest.raises(AlgebraError, match=r"could have up to \d+ monomials.*lower degree"):
        order_ideal_closure([[2**62, 0]])
    # the bound is the sum of prod(a_k + 1) over the monomials: at the limit it passes
    side = int(np.sqrt(MAX_TERMS)) - 1
    assert (side + 1) ** 2 <= MAX_TERMS
    with pytest.raises(AlgebraError, match=r"more than MAX_TERMS"):
        order_ideal_closure([[side + 1, side + 1]])
    assert len(order_ideal_closure([[40, 40]])) == 41 * 41


def test_exponents_need_at_least_one_variable():
    with pytest.raises(AlgebraError, match=r"terms has no columns \(shape \(1, 0\)\)"):
        monomial_chain(np.zeros((1, 0), dtype=int))
    with pytest.raises(AlgebraError, match=r"E has no columns"):
        total_degree(np.zeros((3, 0), dtype=int))


def _row_sums(X, out):
    for r in prange(X.shape[0]):
        s = 0.0
        for j in range(X.shape[1]):
            s += X[r, j]
        out[r] = s


def test_jit_pair_twins_have_separate_disk_caches():
    # numba keys its cache files by qualified name, not by the parallel flag: the twins
    # made by jit_pair must not load each other's machine code.
    from algebra._kernels import jit_pair

    serial, parallel = jit_pair(_row_sums)
    assert not serial.targetoptions.get("parallel", False)
    assert parallel.targetoptions["parallel"] is True
    assert serial._cache is not None and parallel._cache is not None  # cache=True
    assert serial._cache._cache_file._index_name != parallel._cache._cache_file._index_name
    # both twins compute the same numbers
    X = np.random.default_rng(3).normal(size=(50, 3))
    a, b = np.empty(50), np.empty(50)
    serial(X, a)
    parallel(X, b)
    np.testing.assert_allclose(a, X.sum(axis=1), rtol=1e-13)
    np.testing.assert_allclose(b, X.sum(axis=1), rtol=1e-13)


@given(monomial_sets(max_size=5), st.data())
def test_multiply_against_sympy_products(B, data):
    n = len(B[0])
    x = sympy.symbols(f"x0:{n}")
    a = data.draw(st.lists(st.integers(0, 4), min_size=n, max_size=n))

    def expr(e):
        return sympy.Mul(*[xi**k for xi, k in zip(x, e, strict=True)])

    out = multiply(a, B)
    assert out.shape == (len(B), n)
    for b, prod in zip(B, out.tolist(), strict=True):
        assert sympy.Poly(expr(a) * expr(b), *x).monoms() == [tuple(prod)]
    both = multiply([a, [0] * n], B)  # several factors at once; 1 * B == B
    assert both.shape == (2, len(B), n)
    assert np.array_equal(both[0], out) and np.array_equal(both[1], np.array(B))
    assert divides(a, out).all()  # a divides every product


def test_multiply_errors():
    with pytest.raises(AlgebraError, match=r"B has 2 columns but 3 variables are expected"):
        multiply([1, 0, 0], [[1, 2]])
    with pytest.raises(AlgebraError, match=r"a must hold non-negative exponents"):
        multiply([-1, 0], [[1, 2]])


@given(n_vars=st.integers(1, 4), counts=st.lists(st.integers(0, 6), min_size=0, max_size=4),
       seed=st.integers(0, 2**32 - 1), order=st.sampled_from(["deglex", "degrevlex", "lex"]))
def test_random_order_ideal_is_a_sorted_order_ideal_with_the_asked_degrees(
        n_vars, counts, seed, order):
    counts = [1, *counts]
    E = random_order_ideal(counts, n_vars, order=order, random_state=seed)
    assert is_order_ideal(E) and np.unique(E, axis=0).shape[0] == E.shape[0]
    key = monomial_key({"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}[order])
    assert [key(tuple(r)) for r in E.tolist()] == sorted(key(tuple(r)) for r in E.tolist())
    # Each degree gets what was asked, or every admissible monomial when fewer exist:
    # that degree then holds all of its candidates (brute force).
    got = np.bincount(total_degree(E), minlength=len(counts)).tolist()
    present = {tuple(r) for r in E.tolist()}
    for d in range(1, len(counts)):
        if got[d] == counts[d]:
            continue
        assert got[d] < counts[d]
        below = [m for m in present if sum(m) == d - 1]
        admissible = {
            u for m in below for v in range(n_vars)
            for u in [tuple(e + (i == v) for i, e in enumerate(m))]
            if all(tuple(e - (i == w) for i, e in enumerate(u)) in present
                   for w in range(n_vars) if u[w])
        }
        assert {m for m in present if sum(m) == d} == admissible


def test_random_order_ideal_draws_from_its_seed():
    a = random_order_ideal([1, 3, 5, 4], 4, random_state=7)
    np.testing.assert_array_equal(a, random_order_ideal([1, 3, 5, 4], 4, random_state=7))
    np.testing.assert_array_equal(
        a, random_order_ideal([1, 3, 5, 4], 4, random_state=np.random.default_rng(7)))
    # Over many seeds every variable appears at degree 1 (the draw is not stuck on one).
    seen = {tuple(r) for s in range(40) for r in random_order_ideal([1, 1], 4, random_state=s)}
    assert len(seen) == 5


def test_random_order_ideal_errors():
    with pytest.raises(AlgebraError, match=r"degree_counts must be a non-empty sequence of "
                                           r"integers >= 0 whose first entry is 1"):
        random_order_ideal([2, 3], 2)
    with pytest.raises(AlgebraError, match=r"got \[1, -1\]"):
        random_order_ideal([1, -1], 2)
    with pytest.raises(AlgebraError, match=r"got \[\]"):
        random_order_ideal([], 2)
    with pytest.raises(AlgebraError, match=r"n_vars must be an integer >= 1, got 0"):
        random_order_ideal([1, 1], 0)

