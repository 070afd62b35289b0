"""PolynomialSet: evaluation and Jacobians against numpy, structure, persistence, errors."""

import pickle
import tempfile
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
import sympy
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from algebra import (
    AlgebraError,
    PolynomialSet,
    all_monomials,
    deglex,
    is_order_ideal,
    order_ideal_closure,
)


def numpy_monomials(X, E):
    return np.prod(X[:, None, :] ** E[None, :, :], axis=2)


def numpy_jacobian(X, E, coef):
    """d/dx_k sum_i c_i x^{a_i} = sum_i c_i a_ik x^{a_i - e_k}, with numpy powers."""
    m, n = X.shape
    out = np.zeros((m, coef.shape[1], n))
    for k in range(n):
        lowered = E.copy()
        lowered[:, k] = np.maximum(lowered[:, k] - 1, 0)
        dmu = numpy_monomials(X, lowered) * E[:, k]
        out[:, :, k] = dmu @ coef
    return out


def random_set(seed, n=3, d=3, p=4, sparse=0.5, order="deglex"):
    rng = np.random.default_rng(seed)
    E = all_monomials(n, d, order)
    coef = rng.normal(size=(len(E), p)) * (rng.random((len(E), p)) > sparse)
    coef[-1] = 1.0  # no zero polynomial
    return PolynomialSet(E, coef, order=order)


@pytest.mark.parametrize("order", ["lex", "deglex", "degrevlex"])
@pytest.mark.parametrize("chunk_size", [None, 5])
def test_evaluate_and_gradient_against_numpy(order, chunk_size):
    P = random_set(0, order=order)
    X = np.random.default_rng(1).uniform(-1, 1, size=(17, 3))
    expected = numpy_monomials(X, P.terms) @ P.coef
    np.testing.assert_allclose(P.evaluate(X, chunk_size=chunk_size), expected, rtol=1e-12,
                               atol=1e-13)
    np.testing.assert_allclose(P.monomials(X, chunk_size=chunk_size),
                               numpy_monomials(X, P.terms), rtol=1e-13, atol=1e-15)
    J = P.gradient(X, chunk_size=chunk_size)
    assert J.shape == (17, 4, 3)
    np.testing.assert_allclose(J, numpy_jacobian(X, P.terms, P.coef), rtol=1e-12, atol=1e-12)


def test_gradient_parallel_path_against_numpy():
    P = random_set(2, n=2, d=2, p=2)
    X = np.random.default_rng(3).uniform(-1, 1, size=(21_000, 2))
    np.testing.assert_allclose(P.gradient(X), numpy_jacobian(X, P.terms, P.coef), rtol=1e-12,
                               atol=1e-12)


def test_gradient_against_sympy_diff():
    x, y = sympy.symbols("x y")
    g = 3 * x**2 * y - y**3 + 2 * x - 5
    P = PolynomialSet([[2, 1], [0, 3], [1, 0], [0, 0]], [[3.0], [-1.0], [2.0], [-5.0]])
    pt = (0.3, -1.7)
    J = P.gradient(np.array([pt]))[0, 0]
    for k, s in enumerate((x, y)):
        assert J[k] == pytest.approx(float(sympy.diff(g, s).subs({x: pt[0], y: pt[1]})))
    assert P.evaluate(np.array([pt]))[0, 0] == pytest.approx(float(g.subs({x: pt[0], y: pt[1]})))


def test_terms_are_sorted_and_closed_with_zero_coefficients():
    # x^2 y + 1 and y^2, given unsorted and not closed under division.
    P = PolynomialSet([[2, 1], [0, 2], [0, 0]], [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]],
                      leading=[0, 1])
    assert is_order_ideal(P.terms)
    assert np.array_equal(P.terms, order_ideal_closure([[2, 1], [0, 2]], deglex))
    X = np.array([[0.5, 2.0], [-1.0, 3.0]])
    expected = np.column_stack([X[:, 0] ** 2 * X[:, 1] + 1, X[:, 1] ** 2])
    np.testing.assert_allclose(P.evaluate(X), expected)
    assert P.leading_terms.tolist() == [[2, 1], [0, 2]]
    assert P.degrees.tolist() == [3, 2]
    nonzero = [2, 1]
    np.testing.assert_allclose(P.sparsity, 1 - np.array(nonzero) / P.n_terms)
    assert (P.n_vars, P.n_polys, len(P)) == (2, 2, 2)
    parent, var = P.parent, P.var
    assert parent[0] == -1 and all(parent[i] < i for i in range(1, P.n_terms))
    steps = P.terms[1:] - P.terms[parent[1:]]
    assert np.array_equal(steps, np.eye(2, dtype=int)[var[1:]])


