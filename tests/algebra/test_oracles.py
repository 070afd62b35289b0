"""The OAVI convex oracles against scipy / numpy references and brute force."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.optimize import minimize

from algebra import AlgebraError
from algebra._oracles import (
    IHB_MODES,
    ORACLES,
    GramInverse,
    project_l1_ball,
    solve_oracle,
    solve_with_ihb,
)


def _problem(seed, m=60, k=5):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(m, k))
    b = rng.normal(size=m) + A @ rng.normal(size=k)
    return A, b, A.T @ A / m, A.T @ b / m, float(b @ b / m)


def _slsqp_reference(G, c, d, radius):
    """min f(p − q) over p, q ≥ 0, Σ(p + q) ≤ r: a smooth QP equivalent to the ℓ1 ball."""
    k = c.shape[0]

    def f(z):
        y = z[:k] - z[k:]
        return y @ G @ y + 2 * c @ y + d

    def jac(z):
        g = 2 * (G @ (z[:k] - z[k:]) + c)
        return np.concatenate([g, -g])

    res = minimize(
        f, np.zeros(2 * k), jac=jac, method="SLSQP", bounds=[(0, None)] * (2 * k),
        constraints=[{"type": "ineq", "fun": lambda z: radius - z.sum(),
                      "jac": lambda z: -np.ones(2 * k)}],
        options={"ftol": 1e-15, "maxiter": 2000},
    )
    return res.fun


def _soft_threshold_bisection(v, radius):
    """Brute-force projection: bisection on the threshold θ of ‖soft(v, θ)‖₁ = r."""
    if np.abs(v).sum() <= radius:
        return v.copy()
    lo, hi = 0.0, np.abs(v).max()
    for _ in range(200):
        mid = (lo + hi) / 2
        if np.maximum(np.abs(v) - mid, 0).sum() > radius:
            lo = mid
        else:
            hi = mid
    return np.sign(v) * np.maximum(np.abs(v) - hi, 0)


@given(
    arrays(np.float64, st.integers(1, 12), elements=st.floats(-10, 10)),
    st.floats(0.0, 20.0),
)
def test_l1_projection_matches_bisection(v, radius):
    w = project_l1_ball(v, radius)
    np.testing.assert_allclose(w, _soft_threshold_bisection(v, radius), atol=1e-9)
    assert np.abs(w).sum() <= radius + 1e-9


def test_l1_projection_is_the_closest_point_among_random_feasible_points():
    rng = np.random.default_rng(1)
    v = rng.normal(size=6) * 3
    w = project_l1_ball(v, 1.5)
    cands = rng.normal(size=(5000, 6))
    cands *= 1.5 * rng.uniform(size=(5000, 1)) / np.abs(cands).sum(1, keepdims=True)
    assert np.all(np.linalg.norm(cands - v, axis=1) >= np.linalg.norm(w - v) - 1e-12)


def test_l1_projection_rejects_bad_radius():
    with pytest.raises(AlgebraError, match=r"radius=-1.0 must be a finite number ≥ 0"):
        project_l1_ball(np.ones(3), -1.0)
    with pytest.raises(AlgebraError, match="must be one-dimensional"):
        project_l1_ball(np.ones((2, 2)), 1.0)


@pytest.mark.parametrize("oracle", ORACLES)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("radius", [0.2, 1.0])
def test_oracle_matches_slsqp_when_constraint_is_active(oracle, seed, radius):
    A, b, G, c, d = _problem(seed)
    assert np.abs(np.linalg.lstsq(A, -b, rcond=None)[0]).sum() > radius  # active
    res = solve_oracle(G, c, d, radius, oracle=oracle, eps=1e-11, max_iter=100_000)
    ref = _slsqp_reference(G, c, d, radius)
    assert np.abs(res.coef).sum() <= radius * (1 + 1e-9)
    # The stored loss is the true mean squared residual ...
    np.testing.assert_allclose(res.loss, np.mean((A @ res.coef + b) ** 2), rtol=1e-10)
    # ... and optimal: within the gap of the SLSQP reference (never much below it).
    assert res.loss <= ref + 1e-7
    assert res.loss >= ref - 1e-7
    assert res.loss - res.gap <= ref + 1e-9


@pytest.mark.parametrize("oracle", ORACLES)
def test_oracle_matches_lstsq_when_constraint_is_inactive(oracle):
    A, b, G, c, d = _problem(3)
    y_ls = np.linalg.lstsq(A, -b, rcond=None)[0]
    res = solve_oracle(G, c, d, 10 * np.abs(y_ls).sum(), oracle=oracle, eps=1e-13,
                       max_iter=200_000)
    np.testing.assert_allclose(res.loss, np.mean((A @ y_ls + b) ** 2), rtol=1e-8)


@pytest.mark.parametrize("oracle", ORACLES)
def test_psi_stopping_rules(oracle):
    _, _, G, c, d = _problem(4)
    ref = _slsqp_reference(G, c, d, 1.0)
    # psi above the optimum: stops with loss ≤ psi ("vanished").
    res = solve_oracle(G, c, d, 1.0, oracle=oracle, psi=ref * 1.5)
    assert res.status == "vanished" and res.loss <= ref * 1.5
    # psi below the optimum: stops with the certificate loss − gap > psi.
    res = solve_oracle(G, c, d, 1.0, oracle=oracle, psi=ref * 0.5)
    assert res.status == "certified" and res.loss - res.gap > ref * 0.5


def test_oracle_rejects_bad_parameters():
    _, _, G, c, d = _problem(0)
    with pytest.raises(AlgebraError, match=r"oracle='fw' is not supported; use one of 'cg', 'pcg'"):
        solve_oracle(G, c, d, 1.0, oracle="fw")
    with pytest.raises(AlgebraError, match=r"radius=0.0 must be a finite number > 0"):
        solve_oracle(G, c, d, 0.0)
    with pytest.raises(AlgebraError, match=r"G must have shape \(5, 5\)"):
        solve_oracle(G[:2, :2], c, d, 1.0)
    with pytest.raises(AlgebraError, match=r"ihb='strong' is not supported"):
        solve_with_ihb(G, c, d, 1.0, None, ihb="strong")


def test_gram_inverse_rank_one_updates_match_numpy_inverse():
    _, _, G, _, _ = _problem(5, k=7)
    inv = GramInverse(G[:1, :1])
    for j in range(1, 7):
        inv.append(G[:j, j], G[j, j])
        np.testing.assert_allclose(inv.inverse, np.linalg.inv(G[: j + 1, : j + 1]), rtol=1e-10)
    assert inv.size == 7 and not inv.is_singular


def test_gram_inverse_falls_back_to_least_squares_on_a_dependent_column():
    rng = np.random.default_rng(6)
    A = rng.normal(size=(50, 3))
    A = np.column_stack([A, A[:, 0] + A[:, 1]])  # dependent fourth column
    G = A.T @ A / 50
    inv = GramInverse(G[:3, :3])
    inv.append(G[:3, 3], G[3, 3])
    assert inv.is_singular
    b = rng.normal(size=50)
    y = inv.least_squares(A.T @ b / 50)
    np.testing.assert_allclose(A @ y, A @ np.linalg.lstsq(A, -b, rcond=None)[0], atol=1e-8)


@pytest.mark.parametrize("ihb", IHB_MODES)
@pytest.mark.parametrize("oracle", ORACLES)
def test_ihb_decides_like_the_plain_oracle(ihb, oracle):
    for seed in range(4):
        A, b, G, c, d = _problem(seed)
        radius = 5.0  # inactive for these problems
        opt = np.mean((A @ np.linalg.lstsq(A, -b, rcond=None)[0] + b) ** 2)
        for psi in (opt * 0.9, opt * 1.1):
            res = solve_with_ihb(G, c, d, radius, GramInverse(G), ihb=ihb, oracle=oracle,
                                 psi=psi)
            assert (res.loss <= psi) == (opt <= psi)
            assert np.abs(res.coef).sum() <= radius * (1 + 1e-9) or res.loss > psi
            np.testing.assert_allclose(res.loss, np.mean((A @ res.coef + b) ** 2), rtol=1e-9)


def test_full_ihb_accepts_the_feasible_unconstrained_optimum_without_iterations():
    A, b, G, c, d = _problem(7)
    y_ls = np.linalg.lstsq(A, -b, rcond=None)[0]
    psi = np.mean((A @ y_ls + b) ** 2) * 1.01
    res = solve_with_ihb(G, c, d, 10.0, None, ihb="full", psi=psi)
    assert res.status == "exact" and res.n_iter == 0
    np.testing.assert_allclose(res.coef, y_ls, rtol=1e-8)
    # weak IHB skips the oracle when the lower bound already exceeds psi.
    res = solve_with_ihb(G, c, d, 10.0, None, ihb="weak", psi=psi / 2)
    assert res.status == "certified" and res.n_iter == 0


@pytest.mark.parametrize("oracle", ORACLES)
def test_gap_no_progress_and_iteration_cap_stopping_rules(oracle):
    A, b, G, c, d = _problem(0)
    ref = _slsqp_reference(G, c, d, 1.0)
    # Frank–Wolfe gap ≤ eps ("converged"); the gap bounds the distance to the optimum.
    res = solve_oracle(G, c, d, 1.0, oracle=oracle, eps=1e-6)
    assert res.status == "converged" and 0 <= res.gap <= 1e-6
    assert ref - 1e-9 <= res.loss <= ref + 1e-6
    # eps = 0 cannot be met in floating point: the loop stops when the loss no longer
    # decreases ("stalled"), long before the cap, at the optimum.
    res = solve_oracle(G, c, d, 1.0, oracle=oracle, eps=0.0, max_iter=10**6)
    assert res.status == "stalled" and res.n_iter < 10**4
    assert res.loss == pytest.approx(ref, abs=1e-8)
    np.testing.assert_allclose(res.loss, np.mean((A @ res.coef + b) ** 2), rtol=1e-10)
    # The iteration cap.
    res = solve_oracle(G, c, d, 1.0, oracle=oracle, eps=0.0, max_iter=3)
    assert res.status == "max_iter" and res.n_iter == 3
    assert np.abs(res.coef).sum() <= 1.0 * (1 + 1e-9)


def test_oracle_rejects_bad_gram_form_and_eps():
    _, _, G, c, d = _problem(0)
    with pytest.raises(AlgebraError, match=r"eps='tiny' must be a finite number >= 0"):
        solve_oracle(G, c, d, 1.0, eps="tiny")
    with pytest.raises(AlgebraError, match=r"eps=-1.0 must be a finite number >= 0"):
        solve_oracle(G, c, d, 1.0, eps=-1.0)
    with pytest.raises(AlgebraError, match=r"c must be one-dimensional, got shape \(5, 1\)"):
        solve_oracle(G, c[:, None], d, 1.0)
    bad = G.copy()
    bad[1, 2] = np.nan
    with pytest.raises(AlgebraError, match=r"\(G, c, d\) contains NaN or infinite values"):
        solve_oracle(bad, c, d, 1.0)
    with pytest.raises(AlgebraError, match=r"\(G, c, d\) contains NaN or infinite values"):
        solve_oracle(G, c, np.inf, 1.0)
