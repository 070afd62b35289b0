"""Exact Buchberger–Möller: known varieties, sympy's groebner as the oracle, bad input."""

import itertools
from fractions import Fraction

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st

from algebra import (
    AlgebraError,
    PolynomialSet,
    border,
    buchberger_moller,
    is_order_ideal,
    rational_circle_points,
)

ORDERS = ["lex", "deglex", "degrevlex"]


def twisted_cubic_points():
    ts = [Fraction(t) for t in (-2, -1, 0, 1, 2, 3)] + [Fraction(1, 2)]
    return np.array([[t, t**2, t**3] for t in ts], dtype=object)


def random_integer_points(seed, m=9, n=3):
    rng = np.random.default_rng(seed)
    pts = np.unique(rng.integers(-4, 5, size=(m, n)), axis=0)
    return pts.astype(object)


POINT_SETS = {
    "circle8": lambda: rational_circle_points(8),
    "circle12": lambda: rational_circle_points(12),
    "twisted_cubic": twisted_cubic_points,
    "random3d_0": lambda: random_integer_points(0),
    "random3d_1": lambda: random_integer_points(1),
}


@pytest.fixture(scope="module", params=list(itertools.product(POINT_SETS, ORDERS)),
                ids=lambda p: f"{p[0]}-{p[1]}")
def case(request):
    name, order = request.param
    points = POINT_SETS[name]()
    return points, order, buchberger_moller(points, order)


def as_fractions(points):
    return np.array([[Fraction(v) for v in row] for row in points], dtype=object)


def standard_monomial_count(lead_monomials, n):
    """Number of monomials not divisible by any leading monomial (finite for 0-dim ideals)."""
    top = max(max(m) for m in lead_monomials)
    return sum(
        1 for e in itertools.product(range(top + 1), repeat=n)
        if not any(all(a >= b for a, b in zip(e, m, strict=True)) for m in lead_monomials)
    )


def test_order_ideal_and_border(case):
    points, order, bb = case
    assert bb.order_ideal.shape == (len(points), points.shape[1])
    assert is_order_ideal(bb.order_ideal)
    assert np.array_equal(bb.border, border(bb.order_ideal, order=order))
    assert np.array_equal(bb.polynomials.leading_terms, bb.border)
    assert np.array_equal(bb.polynomials.order_ideal, bb.order_ideal)
    # every non-leading term of a border polynomial lies in O
    O_rows = {tuple(t) for t in bb.order_ideal.tolist()}
    for j in range(len(bb.polynomials)):
        support = {tuple(bb.polynomials.terms[i].tolist())
                   for i in np.flatnonzero(bb.polynomials.coef[:, j] != 0)}
        assert support - {tuple(bb.border[j].tolist())} <= O_rows


def test_border_polynomials_vanish_exactly(case):
    points, _, bb = case
    values = bb.polynomials.evaluate(as_fractions(points))
    assert values.dtype == object and all(v == 0 for v in values.ravel())
    assert bb.groebner_basis().is_exact


