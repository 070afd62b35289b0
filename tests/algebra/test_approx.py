"""OAVI, ABM and VCA on known varieties, against numpy / scipy re-computations."""

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.linalg import subspace_angles

from algebra import (
    ORACLES,
    AlgebraError,
    PolynomialSet,
    all_monomials,
    buchberger_moller,
    default_tau,
    fit_abm,
    fit_oavi,
    fit_vanishing_ideal,
    fit_vca,
    method_parameters,
    rational_circle_points,
)

ORDERS = ("deglex", "degrevlex")


def monomials_numpy(X, terms):
    """Independent monomial evaluation (no chain, no numba): prod_k x_k ** e_k."""
    return np.prod(X[:, None, :] ** terms[None, :, :], axis=2)


def mse_numpy(G, X):
    return np.mean((monomials_numpy(X, G.terms) @ G.coef) ** 2, axis=0)


def mse_exact(G, X):
    """Mean of g(x)² in rational arithmetic, from the float coefficients and samples."""
    exact_X = np.array([[Fraction(v) for v in row] for row in X.tolist()], dtype=object)
    values = G.astype("exact").evaluate(exact_X)
    return [float(sum(v * v for v in col) / len(col)) for col in values.T]


def circle(m=300, noise=0.002, seed=0):
    rng = np.random.default_rng(seed)
    t = rng.uniform(0, 2 * np.pi, m)
    return np.column_stack([np.cos(t), np.sin(t)]) + rng.normal(scale=noise, size=(m, 2))


def sphere(m=300, noise=0.002, seed=1):
    rng = np.random.default_rng(seed)
    P = rng.normal(size=(m, 3))
    P /= np.linalg.norm(P, axis=1, keepdims=True)
    return P + rng.normal(scale=noise, size=P.shape)


def twisted_cubic(m=300, noise=0.001, seed=2):
    rng = np.random.default_rng(seed)
    t = rng.uniform(-1, 1, m)
    return np.column_stack([t, t**2, t**3]) + rng.normal(scale=noise, size=(m, 3))


def _poly(n, monomial_coefs):
    """Coefficient vector over all monomials of degree ≤ 2 from {exponent tuple: coef}."""
    basis = all_monomials(n, 2)
    vec = np.zeros(basis.shape[0])
    for exp, value in monomial_coefs.items():
        vec[np.flatnonzero((basis == exp).all(axis=1))[0]] = value
    return vec


# The known degree-2 generators, derived by hand from the parametrisations.
KNOWN = {
    "circle": (circle, [{(2, 0): 1, (0, 2): 1, (0, 0): -1}]),
    "sphere": (sphere, [{(2, 0, 0): 1, (0, 2, 0): 1, (0, 0, 2): 1, (0, 0, 0): -1}]),
    "twisted_cubic": (
        twisted_cubic,
        [
            {(0, 1, 0): 1, (2, 0, 0): -1},  # y − x²
            {(0, 0, 1): 1, (1, 1, 0): -1},  # z − xy
            {(1, 0, 1): 1, (0, 2, 0): -1},  # xz − y²
        ],
    ),
}

FITS = {
    "oavi": lambda X, **kw: fit_oavi(X, **kw),
    "oavi-full-ihb": lambda X, **kw: fit_oavi(X, ihb="full", **kw),
    "abm": fit_abm,
    "vca": fit_vca,
}


def _degree2_space(G, n):
    """Coefficient vectors (over all monomials of degree ≤ 2) of generators of degree ≤ 2."""
    basis = all_monomials(n, 2)
    low = np.flatnonzero(G.degrees <= 2)
    rows = [np.flatnonzero((G.terms == b).all(axis=1)) for b in basis]
    out = np.zeros((basis.shape[0], low.size))
    for i, r in enumerate(rows):
        if r.size:
            out[i] = G.coef[r[0], low]
    return out


@pytest.mark.parametrize("variety", sorted(KNOWN))
@pytest.mark.parametrize("method", sorted(FITS))
def test_finds_the_known_degree_two_generators(variety, method):
    make, known = KNOWN[variety]
    X = make()
    n = X.shape[1]
    G = FITS[method](X, psi=1e-4, max_degree=2)
    found = _degree2_space(G, n)
    true = np.column_stack([_poly(n, k) for k in known])
    assert found.shape[1] == true.shape[1]
    # Same subspace of polynomials: all principal angles small.
    assert np.max(subspace_angles(found, true)) < 0.05
    if variety == "circle":
        # One generator, x² + y² − 1 up to scale: compare after normalisation.
        g = found[:, 0] / np.linalg.norm(found[:, 0])
        t = true[:, 0] / np.linalg.norm(true[:, 0])
        np.testing.assert_allclose(g * np.sign(g @ t), t, atol=0.03)