def test_default_leading_term_is_largest_nonzero_term_in_order():
    terms = [[0, 0], [1, 0], [0, 1], [0, 2], [1, 1]]
    coef = [[1.0], [0.0], [2.0], [1.0], [0.0]]
    lex_lead = PolynomialSet(terms, coef, order="lex").leading_terms
    grevlex_lead = PolynomialSet(terms, coef, order="degrevlex").leading_terms
    assert lex_lead.tolist() == [[0, 2]]  # y^2 vs y vs 1: y^2 is largest in every order
    assert grevlex_lead.tolist() == [[0, 2]]
    # lex with x > y: x beats y^2; deglex: y^2 beats x.
    coef2 = [[0.0], [1.0], [0.0], [1.0], [0.0]]
    assert PolynomialSet(terms, coef2, order="lex").leading_terms.tolist() == [[1, 0]]
    assert PolynomialSet(terms, coef2, order="deglex").leading_terms.tolist() == [[0, 2]]


def test_select_drops_polynomials_then_unused_terms():
    P = PolynomialSet(
        [[0, 0], [1, 0], [0, 1], [3, 0], [0, 2]],
        [[1.0, 2.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]],
        mse=[0.1, 0.2, 0.3],
        labels=[0, 1, 1],
        order_ideal=[[0, 0], [1, 0]],
    )
    X = np.random.default_rng(0).normal(size=(9, 2))
    Q = P.select([2, 0])
    np.testing.assert_allclose(Q.evaluate(X), P.evaluate(X)[:, [2, 0]])
    assert is_order_ideal(Q.terms)
    assert {tuple(t) for t in Q.terms.tolist()} == {(0, 0), (1, 0), (0, 1), (0, 2)}
    assert Q.mse.tolist() == [0.3, 0.1] and Q.labels.tolist() == [1, 0]
    assert np.array_equal(Q.order_ideal, P.order_ideal)
    assert Q.leading_terms.tolist() == [[0, 2], [0, 1]]
    R = P.select(np.array([False, True, False]))
    assert {tuple(t) for t in R.terms.tolist()} == {(0, 0), (1, 0), (2, 0), (3, 0)}
    assert P.select(1) == R and P.select(slice(1, 2)) == R
    assert len(P.select([])) == 0
    with pytest.raises(AlgebraError, match=r"index must select polynomials among the 3"):
        P.select([5])
    with pytest.raises(AlgebraError, match=r"index must select polynomials"):
        P.select(np.array([True, False]))


def test_concatenate_is_the_union_of_terms():
    A = random_set(4, n=2, d=2, p=2)
    B = PolynomialSet([[0, 3], [0, 0]], [[1.0], [-1.0]])
    C = PolynomialSet.concatenate([A, B])
    X = np.random.default_rng(5).normal(size=(6, 2))
    np.testing.assert_allclose(C.evaluate(X), np.hstack([A.evaluate(X), B.evaluate(X)]),
                               rtol=1e-12, atol=1e-12)
    expected_terms = {tuple(t) for t in A.terms.tolist()} | {tuple(t) for t in B.terms.tolist()}
    assert {tuple(t) for t in C.terms.tolist()} == expected_terms
    assert C.leading_terms.tolist() == A.leading_terms.tolist() + B.leading_terms.tolist()
    with pytest.raises(AlgebraError, match=r"sets\[1\] has 2 variables and order 'lex'"):
        PolynomialSet.concatenate([A, PolynomialSet([[1, 0]], [[1.0]], order="lex")])
    with pytest.raises(AlgebraError, match=r"non-empty sequence of PolynomialSet"):
        PolynomialSet.concatenate([])


