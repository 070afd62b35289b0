"""ABM: the Approximate Buchberger–Möller algorithm (Limbeck 2013; Heldt et al. 2009).

Each border term ``u`` is tested by the smallest right singular vector of ``[A_O, u]``:
it minimises ``(1/m)‖[A_O, u] v‖²`` over unit vectors ``v``, and that minimum is
``σ_min² / m``.  On small data (the loop keeps the monomial values when a degree has
at most :data:`algebra._border_loop.VALUES_MAX_ENTRIES` of them) this is an SVD of the
values, taken on their QR factor (one Householder QR per degree, then SVDs of at most
``t`` rows); on large data it is the smallest eigenpair of the Gram matrix
``[A_O, u]ᵀ[A_O, u] / m`` that the shared loop accumulates over row chunks, so no
``m``-sized SVD is formed (at the price of squaring the condition number, which
matters only for ψ near 1e-14).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import eigh

from algebra._border_loop import border_loop, check_loop_parameters
from algebra._polyset import PolynomialSet
from algebra._validation import check_psi, prepare_data

__all__ = ["fit_abm"]


class _EigenDecision:
    """ABM's test: the smallest eigenpair of the bordered Gram matrix."""

    def __init__(self, psi: float) -> None:
        self.psi = psi

    def decide(
        self, G: np.ndarray, c: np.ndarray, d: float,
        factor: Callable[[], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, float, float] | None:
        k = c.shape[0]
        if factor is not None:
            # Small data: the SVD of [A_O, u] / √m itself (through its QR factor, which
            # has the same singular values), as in Limbeck (2013); accurate down to
            # σ_min/σ_max ≈ 1e-16 (the Gram form squares that ratio).
            F = factor()
            rows, cols = F.shape
            # With fewer rows (samples) than columns the null space is not among the
            # singular values of the thin SVD: take the full one, σ_min = 0.
            _, s, Vt = np.linalg.svd(F, full_matrices=rows < cols)
            lam = s[-1] ** 2 if s.shape[0] == cols else 0.0
            v = Vt[-1]
        else:
            M = np.empty((k + 1, k + 1))
            M[:k, :k] = G
            M[:k, k] = M[k, :k] = c
            M[k, k] = d
            # Only the smallest eigenpair is needed (LAPACK syevr with an index range).
            w, V = eigh(M, subset_by_index=[0, 0])
            lam = float(w[0])
            v = V[:, 0]
        if lam > self.psi:
            return None
        # The border term's coefficient is nonzero: otherwise v would be a unit vector
        # on O alone with value ≤ ψ, and O only holds terms that passed this test.
        # Sign: positive leading coefficient.
        if v[k] < 0:
            v = -v
        return v[:k], float(v[k]), max(lam, 0.0)

    def join(self, c: np.ndarray, d: float) -> None:
        """Nothing to maintain: every test uses a fresh eigendecomposition."""


def fit_abm(
    X: Any,
    *,
    psi: float = 0.005,
    max_degree: int | None = 10,
    order: Any = "deglex",
    border: str = "gb",
    max_terms: int = 1000,
    max_samples: int | None = None,
    random_state: Any = None,
    chunk_size: int | None = None,
) -> PolynomialSet:
    """Fit generators of the approximate vanishing ideal of ``X`` with ABM.

    The approximate Buchberger–Möller algorithm (Limbeck 2013): the same degree-by-
    degree border loop as OAVI, but each border term ``u`` is tested with the smallest
    right singular vector ``v`` of ``[A_O, u]``: if ``σ_min²/m ≤ psi`` the polynomial
    with coefficient vector ``v`` (unit 2-norm, positive leading coefficient) is a
    generator, otherwise ``u`` joins ``O``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data, ideally scaled to ``[−1, 1]``.
    psi : float, default=0.005
        Vanishing tolerance: every generator has mean of ``g(x)²`` at most ``psi``
        (its coefficient vector has unit 2-norm).
    max_degree : int or None, default=10
        Largest degree of a generator.
    order : {"deglex", "degrevlex"} or TermOrder, default="deglex"
        Term order of the border terms.
    border : {"gb", "bb"}, default="gb"
        Border style (see :func:`~algebra.fit_oavi`).
    max_terms : int, default=1000
        Guard on ``|O|`` plus the border terms of one degree.
    max_samples : int, optional
        Stochastic mode: fit on this many rows drawn at random.
    random_state : None, int or numpy Generator
        Seed of the subsample.
    chunk_size : int, optional
        Rows per block of the Gram accumulation (default: a block's monomials fill
        128 KiB, so they stay in cache).

    Returns
    -------
    PolynomialSet
        Generators with unit 2-norm coefficient vectors, ``order_ideal``, ``mse``.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import fit_abm
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> G = fit_abm(np.column_stack([np.cos(t), np.sin(t)]), psi=1e-6, max_degree=2)
    >>> G.leading_terms.tolist()
    [[2, 0]]
    """
    psi = check_psi(psi)
    order, border, max_degree, max_terms = check_loop_parameters(
        order, border, max_degree, max_terms
    )
    X = prepare_data(X, max_samples, random_state)
    return border_loop(
        X, _EigenDecision(psi), order=order, border=border, max_degree=max_degree,
        max_terms=max_terms, chunk_size=chunk_size,
    )
