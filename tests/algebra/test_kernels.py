"""The fused numba kernels and the thread budget, against numpy re-computations."""

import os
import subprocess
import sys

import numpy as np
import pytest
from threadpoolctl import threadpool_info

import algebra._border_loop
from algebra import AlgebraError, PolynomialSet, all_monomials, fit_abm, thread_budget
from algebra._kernels import block_rows, eval_polys, gram
from algebra._monomials import chain_into
from algebra._threads import (
    PARALLEL_MIN_ROWS,
    available_cores,
    budget,
    kernel_threads,
    run_kernel,
    single_threaded_blas,
)


def numpy_monomials(X, E):
    return np.prod(X[:, None, :] ** E[None], axis=2)


def chain_case(m, n=3, degree=3, p=4, seed=0):
    rng = np.random.default_rng(seed)
    E = all_monomials(n, degree)
    coef = rng.normal(size=(len(E), p))
    S = PolynomialSet(E, coef)
    X = rng.uniform(-1.2, 1.2, size=(m, n))
    return S, X, numpy_monomials(X, S.terms)


def counter():
    return np.zeros(1, dtype=np.int64)


# Every row count against blocks that do not divide it, one row per block, one block
# for all rows.
@pytest.mark.parametrize("m,block", [(1, 32), (37, 1), (257, 32), (1000, 7), (50, 4096)])
def test_fused_kernels_against_numpy(m, block):
    S, X, mu = chain_case(m)
    coef = S.coef.copy()
    coef[::3, 1] = 0.0  # a sparse column, and one polynomial with no terms at all
    coef[:, 2] = 0.0
    indptr = np.concatenate([[0], np.cumsum((coef.T != 0).sum(axis=1))])
    indices = np.nonzero(coef.T)[1]
    values = coef.T[coef.T != 0]
    for absolute in (False, True):
        out = np.full((m, S.n_polys), np.nan)
        eval_polys(counter(), X, S.parent, S.var, indptr, indices, values, absolute, block,
                   out)
        want = mu @ coef
        np.testing.assert_allclose(out, np.abs(want) if absolute else want,
                                   rtol=1e-12, atol=1e-12)
    t = S.n_terms
    for k in (0, 1, t - 3):
        acc = np.ones((t - k, t))  # the kernel adds to what is there
        gram(counter(), X, S.parent, S.var, k, block, acc)
        np.testing.assert_allclose(acc - 1, mu[:, k:].T @ mu, rtol=1e-12, atol=1e-10)


def test_a_kernel_takes_only_the_blocks_left():
    # The shared counter is the work queue: a kernel called on a counter past some
    # blocks does only the rest, and one past the last block does nothing.
    S, X, mu = chain_case(3 * 100 + 5)
    t = S.n_terms
    identity = (np.arange(t + 1), np.arange(t), np.ones(t))  # polynomial i = monomial i
    out = np.full(mu.shape, np.nan)
    eval_polys(np.array([2]), X, S.parent, S.var, *identity, False, 100, out)
    assert np.isnan(out[:200]).all()
    np.testing.assert_allclose(out[200:], mu[200:], rtol=1e-13, atol=1e-15)
    done = np.array([4])
    eval_polys(done, X, S.parent, S.var, *identity, False, 100, out)
    assert done[0] == 5 and np.isnan(out[:200]).all()


@pytest.mark.parametrize("threads", [1, 2, 5])
def test_run_kernel_covers_every_row_on_any_budget(threads):
    # A block no thread took would stay NaN; the partial sums of the threads add up to
    # the whole Gram matrix whatever the number of threads.
    S, X, mu = chain_case(PARALLEL_MIN_ROWS + 3)
    t = S.n_terms
    with thread_budget(threads):
        out = np.full(mu.shape, np.nan)
        chain_into(X, S.parent, S.var, out)
        np.testing.assert_allclose(out, mu, rtol=1e-13, atol=1e-15)
        G = run_kernel(gram, X.shape[0], X, S.parent, S.var, 2, 100, partial=(t - 2, t))
        np.testing.assert_allclose(G, mu[:, 2:].T @ mu, rtol=1e-12)


def test_block_rows_keeps_a_block_in_cache():
    assert block_rows(1) == 2048 and block_rows(10**6) == 32
    for t in (10, 100, 512):  # above 512 terms the 32-row floor takes over
        assert 8 * t * block_rows(t) <= 2**17


def test_evaluate_under_every_budget_matches_numpy():
    S, X, mu = chain_case(PARALLEL_MIN_ROWS + 1001, p=3, seed=1)
    for threads in (None, 1, 2):
        with thread_budget(threads):
            np.testing.assert_allclose(S.evaluate(X), mu @ S.coef, rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(S.evaluate(X, absolute=True), np.abs(mu @ S.coef),
                                       rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(S.evaluate(X, chunk_size=100), mu @ S.coef,
                                       rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(S.monomials(X), mu, rtol=1e-13, atol=1e-15)


def test_evaluate_with_no_polynomials_and_bad_chunk_size():
    S, X, _ = chain_case(50)
    empty = S.select([])
    assert empty.evaluate(X).shape == (50, 0)
    with pytest.raises(AlgebraError, match="chunk_size"):
        S.evaluate(X, chunk_size=0)


def test_thread_budget_scopes_the_kernels_and_blas_and_restores_them():
    def blas_threads():
        return {lib["filepath"]: lib["num_threads"] for lib in threadpool_info()
                if lib["user_api"] == "blas"}

    before = blas_threads()
    assert budget() == available_cores()
    with thread_budget(1):
        assert budget() == 1
        assert kernel_threads(10**7) == 1
        assert set(blas_threads().values()) == {1}
        with thread_budget(None):  # the default again, inside
            assert budget() == available_cores()
        assert budget() == 1
    assert blas_threads() == before
    with single_threaded_blas():
        assert set(blas_threads().values()) == {1}
    assert blas_threads() == before
    # More than the cores is capped to them; few rows stay on the calling thread.
    with thread_budget(10**6):
        assert budget() == available_cores()
        assert kernel_threads(PARALLEL_MIN_ROWS - 1) == 1
        assert kernel_threads(PARALLEL_MIN_ROWS) == available_cores()


def test_numba_num_threads_caps_the_default_budget():
    # joblib's process workers set NUMBA_NUM_THREADS to their share of the cores.
    code = "from algebra._threads import budget; print(budget())"
    env = {**os.environ, "NUMBA_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == "1"


@pytest.mark.parametrize("bad", [0, -1, 1.5, "2", True])
def test_thread_budget_rejects_bad_values(bad):
    with pytest.raises(AlgebraError, match=r"threads"):
        with thread_budget(bad):
            pass


def test_abm_on_small_data_keeps_the_accuracy_of_the_svd(monkeypatch):
    # Small data: ABM decides on the QR factor of the values, so it sees the circle's
    # mean square of ~1e-32; the Gram form squares the condition number and cannot go
    # below ~1e-17, so at psi = 1e-24 it finds nothing.
    t = np.random.default_rng(0).uniform(0, 2 * np.pi, 500)
    X = np.column_stack([0.9 * np.cos(t) + 0.05, 0.9 * np.sin(t)])
    G = fit_abm(X, psi=1e-24, max_degree=2)
    assert G.leading_terms.tolist() == [[2, 0]] and G.mse[0] <= 1e-26
    monkeypatch.setattr(algebra._border_loop, "VALUES_MAX_ENTRIES", 0)  # the Gram path
    assert len(fit_abm(X, psi=1e-24, max_degree=2)) == 0