def test_exact_coefficients_and_exact_evaluation():
    coef = np.array([[Fraction(-1)], [Fraction(1, 3)], [sympy.Rational(2, 3)]], dtype=object)
    P = PolynomialSet([[0, 0], [2, 0], [0, 2]], coef)
    assert P.is_exact and all(isinstance(c, Fraction) for c in P.coef.ravel())
    pts = np.array([[Fraction(1), Fraction(1)], [Fraction(3, 5), Fraction(-4, 5)]], dtype=object)
    exact = P.evaluate(pts)
    direct = [Fraction(1, 3) * a**2 + Fraction(2, 3) * b**2 - 1 for a, b in pts]
    assert exact[:, 0].tolist() == direct
    F = P.astype(float)
    assert not F.is_exact
    np.testing.assert_allclose(F.evaluate(pts.astype(float))[:, 0], [float(v) for v in direct],
                               atol=1e-15)
    assert F.astype(object).astype(float) == F
    assert P.astype("exact") == P


def save_load(P):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "p.npz"
        P.save(path)
        with np.load(path, allow_pickle=False) as data:  # plain arrays only
            assert all(data[k].dtype != object for k in data.files)
        return PolynomialSet.load(path)


@given(
    coef=hnp.arrays(np.float64, (6, 3), elements=st.floats(-1e6, 1e6, allow_subnormal=False)),
    order=st.sampled_from(["lex", "deglex", "degrevlex"]),
)
def test_save_load_identity_float(coef, order):
    coef[-1] = 1.0
    P = PolynomialSet(all_monomials(2, 2, order), coef, order=order, mse=np.abs(coef[0]),
                      labels=["a", "b", "b"], order_ideal=[[0, 0], [0, 1]])
    assert save_load(P) == P


@given(st.lists(st.fractions(max_denominator=10**30), min_size=3, max_size=3))
def test_save_load_identity_exact(fracs):
    coef = np.empty((3, 1), dtype=object)
    coef[:, 0] = fracs
    coef[2, 0] = Fraction(1)
    P = PolynomialSet([[0], [1], [2]], coef, order="lex", labels=[7])
    Q = save_load(P)
    assert Q == P and Q.is_exact


def test_load_rejects_files_that_are_not_polynomial_sets(tmp_path):
    np.savez(tmp_path / "other.npz", x=np.ones(3))
    with pytest.raises(AlgebraError, match=r"is not a PolynomialSet file \(no 'terms' or 'order'"):
        PolynomialSet.load(tmp_path / "other.npz")
    np.savez(tmp_path / "nocoef.npz", terms=np.zeros((1, 1), dtype=int), order=np.array("lex"))
    with pytest.raises(AlgebraError, match=r"has no coefficient array"):
        PolynomialSet.load(tmp_path / "nocoef.npz")


def test_pickle_round_trip_and_inequality():
    P = random_set(6)
    assert pickle.loads(pickle.dumps(P)) == P
    assert P != random_set(7)
    assert P != P.astype(object)
    assert P != "not a set"


def test_repr_is_readable():
    P = PolynomialSet([[0, 0], [2, 0]], [[1.0], [1.0]], order_ideal=[[0, 0]])
    assert repr(P) == ("PolynomialSet(n_polys=1, n_vars=2, n_terms=3, order='deglex', "
                       "coef=float64, max_degree=2, |O|=1)")


