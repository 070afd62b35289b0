"""OAVI: the Oracle Approximate Vanishing Ideal algorithm (Wirth & Pokutta 2022).

Each border term ``u`` solves ``min (1/m)‖A y + b‖²`` s.t. ``‖y‖₁ ≤ τ − 1`` (the
generator ``u + Σ yᵢ oᵢ`` has leading coefficient 1 and ``‖coef‖₁ ≤ τ``) with a convex
oracle of :mod:`algebra._oracles`, optionally with inverse-Hessian boosting (Wirth,
Kera & Pokutta, ICLR 2023); the loop itself is :func:`algebra._border_loop.border_loop`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from algebra._border_loop import border_loop, check_loop_parameters, default_tau
from algebra._errors import AlgebraError
from algebra._oracles import (
    IHB_MODES,
    ORACLES,
    GramInverse,
    check_eps,
    solve_oracle,
    solve_with_ihb,
)
from algebra._polyset import PolynomialSet
from algebra._validation import check_choice, check_positive_int, check_psi, prepare_data

__all__ = ["check_tau", "fit_oavi"]


class _OracleDecision:
    """OAVI's test of one border term: solve the constrained problem, compare with ψ."""

    def __init__(
        self, psi: float, radius: float, oracle: str, ihb: str, eps: float | None,
        max_iter: int,
    ) -> None:
        self.psi = psi
        self.radius = radius
        self.oracle = oracle
        self.ihb = ihb
        self.eps = eps
        self.max_iter = max_iter
        # O starts as {1}, whose Gram matrix is [[mean(1·1)]] = [[1]].
        self.inverse = GramInverse(np.ones((1, 1))) if ihb != "none" else None

    def decide(
        self, G: np.ndarray, c: np.ndarray, d: float, factor: Any = None
    ) -> tuple[np.ndarray, float, float] | None:
        # The oracles work on the Gram form only; ``factor`` is not needed.
        res = solve_with_ihb(
            G, c, d, self.radius, self.inverse, ihb=self.ihb, oracle=self.oracle,
            psi=self.psi, eps=self.eps, max_iter=self.max_iter,
        )
        if res.loss > self.psi:
            return None
        if res.status != "exact":
            # The psi rule stopped the oracle at the first vanishing iterate, which
            # decides the term but is a poor generator; polish it towards the
            # constrained optimum (gap ≤ eps), warm-started, for generators only.
            polished = solve_oracle(
                G, c, d, self.radius, oracle=self.oracle, psi=None,
                eps=self.eps if self.eps is not None else self.psi * 1e-3,
                max_iter=self.max_iter, start=res.coef,
            )
            if polished.loss <= res.loss:
                res = polished
        return res.coef, 1.0, max(res.loss, 0.0)

    def join(self, c: np.ndarray, d: float) -> None:
        if self.inverse is not None:
            self.inverse.append(c, d)


def check_tau(tau: Any, psi: float) -> float:
    """Validate OAVI's ℓ1 bound ``tau > 1``; ``None`` gives :func:`default_tau` of ``psi``."""
    if tau is None:
        return default_tau(psi)
    if isinstance(tau, bool) or not isinstance(tau, (int, float, np.number)) or not (
        np.isfinite(tau) and tau > 1
    ):
        raise AlgebraError(
            f"Parameter tau={tau!r} must be a finite number > 1 (the ℓ1 bound of a "
            f"generator's coefficients, leading 1 included); leave tau=None for "
            f"(3/2)^D = {default_tau(psi):.4g} at psi={psi}."
        )
    return float(tau)


def fit_oavi(
    X: Any,
    *,
    psi: float = 0.005,
    max_degree: int | None = 10,
    order: Any = "deglex",
    oracle: str = "bpcg",
    ihb: str = "weak",
    tau: float | None = None,
    border: str = "gb",
    max_terms: int = 1000,
    max_samples: int | None = None,
    random_state: Any = None,
    eps: float | None = None,
    max_iter: int = 10_000,
    chunk_size: int | None = None,
) -> PolynomialSet:
    """Fit generators of the approximate vanishing ideal of ``X`` with OAVI.

    OAVI (Alg. 1 in Wirth & Pokutta 2022): border terms degree by degree in term
    order; each solves ``min (1/m)‖A y + b‖²`` subject to ``‖y‖₁ ≤ τ − 1`` with a
    convex oracle; a mean squared value at most ``psi`` makes ``b + A y`` a generator
    (leading coefficient 1), otherwise the term joins the order ideal ``O``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data, ideally scaled to ``[−1, 1]^n`` (VI-Net's setting: every monomial
        stays in ``[−1, 1]``).  The default ``tau`` guarantees termination on
        ``[0, 1]^n`` only (:func:`~algebra.default_tau`); ``max_degree`` caps the loop
        elsewhere.
    psi : float, default=0.005
        Vanishing tolerance: every generator ``g`` has mean of ``g(x)²`` over the
        (fitting) samples at most ``psi``.
    max_degree : int or None, default=10
        Largest degree of a generator; ``None`` stops only when a degree adds no
        term to ``O``.
    order : {"deglex", "degrevlex"} or TermOrder, default="deglex"
        Term order of the border terms.
    oracle : {"cg", "pcg", "bpcg", "agd"}, default="bpcg"
        Convex oracle (:func:`algebra._oracles.solve_oracle`).
    ihb : {"none", "weak", "full"}, default="weak"
        Inverse-Hessian boosting (:func:`algebra._oracles.solve_with_ihb`).
    tau : float, optional
        Bound on the ℓ1 norm of a generator's coefficient vector, ``> 1``; default
        ``(3/2)^D`` with ``D = ⌈−log ψ / log 4⌉`` (the termination bound).
    border : {"gb", "bb"}, default="gb"
        ``"gb"`` skips border terms divisible by an earlier leading term; ``"bb"``
        also returns those of them that vanish.
    max_terms : int, default=1000
        Guard on ``|O|`` plus the border terms of one degree.
    max_samples : int, optional
        Stochastic mode: fit on this many rows drawn at random.
    random_state : None, int or numpy Generator
        Seed of the subsample.
    eps : float, optional
        Frank–Wolfe gap tolerance of the oracle (default ``psi / 1000``).
    max_iter : int, default=10000
        Iteration cap of the oracle per border term.
    chunk_size : int, optional
        Rows per block of the Gram accumulation (default: a block's monomials fill
        128 KiB, so they stay in cache).

    Returns
    -------
    PolynomialSet
        The generators, with ``order_ideal`` (``O``), leading terms (coefficient 1),
        ``mse`` on the fitting data, and ``sparsity``.

    Raises
    ------
    AlgebraError
        On invalid data or parameters, or when ``max_terms`` is exceeded.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import fit_oavi
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> G = fit_oavi(np.column_stack([np.cos(t), np.sin(t)]), psi=1e-6, max_degree=2)
    >>> G.leading_terms.tolist()
    [[2, 0]]
    """
    psi = check_psi(psi)
    order, border, max_degree, max_terms = check_loop_parameters(
        order, border, max_degree, max_terms
    )
    check_choice("oracle", oracle, ORACLES)
    check_choice("ihb", ihb, IHB_MODES)
    tau = check_tau(tau, psi)
    max_iter = check_positive_int(max_iter, "max_iter")
    if eps is not None:
        eps = check_eps(eps)
    X = prepare_data(X, max_samples, random_state)
    decision = _OracleDecision(psi, float(tau) - 1.0, oracle, ihb, eps, max_iter)
    return border_loop(
        X, decision, order=order, border=border, max_degree=max_degree,
        max_terms=max_terms, chunk_size=chunk_size,
    )