def _fits_matrix():
    cases = [("oavi", dict(oracle=o, ihb=i, order=r)) for o in ORACLES
             for i in ("none", "weak", "full") for r in ORDERS]
    cases += [("abm", dict(order=r)) for r in ORDERS]
    cases += [("vca", dict(order=r)) for r in ORDERS]
    return cases


@pytest.mark.parametrize(("method", "kw"), _fits_matrix(),
                         ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
def test_every_generator_vanishes_within_psi(method, kw):
    X = sphere(m=200, noise=0.005)
    psi = 1e-3
    G = fit_vanishing_ideal(X, method=method, psi=psi, max_degree=3, **kw)
    assert len(G) > 0
    recomputed = mse_numpy(G, X)
    assert np.all(recomputed <= psi * (1 + 1e-9))
    np.testing.assert_allclose(G.mse, recomputed, rtol=1e-6, atol=1e-13)
    if method == "oavi":
        # ‖coef‖₁ ≤ τ, leading coefficient 1.
        assert np.all(np.abs(G.coef).sum(axis=0) <= default_tau(psi) * (1 + 1e-9))
        np.testing.assert_allclose(G.coef[G.leading, np.arange(len(G))], 1.0)
    if method in ("abm", "vca"):
        np.testing.assert_allclose(np.linalg.norm(G.coef, axis=0), 1.0)
    if method != "vca":
        # Leading terms lie outside O, which is closed under division.
        O = {tuple(r) for r in G.order_ideal}
        assert not O & {tuple(r) for r in G.leading_terms}


@settings(max_examples=25)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(2, 40),
    n=st.integers(1, 3),
    method=st.sampled_from(["oavi", "abm", "vca"]),
    psi=st.sampled_from([1e-6, 1e-3, 0.05]),
)
def test_property_generators_vanish_on_random_points(seed, m, n, method, psi):
    X = np.random.default_rng(seed).uniform(-1, 1, size=(m, n))
    G = fit_vanishing_ideal(X, method=method, psi=psi, max_degree=3)
    assert np.all(mse_numpy(G, X) <= psi * (1 + 1e-9) + 1e-15)
    if method == "vca":
        # VCA decides on the Gram matrix of the monomials; check its claims on the
        # polynomials it returns in exact arithmetic (the float coefficients and
        # samples are dyadic rationals): the stored mse, ψ, the unit coefficient norm.
        exact = mse_exact(G, X)
        np.testing.assert_allclose(G.mse, exact, rtol=1e-6, atol=1e-14)
        assert all(e <= psi * (1 + 1e-9) + 1e-15 for e in exact)
        np.testing.assert_allclose(np.linalg.norm(G.coef, axis=0), 1.0, rtol=1e-12)
        if m <= n:
            # 1 + n polynomials of degree ≤ 1 on m ≤ n points: every linear
            # component would interpolate them, so VCA returns nothing.
            assert len(G) == 0
    if method == "abm":
        # ABM's O has one term per point at most: a term joins O only if it is not
        # (nearly) a combination of O on the m points.  (OAVI's ℓ1 bound τ can reject
        # an exact but expensive combination, and then the term joins O anyway.)
        assert G.order_ideal.shape[0] <= m
    if method != "vca":
        # O is closed under division.
        O = {tuple(r) for r in G.order_ideal}
        for row in G.order_ideal:
            for v in np.flatnonzero(row):
                assert tuple(row - np.eye(n, dtype=int)[v]) in O


def test_default_tau_is_the_termination_bound():
    for psi in (0.5, 0.1, 0.005, 1e-4, 1e-7):
        # D is the smallest integer with 4^-D ≤ psi.
        D = next(d for d in range(1, 100) if 4.0**-d <= psi)
        assert default_tau(psi) == pytest.approx(1.5**D)
    for d in range(1, 60):
        # At ψ = 4^−d exactly D = d; just above it, D = d (4^−d ≤ ψ still); just
        # below, d + 1.
        psi = 4.0**-d
        assert default_tau(psi) == 1.5**d
        assert default_tau(psi * (1 + 1e-12)) == 1.5**d
        assert default_tau(psi * (1 - 1e-12)) == 1.5 ** (d + 1)
    assert default_tau(0.9) == default_tau(1.0) == default_tau(30.0) == 1.5  # D ≥ 1