def test_bad_input_messages():
    with pytest.raises(AlgebraError, match=r"coef has 2 rows but terms has 3"):
        PolynomialSet([[0], [1], [2]], np.ones((2, 1)))
    with pytest.raises(AlgebraError, match=r"coef must be a 2-D array.*reshape\(-1, 1\)"):
        PolynomialSet([[0], [1]], np.ones(2))
    with pytest.raises(AlgebraError, match=r"coef contains NaN.*term 1, polynomial 0"):
        PolynomialSet([[0], [1]], [[1.0], [np.nan]])
    with pytest.raises(AlgebraError, match=r"coef must hold real numbers"):
        PolynomialSet([[0], [1]], [["a"], ["b"]])
    with pytest.raises(AlgebraError, match=r"coef\[1, 0\] must be a rational number"):
        PolynomialSet([[0], [1]], np.array([[1], ["x"]], dtype=object))
    with pytest.raises(AlgebraError, match=r"terms contains a repeated monomial"):
        PolynomialSet([[0], [1], [1]], np.ones((3, 1)))
    with pytest.raises(AlgebraError, match=r"polynomial 1 \(coef column 1\) is identically zero"):
        PolynomialSet([[0], [1]], [[1.0, 0.0], [0.0, 0.0]])
    with pytest.raises(AlgebraError, match=r"leading term 0 of polynomial 0 has a zero coef"):
        PolynomialSet([[0], [1]], [[0.0], [1.0]], leading=[0])
    with pytest.raises(AlgebraError, match=r"leading must be an integer array of shape"):
        PolynomialSet([[0], [1]], [[0.0], [1.0]], leading=[0.5])
    with pytest.raises(AlgebraError, match=r"mse must be a finite float array"):
        PolynomialSet([[0], [1]], [[0.0], [1.0]], mse=[np.nan])
    with pytest.raises(AlgebraError, match=r"order_ideal is not closed under division"):
        PolynomialSet([[0], [1]], [[0.0], [1.0]], order_ideal=[[2]])
    with pytest.raises(AlgebraError, match=r"order must be a TermOrder or one of"):
        PolynomialSet([[0], [1]], [[0.0], [1.0]], order="revlex")
    with pytest.raises(AlgebraError, match=r"terms has no columns.*at least one variable"):
        PolynomialSet(np.zeros((1, 0), dtype=int), [[1.0]])
    with pytest.raises(AlgebraError, match=r"could have up to \d+ monomials.*MAX_TERMS"):
        PolynomialSet([[2**40, 0]], [[1.0]])
    P = PolynomialSet([[0], [1]], [[0.0], [1.0]])
    with pytest.raises(AlgebraError, match=r"X has 2 columns but the polynomials are in 1"):
        P.evaluate(np.ones((3, 2)))
    with pytest.raises(AlgebraError, match=r"X contains NaN"):
        P.gradient(np.array([[np.nan]]))
    with pytest.raises(AlgebraError, match=r"dtype must be float .* or object"):
        P.astype(np.int32)


def test_evaluate_accepts_lists_ints_float32_and_one_sample():
    P = random_set(8, n=2, d=3, p=2)
    X = np.array([[1, -2], [3, 0], [0, 1]])
    ref = numpy_monomials(X.astype(np.float64), P.terms) @ P.coef
    np.testing.assert_allclose(P.evaluate(X.tolist()), ref, rtol=1e-13)
    np.testing.assert_allclose(P.evaluate(X), ref, rtol=1e-13)
    np.testing.assert_allclose(P.evaluate(X.astype(np.float32)), ref, rtol=1e-13)
    np.testing.assert_allclose(P.evaluate(X[:1]), ref[:1], rtol=1e-13)
    assert P.gradient(X[:1].tolist()).shape == (1, 2, 2)
    with pytest.raises(AlgebraError, match=r"X must be a 2-D array.*X\.reshape\(1, -1\)"):
        P.evaluate(X[0])


def test_many_rows_in_small_chunks_against_numpy():
    # Many small chunks (row offsets into one output) against one numpy evaluation.
    P = random_set(9, n=2, d=3, p=3)
    X = np.random.default_rng(4).uniform(-1, 1, size=(20_500, 2))
    expected = numpy_monomials(X, P.terms) @ P.coef
    np.testing.assert_allclose(P.evaluate(X, chunk_size=999), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(P.monomials(X, chunk_size=999), numpy_monomials(X, P.terms),
                               rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(P.gradient(X, chunk_size=999),
                               numpy_jacobian(X, P.terms, P.coef), rtol=1e-12, atol=1e-12)


@given(st.permutations(range(10)), st.sampled_from(["lex", "deglex", "degrevlex"]))
def test_constructor_is_invariant_under_the_order_of_the_input_terms(perm, order):
    E = all_monomials(3, 2, order)  # 10 terms
    coef = np.random.default_rng(0).normal(size=(10, 2))
    perm = np.array(perm)
    P = PolynomialSet(E, coef, order=order)
    Q = PolynomialSet(E[perm], coef[perm], order=order)
    assert Q == P
