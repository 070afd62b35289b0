"""Sympy export and import: round trips, numeric agreement with the kernel, errors."""

from fractions import Fraction

import numpy as np
import pytest
import sympy

from algebra import (
    AlgebraError,
    PolynomialSet,
    all_monomials,
    buchberger_moller,
    rational_circle_points,
)


def float_set(seed, order="deglex"):
    rng = np.random.default_rng(seed)
    E = all_monomials(3, 2, order)
    coef = rng.normal(size=(len(E), 3))
    return PolynomialSet(E, coef, order=order)


@pytest.mark.parametrize("order", ["lex", "deglex", "degrevlex"])
def test_round_trip_exact_and_float(order):
    G = buchberger_moller(rational_circle_points(8), order).groebner_basis()
    plain = PolynomialSet(G.terms, G.coef, order=order)  # no order_ideal metadata
    gens = sympy.symbols("x0 x1")
    assert PolynomialSet.from_sympy(plain.to_sympy(), gens, order) == plain
    assert PolynomialSet.from_sympy(plain.to_sympy(as_poly=True), gens, order) == plain
    F = float_set(0, order)
    back = PolynomialSet.from_sympy(F.to_sympy(), sympy.symbols("x0:3"), order)
    assert back == F and not back.is_exact  # sympy Floats keep the exact binary value


def test_exported_expressions_evaluate_to_kernel_numbers():
    F = float_set(1)
    X = np.random.default_rng(2).uniform(-1, 1, size=(11, 3))
    gens = sympy.symbols("a b c")
    f = sympy.lambdify(gens, F.to_sympy(gens), "numpy")
    np.testing.assert_allclose(np.column_stack(f(*X.T)), F.evaluate(X), rtol=1e-12, atol=1e-12)
    # exact set: sympy substitution equals exact evaluation
    bb = buchberger_moller(rational_circle_points(8), "deglex")
    x0, x1 = sympy.symbols("x0 x1")
    pt = [Fraction(1, 3), Fraction(-2, 7)]
    exact = bb.polynomials.evaluate(np.array([pt], dtype=object))[0]
    for e, v in zip(bb.polynomials.to_sympy(), exact, strict=True):
        assert e.subs({x0: sympy.Rational(1, 3), x1: sympy.Rational(-2, 7)}) == sympy.Rational(
            v.numerator, v.denominator)


def test_rational_snapping():
    coef = np.array([[-1 + 1e-13], [1 / 3], [1.0]])
    P = PolynomialSet([[0, 0], [2, 0], [0, 2]], coef)
    x0, x1 = sympy.symbols("x0 x1")
    (snapped,) = P.to_sympy(rational=True)
    assert snapped == sympy.Rational(1, 3) * x0**2 + x1**2 - 1
    (raw,) = P.to_sympy()
    assert raw != snapped and all(isinstance(c, sympy.Float) for c in sympy.Poly(raw).coeffs())
    (coarse,) = P.to_sympy(rational=True, max_denominator=2)
    assert coarse == sympy.Rational(1, 2) * x0**2 + x1**2 - 1


def test_as_poly_gens_domain_and_order():
    G = buchberger_moller(rational_circle_points(8), "lex").groebner_basis()
    polys = G.to_sympy("x y", as_poly=True)
    x, y = sympy.symbols("x y")
    assert all(p.gens == (x, y) and p.domain == sympy.QQ for p in polys)
    # the first term in the set's order is the leading term
    assert [p.terms(order="lex")[0][0] for p in polys] == [tuple(t) for t in G.leading_terms]
    assert float_set(3).to_sympy(as_poly=True)[0].domain == sympy.RR


def test_latex_and_str():
    G = buchberger_moller(rational_circle_points(8), "deglex").groebner_basis()
    latex = G.to_latex()
    assert latex[0] == sympy.latex(G.to_sympy()[0], order="grlex")
    assert "x_{0}^{2} + x_{1}^{2} - 1" in latex
    text = str(G)
    assert text.splitlines()[0] == repr(G)
    assert "g0 = x0**2 + x1**2 - 1" in text.splitlines()
    many = PolynomialSet(np.arange(30).reshape(-1, 1), np.eye(30))
    assert str(many).splitlines()[-1] == "... (10 more)"


def test_from_sympy_parses_strings_as_whole_expressions():
    x, y = sympy.symbols("x y")
    ref = PolynomialSet.from_sympy([x**2 - y, 3 * x * y + sympy.Rational(1, 2)], (x, y))
    assert PolynomialSet.from_sympy(["x**2 - y", "3*x*y + 1/2"], "x y") == ref
    assert PolynomialSet.from_sympy("x**2 - y", "x y") == ref.select([0])


def test_bad_input_messages():
    x, y = sympy.symbols("x y")
    with pytest.raises(AlgebraError, match=r"exprs\[0\] = 'x \+\* 2' is not a sympy expression"):
        PolynomialSet.from_sympy("x +* 2", "x")
    with pytest.raises(AlgebraError, match=r"exprs\[0\] = 1/x is not a polynomial in \[x\]"):
        PolynomialSet.from_sympy("x**-1", "x")
    with pytest.raises(AlgebraError, match=r"exprs\[1\] = 1/x is not a polynomial in \[x, y\]"):
        PolynomialSet.from_sympy([x, 1 / x], (x, y))
    with pytest.raises(AlgebraError, match=r"exprs\[0\] = sin\(x\) is not a polynomial"):
        PolynomialSet.from_sympy(sympy.sin(x), (x, y))
    with pytest.raises(AlgebraError, match=r"contains \['z'\], which are not in gens"):
        PolynomialSet.from_sympy(x + sympy.Symbol("z"), (x, y))
    with pytest.raises(AlgebraError, match=r"has coefficients in .*only real numeric"):
        PolynomialSet.from_sympy(sympy.I * x, (x, y))
    with pytest.raises(AlgebraError, match=r"polynomial 1 \(coef column 1\) is identically zero"):
        PolynomialSet.from_sympy([x, x - x], (x, y))
    with pytest.raises(AlgebraError, match=r"gens is empty"):
        PolynomialSet.from_sympy(x, [])
    P = PolynomialSet([[0, 0], [1, 0]], [[1.0], [1.0]])
    with pytest.raises(AlgebraError, match=r"symbols must name 2 variables.*got \['a'\]"):
        P.to_sympy(["a"])
    with pytest.raises(AlgebraError, match=r"symbols must be distinct"):
        P.to_sympy("a a")
    with pytest.raises(AlgebraError, match=r"max_denominator must be an integer >= 1, got 0"):
        P.to_sympy(rational=True, max_denominator=0)