@pytest.mark.parametrize("tau", [1.5, 3.0])
def test_oavi_respects_an_explicit_tau(tau):
    X = circle(noise=0.01)
    G = fit_oavi(X, psi=1e-3, tau=tau, max_degree=4)
    assert np.all(np.abs(G.coef).sum(axis=0) <= tau * (1 + 1e-9))


def test_abm_generators_are_smallest_singular_vectors():
    X = twisted_cubic(noise=0.01)
    G = fit_abm(X, psi=1e-3, max_degree=3)
    O = G.order_ideal
    for j in range(len(G)):
        u = G.leading_terms[j]
        below = O[: int(np.sum([G.order.key(o) < G.order.key(u) for o in O]))]
        A = monomials_numpy(X, np.vstack([below, u]))
        sigma = np.linalg.svd(A, compute_uv=False)[-1]
        assert G.mse[j] == pytest.approx(sigma**2 / X.shape[0], rel=1e-6, abs=1e-12)


def test_abm_svd_of_values_and_eigh_of_gram_agree(monkeypatch):
    import algebra._border_loop

    X = twisted_cubic(noise=0.01)
    svd = fit_abm(X, psi=1e-3, max_degree=3)  # 300 points: the values are kept
    monkeypatch.setattr(algebra._border_loop, "VALUES_MAX_ENTRIES", 0)  # force the Gram path
    gram = fit_abm(X, psi=1e-3, max_degree=3)
    np.testing.assert_array_equal(svd.terms, gram.terms)
    np.testing.assert_array_equal(svd.leading, gram.leading)
    np.testing.assert_allclose(svd.coef, gram.coef, atol=1e-8)
    np.testing.assert_allclose(svd.mse, gram.mse, rtol=1e-7, atol=1e-15)


def test_full_ihb_with_loose_tau_gives_least_squares_generators():
    X = circle(noise=0.01)
    G = fit_oavi(X, psi=1e-3, ihb="full", tau=1e6, max_degree=3)
    O = G.order_ideal
    for j in range(len(G)):
        u = G.leading_terms[j]
        below = O[: int(np.sum([G.order.key(o) < G.order.key(u) for o in O]))]
        y = np.linalg.lstsq(monomials_numpy(X, below), -monomials_numpy(X, u[None])[:, 0],
                            rcond=None)[0]
        rows = [np.flatnonzero((G.terms == b).all(axis=1))[0] for b in below]
        np.testing.assert_allclose(G.coef[rows, j], y, atol=1e-7)


def test_abm_on_exact_generic_points_has_one_order_ideal_term_per_point():
    # The quotient ring of the ideal of k distinct points has dimension k.
    X = np.random.default_rng(3).uniform(-1, 1, size=(15, 3))
    G = fit_abm(X, psi=1e-12, max_degree=None)
    assert G.order_ideal.shape[0] == 15
    # VCA on the same points: the 20 polynomials of degree ≤ 3 meet only 15
    # conditions, so 5 components of degree 3 would vanish on any 15 points; VCA
    # stops before that degree instead of returning them (and nothing of degree ≤ 2
    # vanishes on generic points).
    assert len(fit_vca(X, psi=1e-12, max_degree=3)) == 0


@pytest.mark.parametrize("method", ["oavi", "abm", "vca"])
def test_results_do_not_depend_on_the_order_of_the_samples(method):
    X = sphere(m=200, noise=0.01)
    perm = np.random.default_rng(4).permutation(X.shape[0])
    # OAVI's oracle is iterative: solve to a tight gap so only rounding differs.
    kw = {"eps": 1e-13} if method == "oavi" else {}
    A = fit_vanishing_ideal(X, method=method, psi=1e-3, max_degree=3, **kw)
    B = fit_vanishing_ideal(X[perm], method=method, psi=1e-3, max_degree=3, **kw)
    assert len(A) > 0  # the sphere and, for VCA, its multiples of degree 3
    np.testing.assert_array_equal(A.terms, B.terms)
    np.testing.assert_array_equal(A.leading, B.leading)
    np.testing.assert_allclose(A.coef, B.coef, atol=1e-6 if method == "oavi" else 1e-9)