def test_reduced_groebner_basis_equals_sympy(case):
    points, order, bb = case
    n = points.shape[1]
    gens = sympy.symbols(f"x0:{n}")
    alias = {"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}[order]
    # <border basis> ⊆ I(points) (they vanish exactly); sympy's GB of it has exactly
    # |points| standard monomials, so <border basis> = I(points) and the reduced
    # Gröbner bases must coincide.
    G = sympy.groebner(bb.polynomials.to_sympy(gens), *gens, order=alias)
    lead = [sympy.Poly(g, *gens).monoms(order=alias)[0] for g in G.exprs]
    assert standard_monomial_count(lead, n) == len(points)
    ours = bb.groebner_basis().to_sympy(gens)
    assert {sympy.expand(e) for e in ours} == {sympy.expand(e) for e in G.exprs}
    # our leading terms are sympy's leading monomials
    assert {tuple(t) for t in bb.groebner_basis().leading_terms.tolist()} == set(lead)


def test_multiplication_matrices_commute_and_have_the_points_as_eigenvectors(case):
    points, _, bb = case
    M = bb.multiplication_matrices()
    s = len(points)
    assert M.shape == (points.shape[1], s, s) and M.dtype == object
    assert bb.commutes()
    E = bb.order_ideal
    for p in as_fractions(points):
        u = np.array([np.prod([p[k] ** int(e) for k, e in enumerate(o)]) for o in E],
                     dtype=object)
        for k in range(len(M)):
            assert np.array_equal(u.dot(M[k]), p[k] * u)


def test_points_are_recovered(case):
    points, _, bb = case
    rec = bb.recover_points()
    assert rec.dtype == object
    assert {tuple(r) for r in rec.tolist()} == {tuple(r) for r in as_fractions(points).tolist()}


def test_normal_form_matches_sympy_reduction(case):
    points, order, bb = case
    n = points.shape[1]
    gens = sympy.symbols(f"x0:{n}")
    alias = {"lex": "lex", "deglex": "grlex", "degrevlex": "grevlex"}[order]
    rng = np.random.default_rng(7)
    exprs = [
        sum(int(rng.integers(-3, 4)) * sympy.Mul(*[g ** int(rng.integers(0, 4)) for g in gens])
            for _ in range(4)) + 1
        for _ in range(3)
    ]
    f = PolynomialSet.from_sympy(exprs, gens, order=order)
    nf = bb.normal_form(f)
    G = bb.groebner_basis().to_sympy(gens)
    O_exprs = [sympy.Mul(*[g ** int(e) for g, e in zip(gens, o, strict=True)])
               for o in bb.order_ideal.tolist()]
    for j, e in enumerate(exprs):
        _, remainder = sympy.reduced(e, G, *gens, order=alias)
        ours = sum(sympy.Rational(c.numerator, c.denominator) * o
                   for c, o in zip(nf[:, j], O_exprs, strict=True))
        assert sympy.expand(ours - remainder) == 0
    # the ideal's members reduce to zero
    assert all(v == 0 for v in bb.normal_form(bb.polynomials).ravel())


def test_twisted_cubic_contains_its_defining_equations():
    bb = buchberger_moller(twisted_cubic_points(), "lex")
    x, y, z = sympy.symbols("x0:3")
    known = PolynomialSet.from_sympy([y - x**2, z - x**3, x * z - y**2], (x, y, z), "lex")
    assert all(v == 0 for v in bb.normal_form(known).ravel())


@given(st.sets(st.tuples(st.integers(-3, 3), st.integers(-3, 3)), min_size=1, max_size=7),
       st.sampled_from(ORDERS))
def test_random_plane_point_sets(points, order):
    pts = np.array(sorted(points), dtype=object)
    bb = buchberger_moller(pts, order)
    assert len(bb.order_ideal) == len(pts)
    assert all(v == 0 for v in bb.polynomials.evaluate(as_fractions(pts)).ravel())
    assert bb.commutes()
    # The ideal depends on the set of points, not on their order: same O, same basis.
    shuffled = buchberger_moller(pts[::-1], order)
    assert np.array_equal(shuffled.order_ideal, bb.order_ideal)
    assert shuffled.polynomials == bb.polynomials


def test_accepts_ints_floats_strings_and_sympy_rationals():
    ref = buchberger_moller(np.array([[Fraction(1, 2), 0], [0, Fraction(3, 8)]], dtype=object))
    for pts in ([[0.5, 0.0], [0.0, 0.375]],
                np.array([[0.5, 0], [0, 0.375]]),
                [["1/2", "0"], ["0", "3/8"]],
                [[sympy.Rational(1, 2), 0], [0, sympy.Rational(3, 8)]]):
        assert buchberger_moller(pts).polynomials == ref.polynomials
    one_var = buchberger_moller(np.arange(4).reshape(-1, 1), "lex")
    assert one_var.order_ideal.ravel().tolist() == [0, 1, 2, 3]
    assert "BorderBasis(n_points=4, n_vars=1" in repr(one_var)


def test_bad_points_messages():
    with pytest.raises(AlgebraError, match=r"points rows 0 and 2 are the same point \(1, 2\)"):
        buchberger_moller([[1, 2], [3, 4], [1, 2]])
    with pytest.raises(AlgebraError, match=r"points\[0, 1\] = 0\.1 is a float that is not "
                                           r"exactly a rational.*Fraction\('1/10'\)"):
        buchberger_moller([[0, 0.1]])
    with pytest.raises(AlgebraError, match=r"points\[0, 0\] is nan"):
        buchberger_moller([[np.nan, 1.0]])
    with pytest.raises(AlgebraError, match=r"points\[0, 0\] = 'abc' is not a number"):
        buchberger_moller([["abc", "1"]])
    with pytest.raises(AlgebraError, match=r"points\[0, 0\] = 1j of type complex"):
        buchberger_moller(np.array([[1j, 1]], dtype=object))
    with pytest.raises(AlgebraError, match=r"points must be a non-empty 2-D array"):
        buchberger_moller(np.zeros((0, 2)))
    with pytest.raises(AlgebraError, match=r"points must be a non-empty 2-D array.*reshape"):
        buchberger_moller([1, 2, 3])
    with pytest.raises(AlgebraError, match=r"rows given have different lengths"):
        buchberger_moller([[1, 2], [3]])
    with pytest.raises(AlgebraError, match=r"order must be a TermOrder or one of"):
        buchberger_moller([[1, 2]], order="elimination")
    with pytest.raises(AlgebraError, match=r"poly must be a PolynomialSet in 2 variables"):
        buchberger_moller([[1, 2]]).normal_form(PolynomialSet([[0]], [[1.0]]))
    with pytest.raises(AlgebraError, match=r"n_points must be an integer >= 1, got 0"):
        rational_circle_points(0)
    with pytest.raises(AlgebraError, match=r"n_points must be an integer >= 1, got '3'"):
        rational_circle_points("3")
    with pytest.raises(AlgebraError, match=r"points\[1, 0\] = '1/0' has a zero denominator"):
        buchberger_moller([["1", "2"], ["1/0", "3"]])
    with pytest.raises(AlgebraError, match=r"points\[0, 1\] = True is a boolean.*astype\(int\)"):
        buchberger_moller([[0, True], [1, 0]])
    with pytest.raises(AlgebraError, match=r"points\[0, 0\] = (np\.)?(True|False).* is a boolean"):
        buchberger_moller(np.array([[False, True], [True, True]]))
    with pytest.raises(AlgebraError, match=r"method must be one of 'modular', 'fraction', got 'f'"):
        buchberger_moller([[1, 2]], method="f")


def test_rational_circle_points_lie_on_the_circle():
    pts = rational_circle_points(40)
    assert len({tuple(p) for p in pts.tolist()}) == 40
    assert all(a * a + b * b == 1 for a, b in pts)
    assert {(3, 5), (4, 5)} <= {(abs(a.numerator), a.denominator) for a in pts[:, 0]} | {
        (abs(b.numerator), b.denominator) for b in pts[:, 1]}
