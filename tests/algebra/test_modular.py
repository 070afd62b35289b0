"""Modular Buchberger–Möller against the Fraction route, unlucky primes, CRT; exact recovery."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import AlgebraError, buchberger_moller, rational_circle_points
from algebra._exact import _exact_points
from algebra._modular import crt, modular_border_basis, primes_below
from algebra._modular_kernels import PRIME_LIMIT
from algebra._orders import get_term_order

ORDERS = ["lex", "deglex", "degrevlex"]


def as_set(points):
    return {tuple(Fraction(v) for v in row) for row in np.asarray(points, dtype=object).tolist()}


def random_rational_points(seed, m, n, num=20, den=10):
    rng = np.random.default_rng(seed)
    seen = set()
    while len(seen) < m:
        seen.add(tuple(Fraction(int(rng.integers(-num, num + 1)), int(rng.integers(1, den + 1)))
                       for _ in range(n)))
    return np.array(sorted(seen), dtype=object)


def assert_same_basis(points, order):
    a = buchberger_moller(points, order)
    b = buchberger_moller(points, order, method="fraction")
    assert np.array_equal(a.order_ideal, b.order_ideal)
    assert np.array_equal(a.border, b.border)
    assert a.polynomials == b.polynomials
    return a


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("seed,m,n", [(0, 12, 2), (1, 25, 3), (2, 18, 4), (3, 30, 3)])
def test_modular_equals_fraction_on_random_rational_points(seed, m, n, order):
    assert_same_basis(random_rational_points(seed, m, n), order)


@pytest.mark.parametrize("order", ORDERS)
def test_modular_equals_fraction_on_structured_sets(order):
    grid = [[a, b] for a in range(-2, 3) for b in range(3)]
    circle = rational_circle_points(12)
    moment = [[Fraction(t, 3), Fraction(t, 3) ** 2, Fraction(t, 3) ** 3] for t in range(-5, 6)]
    big = [[10**30 + k, -(10**25) * k] for k in range(6)]  # beyond int64
    for pts in (grid, circle, moment, big, [[Fraction(7, 3)]], [[1, 2, 3]]):
        assert_same_basis(pts, order)


@settings(max_examples=25, deadline=None)
@given(st.sets(st.tuples(st.fractions(-3, 3, max_denominator=4),
                         st.fractions(-3, 3, max_denominator=4)), min_size=1, max_size=9),
       st.sampled_from(ORDERS))
def test_modular_equals_fraction_property(points, order):
    assert_same_basis(np.array(sorted(points), dtype=object), order)


def check_with_primes(points, order, primes):
    P = _exact_points(points)
    O, _, terms, coef, _ = modular_border_basis(P, get_term_order(order), primes=primes)
    ref = buchberger_moller(points, order, method="fraction")
    assert np.array_equal(O, ref.order_ideal)
    assert np.array_equal(terms, ref.polynomials.terms)
    assert np.array_equal(coef, ref.polynomials.coef)


def test_prime_dividing_a_denominator_is_skipped():
    p, *rest = primes_below(200)
    check_with_primes([[Fraction(1, p), 0], [0, 1], [2, 3]], "deglex", [p, *rest])


def test_prime_where_points_collide_is_skipped_in_discovery():
    # 0 and p are the same point modulo p: only one monomial is independent there.
    p, *rest = primes_below(200)
    check_with_primes([[0], [p], [1]], "lex", [p, *rest])


def test_unlucky_discovery_prime_is_caught_by_the_leading_term_check():
    # Modulo p the points (0, 0), (0, 1), (p, 2) have x0 = 0, so x0 is a leading term
    # there and O_p = {1, x1, x1^2}; over Q, x0 is in O. That O_p still has a
    # nonsingular V over Q, so only the leading-term check can reject it.
    p, *rest = primes_below(200)
    check_with_primes([[0, 0], [0, 1], [p, 2]], "deglex", [p, *rest])


def test_prime_dividing_det_v_is_dropped_from_the_batch():
    # det V = p * (...) for these points, so V is singular modulo p in the solve.
    q, p, *rest = primes_below(200)
    check_with_primes([[0], [p], [2 * p]], "lex", [q, p, *rest])


def test_running_out_of_primes_is_a_clear_error():
    P = _exact_points(random_rational_points(0, 20, 3))
    with pytest.raises(AlgebraError, match="primes given to the modular Buchberger-Moller ran out"):
        modular_border_basis(P, get_term_order("degrevlex"), primes=primes_below(3))


def test_primes_below_are_distinct_descending_primes():
    ps = primes_below(300)
    assert ps == sorted(set(ps), reverse=True) and ps[0] < PRIME_LIMIT
    assert all(sympy.isprime(p) for p in ps)
    assert ps[:5] == [sympy.prevprime(PRIME_LIMIT), *ps[1:5]]
    assert primes_below(4, limit=30) == [29, 23, 19, 17]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.integers(0, 2**200), min_size=1, max_size=6), st.integers(1, 40),
       st.integers(1, 10**30))
def test_crt_matches_sympy(values, k, scale):
    primes = primes_below(k)
    M = int(np.prod([sympy.Integer(p) for p in primes]))
    residues = np.array([[v % p for p in primes] for v in values], dtype=np.int64)
    got = crt(residues, primes, scale)
    assert [int(g) for g in got] == [v * scale % M for v in values]


# ---------------------------------------------------------------- recover_points

def moment_curve(n, m):
    return [[Fraction(t, 2) ** (k + 1) for k in range(n)] for t in range(-m // 2, m - m // 2)]


RECOVERY_SETS = {
    "collinear1": lambda: [[k] for k in range(9)],
    "collinear2": lambda: [[k, 0] for k in range(22)],
    "collinear3": lambda: [[k, 2 * k, -k] for k in range(10)],
    "diagonal4": lambda: [[k, k, Fraction(k, 3), 1] for k in range(8)],
    "coplanar3": lambda: [[a, b, a + b] for a in range(3) for b in range(3)],
    "coplanar4": lambda: [[a, b, 0, Fraction(a - b, 2)] for a in range(3) for b in range(2)],
    "grid2": lambda: [[a, b] for a in range(4) for b in range(3)],
    "grid3": lambda: [[a, b, c] for a in range(2) for b in range(3) for c in range(2)],
    "moment2": lambda: moment_curve(2, 9),
    "moment3": lambda: moment_curve(3, 8),
    "moment4": lambda: moment_curve(4, 7),
    "issue10": lambda: [
        ['-10', '-11/2', '153/20'], ['-4', '-10/3', '31/20'], ['1/2', '-29/6', '127/20'],
        ['-5/2', '-13/6', '-37/20'], ['-1', '-1', '-21/4'], ['-1', '-5/2', '-3/4'],
        ['2', '-19/6', '29/20'], ['-5/2', '-1/6', '-157/20'], ['-4', '-17/6', '1/20'],
        ['5', '-5/6', '-107/20'], ['5', '-10/3', '43/20'], ['-4', '-29/6', '121/20'],
        ['-10', '-5', '123/20'], ['-7', '-19/6', '17/20'], ['-7', '-2/3', '-133/20'],
        ['-1', '-7/2', '9/4']],
}


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("name", list(RECOVERY_SETS))
def test_recover_points_is_exact(name, order):
    points = RECOVERY_SETS[name]()
    rec = buchberger_moller(points, order).recover_points()
    assert rec.dtype == object and rec.shape == (len(points), len(points[0]))
    assert all(isinstance(v, Fraction) for v in rec.ravel())
    assert {tuple(r) for r in rec.tolist()} == as_set(points)
    assert rec.tolist() == sorted(rec.tolist())


def test_issue_10_reproducers_recover_exactly():
    # Before: float64 output, then 19 distinct rows and error 0.57 for 22 collinear points.
    rec15 = buchberger_moller([[k, 0] for k in range(15)]).recover_points()
    assert rec15.dtype == object and rec15.tolist() == [[k, 0] for k in range(15)]
    rec22 = buchberger_moller([[k, 0] for k in range(22)]).recover_points()
    assert rec22.tolist() == [[k, 0] for k in range(22)]


@settings(max_examples=20, deadline=None)
@given(st.sets(st.tuples(st.fractions(-4, 4, max_denominator=3),
                         st.integers(-3, 3), st.fractions(-2, 2, max_denominator=5)),
               min_size=1, max_size=8),
       st.sampled_from(ORDERS))
def test_recover_points_property(points, order):
    pts = np.array(sorted(points), dtype=object)
    assert {tuple(r) for r in buchberger_moller(pts, order).recover_points().tolist()} == \
        as_set(pts)


def test_recover_points_rejects_matrices_without_rational_points():
    # x^2 - 2 in one variable: O = {1, x}, multiplication by x has eigenvalues ±√2.
    from algebra._recover import points_from_multiplication_matrices
    M = np.array([[[Fraction(0), Fraction(2)], [Fraction(1), Fraction(0)]]], dtype=object)
    with pytest.raises(AlgebraError, match=r"not rational|distinct rational"):
        points_from_multiplication_matrices(M)
    double = np.array([[[Fraction(0), Fraction(0)], [Fraction(1), Fraction(0)]]], dtype=object)
    with pytest.raises(AlgebraError, match="distinct rational eigenvalues"):
        points_from_multiplication_matrices(double)


@settings(max_examples=30, deadline=None)
@given(st.sets(st.fractions(-50, 50, max_denominator=30), min_size=1, max_size=12))
def test_rational_roots_of_a_product_of_linear_factors(roots):
    from algebra._recover import rational_roots
    lam = sympy.Symbol("lam")
    poly = sympy.Poly(sympy.prod([lam - sympy.Rational(r.numerator, r.denominator)
                                  for r in roots]), lam)
    coeffs = [Fraction(int(c.p), int(c.q)) for c in map(sympy.Rational, poly.all_coeffs())]
    assert rational_roots(coeffs) == sorted(roots)


def test_every_order_and_method_agree_on_the_ideal():
    pts = random_rational_points(5, 10, 2)
    bases = {o: buchberger_moller(pts, o) for o in ORDERS}
    for a, b in itertools.combinations(bases.values(), 2):
        assert a.recover_points().tolist() == b.recover_points().tolist()