@pytest.mark.parametrize("method", ["oavi", "abm", "vca"])
def test_float32_and_int_input(method):
    X = sphere(m=200, noise=0.01).astype(np.float32)
    A = fit_vanishing_ideal(X, method=method, psi=1e-3, max_degree=3)
    B = fit_vanishing_ideal(X.astype(np.float64), method=method, psi=1e-3, max_degree=3)
    assert len(A) > 0
    assert A == B
    # Integer data is exact: the points (a, b, a + b) satisfy x0 + x1 − x2 = 0.
    plane = np.array([[a, b, a + b] for a in (-1, 0, 1) for b in (-1, 0, 1)])
    G = fit_vanishing_ideal(plane, method=method, psi=1e-10, max_degree=2)
    assert np.all(mse_numpy(G, plane.astype(float)) <= 1e-10)
    linear = np.flatnonzero(G.degrees == 1)
    assert linear.size == 1
    g = {tuple(t): c for t, c in zip(G.terms.tolist(), G.coef[:, linear[0]], strict=True)}
    np.testing.assert_allclose([g[(1, 0, 0)], g[(0, 1, 0)], g[(0, 0, 1)]],
                               np.array([1, 1, -1]) * g[(1, 0, 0)], rtol=1e-6)


@pytest.mark.parametrize("method", [fit_oavi, fit_abm])
def test_gb_gives_no_more_generators_than_bb(method):
    X = twisted_cubic(noise=0.002)
    gb = method(X, psi=1e-4, max_degree=3, border="gb")
    bb = method(X, psi=1e-4, max_degree=3, border="bb")
    assert len(gb) <= len(bb)
    assert len(bb) > len(gb)  # the twisted cubic has vanishing multiples of leading terms
    np.testing.assert_array_equal(gb.order_ideal, bb.order_ideal)
    lead_bb = {tuple(r) for r in bb.leading_terms}
    assert {tuple(r) for r in gb.leading_terms} <= lead_bb
    assert np.all(mse_numpy(bb, X) <= 1e-4 * (1 + 1e-9))


def test_stochastic_mode_fits_the_drawn_subsample():
    X = sphere(m=500, noise=0.01)
    A = fit_oavi(X, psi=1e-3, max_degree=3, max_samples=100, random_state=7)
    rows = np.sort(np.random.default_rng(7).choice(500, size=100, replace=False))
    B = fit_oavi(X[rows], psi=1e-3, max_degree=3)
    assert A == B
    assert fit_oavi(X, psi=1e-3, max_degree=3, max_samples=100, random_state=7) == A


def test_constant_column_gives_its_linear_generator():
    X = circle()
    X = np.column_stack([X, np.full(X.shape[0], 0.5)])
    for method in ("oavi", "abm", "vca"):
        G = fit_vanishing_ideal(X, method=method, psi=1e-6, max_degree=2)
        lin = np.flatnonzero(G.degrees == 1)
        assert lin.size == 1
        # z − 0.5 up to scale.
        g = G.coef[:, lin[0]]
        z = np.flatnonzero((G.terms == (0, 0, 1)).all(axis=1))[0]
        one = np.flatnonzero(G.terms.sum(axis=1) == 0)[0]
        assert g[one] / g[z] == pytest.approx(-0.5, abs=1e-6)


def test_bad_input_messages():
    X = circle()
    bad = X.copy()
    bad[3, 1] = np.nan
    with pytest.raises(AlgebraError, match="X contains NaN or infinite values"):
        fit_oavi(bad)
    with pytest.raises(AlgebraError, match="X has 1 sample; fitting a vanishing ideal needs"):
        fit_abm(X[:1])
    bad[3, 1] = -np.inf
    with pytest.raises(AlgebraError, match=r"first at row 3, column 1: -inf"):
        fit_vca(bad)
    with pytest.raises(AlgebraError, match=r"X must hold real numbers, got .* dtype <U1"):
        fit_abm(np.array([["a", "b"], ["c", "d"], ["e", "f"]]))
    with pytest.raises(AlgebraError,
                       match=r"more than max_terms=5; scale the data to \[-1, 1\], raise psi"):
        fit_oavi(X, psi=1e-6, max_terms=5)
    with pytest.raises(AlgebraError, match=r"more than max_terms=5"):
        fit_vca(X, psi=1e-6, max_terms=5)
    with pytest.raises(AlgebraError, match=r"psi=0 must be a finite number > 0"):
        fit_abm(X, psi=0)
    with pytest.raises(AlgebraError, match=r"tau=1.0 must be a finite number > 1"):
        fit_oavi(X, tau=1.0)
    with pytest.raises(AlgebraError, match=r"oracle='sgd' is not supported"):
        fit_oavi(X, oracle="sgd")
    with pytest.raises(AlgebraError, match=r"border='xx' is not supported"):
        fit_abm(X, border="xx")
    with pytest.raises(AlgebraError, match=r"order='lex' is not degree-compatible"):
        fit_oavi(X, order="lex")
    with pytest.raises(AlgebraError, match=r"method='pca' is not supported"):
        fit_vanishing_ideal(X, method="pca")
    with pytest.raises(AlgebraError, match="max_samples must be an integer >= 2"):
        fit_oavi(X, max_samples=1)
    with pytest.raises(AlgebraError, match=r"eps=-1 must be a finite number >= 0"):
        fit_oavi(X, eps=-1)
    with pytest.raises(AlgebraError, match=r"random_state='a' must be None, an int >= 0"):
        fit_abm(X, max_samples=10, random_state="a")
    with pytest.raises(AlgebraError, match="chunk_size must be an integer >= 1, got 0"):
        fit_abm(X, chunk_size=0)
    for fit in (fit_oavi, fit_abm):
        # Degree-2 monomials of 1e200 overflow: a clear error, not NaN generators.
        with pytest.raises(AlgebraError, match=r"degree 1 overflowed .* scale the data"), \
                pytest.warns(UserWarning, match="far outside"):
            fit(X * 1e200)


