"""ABM: the Approximate Buchberger–Möller algorithm (Limbeck 2013; Heldt et al. 2009).

Each border term ``u`` is tested by the smallest right singular vector of ``[A_O, u]``:
it minimises ``(1/m)‖[A_O, u] v‖²`` over unit vectors ``v``, and that minimum is
``σ_min² / m``.  From the Gram matrix ``[A_O, u]ᵀ[A_O, u] / m`` (which the shared loop
keeps up to date over row chunks), ``σ_min²/m`` is its smallest eigenvalue and ``v``
its eigenvector, so no ``m``-sized SVD is ever formed.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import eigh

from algebra._approx import border_loop, check_loop_parameters, check_psi, prepare_data
from algebra._polyset import PolynomialSet

__all__ = ["fit_abm"]


class _EigenDecision:
    """ABM's test: the smallest eigenpair of the bordered Gram matrix."""

    def __init__(self, psi: float) -> None:
        self.psi = psi

    def decide(
        self, G: np.ndarray, c: np.ndarray, d: float
    ) -> tuple[np.ndarray, float, float] | None:
        k = c.shape[0]
        M = np.empty((k + 1, k + 1))
        M[:k, :k] = G
        M[:k, k] = M[k, :k] = c
        M[k, k] = d
        # Only the smallest eigenpair is needed (LAPACK syevr with an index range).
        w, V = eigh(M, subset_by_index=[0, 0])
        if w[0] > self.psi:
            return None
        v = V[:, 0]
        # The border term's coefficient is nonzero: otherwise v would be a unit vector
        # on O alone with value ≤ ψ, and O only holds terms that passed this test.
        # Sign: positive leading coefficient.
        if v[k] < 0:
            v = -v
        return v[:k], float(v[k]), max(float(w[0]), 0.0)

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
        Rows per chunk of the Gram accumulation.

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
    term_order, border, max_degree, max_terms = check_loop_parameters(
        order, border, max_degree, max_terms
    )
    X = prepare_data(X, max_samples, random_state)
    return border_loop(
        X, _EigenDecision(psi), order=term_order, border=border, max_degree=max_degree,
        max_terms=max_terms, chunk_size=chunk_size,
    )