@pytest.mark.parametrize("method", ["oavi", "abm", "vca"])
def test_data_far_outside_the_unit_box_warns(method):
    # The circle times 1000: the fits would silently find nothing useful.
    X = circle() * 1000
    with pytest.warns(UserWarning, match=r"values up to 1e\+03 .* far outside \[-1, 1\].*"
                                         r"MinMaxScaler\(feature_range=\(-1, 1\)\)"):
        fit_vanishing_ideal(X, method=method, psi=1e-3, max_degree=2)
    # Up to the documented threshold (|x| <= 10) there is no warning.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit_vanishing_ideal(X / 200, method=method, psi=1e-3, max_degree=2)


def test_fit_vanishing_ideal_dispatches():
    X = circle()
    assert fit_vanishing_ideal(X, method="abm", psi=1e-4) == fit_abm(X, psi=1e-4)
    assert isinstance(fit_vanishing_ideal(X, psi=1e-4), PolynomialSet)
    assert math.isclose(default_tau(1e-4), 1.5**7)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("method", ["oavi", "abm"])
def test_exact_points_give_the_exact_border_basis(method, order):
    # 12 exact rational points of the unit circle: the exact Buchberger–Möller border
    # basis (rational arithmetic) is the reference for psi → 0.
    P = rational_circle_points(12)
    X = np.array(P, dtype=float)
    B = buchberger_moller(P, order=order)
    exact_O = {tuple(r) for r in np.asarray(B.order_ideal).tolist()}
    exact_border = {tuple(r) for r in np.asarray(B.border).tolist()}
    # OAVI with a loose tau and full IHB: the least-squares (exact) combination.
    kw = {"tau": 1e6, "ihb": "full"} if method == "oavi" else {}
    bb = fit_vanishing_ideal(X, method=method, psi=1e-12, max_degree=None, order=order,
                             border="bb", **kw)
    gb = fit_vanishing_ideal(X, method=method, psi=1e-12, max_degree=None, order=order,
                             border="gb", **kw)
    for G in (bb, gb):
        assert {tuple(r) for r in G.order_ideal.tolist()} == exact_O
    # "bb" finds the whole border; "gb" its minimal terms (not divisible by another).
    assert {tuple(r) for r in bb.leading_terms.tolist()} == exact_border
    minimal = {b for b in exact_border
               if not any(a != b and all(x <= y for x, y in zip(a, b, strict=True))
                          for a in exact_border)}
    assert {tuple(r) for r in gb.leading_terms.tolist()} == minimal
    # Same polynomials as the exact border basis, after scaling the leading coefficient
    # to 1 (ABM's unit 2-norm vector is a multiple of it).
    ref = B.polynomials
    ref_lead = [tuple(r) for r in ref.leading_terms.tolist()]
    ref_coef = np.array(ref.coef, dtype=float)
    for j, lead in enumerate(bb.leading_terms.tolist()):
        r = ref_lead.index(tuple(lead))
        got = {tuple(t): c / bb.coef[bb.leading[j], j] for t, c in zip(
            bb.terms.tolist(), bb.coef[:, j], strict=True)}
        want = {tuple(t): c / ref_coef[ref.leading[r], r] for t, c in zip(
            ref.terms.tolist(), ref_coef[:, r], strict=True)}
        for t in set(got) | set(want):
            assert got.get(t, 0.0) == pytest.approx(want.get(t, 0.0), abs=1e-7)


@pytest.mark.parametrize("method", ["oavi", "abm"])
def test_gram_form_depends_on_the_sample_distribution_only(method, monkeypatch):
    import algebra._border_loop

    # The loop sees the data only through mean Gram products, accumulated over row
    # chunks: repeating every sample 3 times and splitting into 7-row chunks (the
    # monomial values not kept) gives the same generators.
    X = twisted_cubic(m=120, noise=0.01)
    kw = {"eps": 1e-13} if method == "oavi" else {}
    ref = fit_vanishing_ideal(X, method=method, psi=1e-3, max_degree=3, **kw)
    monkeypatch.setattr(algebra._border_loop, "VALUES_MAX_ENTRIES", 0)
    big = fit_vanishing_ideal(np.repeat(X, 3, axis=0), method=method, psi=1e-3,
                              max_degree=3, chunk_size=7, **kw)
    np.testing.assert_array_equal(ref.terms, big.terms)
    np.testing.assert_array_equal(ref.leading, big.leading)
    # OAVI's oracle stops at a gap tolerance on a flat (ill-conditioned) optimum:
    # rounding moves its coefficients more than ABM's eigenvectors, not its loss.
    np.testing.assert_allclose(ref.coef, big.coef, atol=1e-3 if method == "oavi" else 1e-8)
    np.testing.assert_allclose(ref.mse, big.mse, rtol=1e-4 if method == "oavi" else 1e-7,
                               atol=1e-12)


@pytest.mark.parametrize("method", ["oavi", "abm", "vca"])
def test_result_carries_order_ideal_leading_terms_mse_and_sparsity(method):
    X = sphere(m=200, noise=0.005)
    G = fit_vanishing_ideal(X, method=method, psi=1e-3, max_degree=3)
    nonzero = (G.coef != 0).sum(axis=0)
    np.testing.assert_allclose(G.sparsity, 1 - nonzero / G.n_terms)
    # The leading term is the largest term with a nonzero coefficient.
    for j in range(len(G)):
        used = G.terms[G.coef[:, j] != 0]
        largest = max(range(used.shape[0]), key=lambda i, used=used: G.order.key(used[i]))
        np.testing.assert_array_equal(G.leading_terms[j], used[largest])
    np.testing.assert_allclose(G.mse, mse_numpy(G, X), rtol=1e-6, atol=1e-13)
    assert (G.order_ideal is None) == (method == "vca")


@pytest.mark.parametrize("method", ["oavi", "abm"])
def test_order_ideal_terms_cannot_vanish(method):
    from tests.algebra.test_oracles import _slsqp_reference

    # The converse of "every generator has MSE ≤ ψ": a term joins O only when no
    # admissible combination with the earlier terms of O vanishes.  Reference: SLSQP
    # over the ℓ1 ball of radius τ − 1 (OAVI), the smallest singular value (ABM).
    X = twisted_cubic(m=200, noise=0.01)
    psi = 1e-3
    G = fit_vanishing_ideal(X, method=method, psi=psi, max_degree=3)
    O = G.order_ideal
    for i in range(1, O.shape[0]):
        A, b = monomials_numpy(X, O[:i]), monomials_numpy(X, O[i : i + 1])[:, 0]
        m = X.shape[0]
        if method == "oavi":
            best = _slsqp_reference(A.T @ A / m, A.T @ b / m, b @ b / m, default_tau(psi) - 1)
        else:
            best = np.linalg.svd(np.column_stack([A, b]), compute_uv=False)[-1] ** 2 / m
        assert best > psi * (1 - 1e-6)


@pytest.mark.parametrize("method", ["oavi", "abm", "vca"])
def test_a_keyword_the_method_does_not_take_is_refused_before_the_fit(method):
    params = method_parameters(method)
    assert params[:2] == ("psi", "max_degree") and "X" not in params
    # A 1-row array would fail inside the fit; the keyword check must come first.
    with pytest.raises(AlgebraError, match=rf"fit_{method} takes no parameter 'max_degre'; "
                                           r"its parameters are psi, max_degree"):
        fit_vanishing_ideal(np.zeros((1, 2)), method=method, max_degre=3)
    with pytest.raises(AlgebraError, match=r"method='svd' is not supported; use one of 'oavi'"):
        method_parameters("svd")
