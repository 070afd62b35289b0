"""Convex oracles of OAVI on the Gram form, with inverse-Hessian boosting.

OAVI (Alg. 1 in Wirth & Pokutta 2022) decides for every border term ``u`` whether
``u + Σ yᵢ oᵢ`` vanishes on the data by solving the constrained convex problem::

    minimise  f(y) = (1/m) ‖A y + b‖²   subject to   ‖y‖₁ ≤ τ − 1,

where the columns of ``A`` are the order-ideal terms evaluated on the data and ``b`` is
``u`` evaluated on the data.  Everything here works from the *Gram form*
``G = AᵀA/m``, ``c = Aᵀb/m``, ``d = bᵀb/m`` (``f(y) = yᵀGy + 2cᵀy + d``), so the cost
of a solve does not depend on the number of samples ``m``.

Oracles (the loops are numba kernels in :mod:`algebra._oracle_kernels`):

``"cg"``
    Frank–Wolfe / conditional gradients (Frank & Wolfe 1956) with exact line search.
``"pcg"``
    Pairwise conditional gradients (Lacoste-Julien & Jaggi 2015).
``"bpcg"``
    Blended pairwise conditional gradients (Tsuji, Tanaka & Pokutta 2022), the
    default of OAVI: sparse iterates and linear convergence on this problem.
``"agd"``
    Accelerated projected gradient descent (Nesterov / FISTA) with the exact
    sort-based projection onto the ℓ1-ball (Duchi et al. 2008).

Stopping rules, shared by all oracles: the Frank–Wolfe gap is at most ``eps``; the loss
is at most ``psi`` (the term vanishes, we need no better); the certificate
``loss − gap > psi`` proves that no feasible ``y`` reaches ``psi`` (the term cannot
vanish); or no progress over several iterations.

Inverse-Hessian boosting (IHB, Wirth, Kera & Pokutta, ICLR 2023) uses the
unconstrained least-squares solution ``y* = −G⁻¹c``, whose loss ``d − cᵀG⁻¹c`` is a lower
bound of the constrained optimum.  :class:`GramInverse` keeps ``G⁻¹`` of the growing
order ideal up to date with one Schur-complement (rank-one) update per new term.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from algebra import _oracle_kernels as K
from algebra._errors import AlgebraError
from algebra._validation import check_choice

__all__ = [
    "IHB_MODES",
    "ORACLES",
    "GramInverse",
    "OracleResult",
    "check_eps",
    "project_l1_ball",
    "solve_oracle",
    "solve_with_ihb",
]

#: Names of the convex oracles.
ORACLES: tuple[str, ...] = ("cg", "pcg", "bpcg", "agd")
#: Inverse-Hessian boosting modes.
IHB_MODES: tuple[str, ...] = ("none", "weak", "full")

_STATUS = {
    K.CONVERGED: "converged",
    K.VANISHED: "vanished",
    K.CERTIFIED: "certified",
    K.STALLED: "stalled",
    K.MAX_ITER: "max_iter",
}
_VARIANT = {"cg": K.CG, "pcg": K.PCG, "bpcg": K.BPCG}


@dataclass(frozen=True)
class OracleResult:
    """The outcome of one OAVI sub-problem.

    Attributes
    ----------
    coef : ndarray of shape (k,)
        The solution ``y`` (coefficients of the order-ideal terms).
    loss : float
        ``f(y)``, the mean squared value of ``u + Σ yᵢ oᵢ`` on the data.
    gap : float
        The Frank–Wolfe gap at ``y``; ``loss − gap`` is a lower bound of the optimum.
        ``0`` for an accepted unconstrained solution, which is optimal.
    n_iter : int
        Oracle iterations (``0`` when IHB decided without running the oracle).
    status : str
        ``"converged"`` (gap ≤ eps), ``"vanished"`` (loss ≤ psi), ``"certified"``
        (the optimum provably exceeds psi), ``"stalled"`` (no progress),
        ``"max_iter"``, or ``"exact"`` (IHB accepted the unconstrained optimum).
    """

    coef: np.ndarray
    loss: float
    gap: float
    n_iter: int
    status: str


def project_l1_ball(v: np.ndarray, radius: float) -> np.ndarray:
    """Euclidean projection onto the ℓ1-ball ``{w : ‖w‖₁ ≤ radius}``.

    The exact sort-based algorithm of Duchi, Shalev-Shwartz, Singer & Chandra
    (ICML 2008), ``O(k log k)``.

    Parameters
    ----------
    v : array_like of shape (k,)
        The point to project.
    radius : float
        The radius, ``≥ 0``.

    Returns
    -------
    ndarray of shape (k,)
        ``argmin ‖w − v‖₂`` over the ball.
    """
    v = np.ascontiguousarray(v, dtype=np.float64)
    if v.ndim != 1:
        raise AlgebraError(f"Parameter v must be one-dimensional, got shape {v.shape}.")
    if not np.isfinite(radius) or radius < 0:
        raise AlgebraError(
            f"Parameter radius={radius!r} must be a finite number ≥ 0; pass tau - 1 ≥ 0."
        )
    return K.project_l1_ball(v, float(radius))


def _start_weights(y: np.ndarray | None, c: np.ndarray, radius: float) -> np.ndarray:
    """Barycentric weights over the 2k vertices ``±r eᵢ`` of a start point.

    ``None`` starts at the best vertex for the gradient ``2c`` at 0 (a one-term, sparse
    start).  A given ``y`` (already in the ball) is written as ``Σ |yᵢ|/r · (sign yᵢ) r eᵢ``
    plus the remaining mass split evenly between ``+r e₀`` and ``−r e₀``, which sum to 0.
    """
    k = c.shape[0]
    lam = np.zeros(2 * k)
    if y is None:
        i = int(np.argmax(np.abs(c)))
        lam[2 * i if c[i] < 0 else 2 * i + 1] = 1.0
        return lam
    lam[0::2] = np.maximum(y, 0.0) / radius
    lam[1::2] = np.maximum(-y, 0.0) / radius
    rest = max(0.0, 1.0 - lam.sum())
    lam[0] += rest / 2
    lam[1] += rest / 2
    return lam / lam.sum()


def check_eps(eps: Any) -> float:
    """Validate the Frank–Wolfe gap tolerance ``eps ≥ 0`` (a finite number)."""
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.number)) or not (
        np.isfinite(eps) and eps >= 0
    ):
        raise AlgebraError(
            f"Parameter eps={eps!r} must be a finite number >= 0 (the Frank-Wolfe gap "
            f"tolerance of the oracle); leave eps=None for psi / 1000."
        )
    return float(eps)


def solve_oracle(
    G: np.ndarray,
    c: np.ndarray,
    d: float,
    radius: float,
    *,
    oracle: str = "bpcg",
    psi: float | None = None,
    eps: float | None = None,
    max_iter: int = 10_000,
    start: np.ndarray | None = None,
) -> OracleResult:
    """Minimise ``yᵀGy + 2cᵀy + d`` over the ℓ1-ball of radius ``radius``.

    Parameters
    ----------
    G : ndarray of shape (k, k)
        ``AᵀA/m``, symmetric positive semi-definite.
    c : ndarray of shape (k,)
        ``Aᵀb/m``.
    d : float
        ``bᵀb/m``.
    radius : float
        ``τ − 1``, the ℓ1 budget of the non-leading coefficients; ``> 0``.
    oracle : {"cg", "pcg", "bpcg", "agd"}, default="bpcg"
        The convex solver (see the module docstring).
    psi : float, optional
        Stop as soon as the loss is ``≤ psi``, or once ``loss − gap > psi`` proves
        that it never will.  ``None`` solves to the gap tolerance.
    eps : float, optional
        Frank–Wolfe gap tolerance; default ``psi / 1000`` when ``psi > 0``, else
        ``1e-12``.
    max_iter : int, default=10000
        Iteration cap.
    start : ndarray of shape (k,), optional
        Warm start; projected onto the ball.  Default: the best vertex (sparse).

    Returns
    -------
    OracleResult
    """
    check_choice("oracle", oracle, ORACLES)
    G = np.ascontiguousarray(G, dtype=np.float64)
    c = np.ascontiguousarray(c, dtype=np.float64)
    if c.ndim != 1:
        raise AlgebraError(f"Parameter c must be one-dimensional, got shape {c.shape}.")
    k = c.shape[0]
    if G.shape != (k, k):
        raise AlgebraError(f"Parameter G must have shape ({k}, {k}) to match c, got {G.shape}.")
    # The kernels would iterate to max_iter on NaN (every comparison is False).
    if not (np.all(np.isfinite(G)) and np.all(np.isfinite(c)) and np.isfinite(d)):
        raise AlgebraError(
            "The Gram form (G, c, d) contains NaN or infinite values; the monomials "
            "overflowed or the data was not finite. Scale the data to [-1, 1]."
        )
    if not radius > 0 or not np.isfinite(radius):
        raise AlgebraError(
            f"Parameter radius={radius!r} must be a finite number > 0; use tau > 1."
        )
    if eps is None:
        eps = psi * 1e-3 if psi is not None and psi > 0 else 1e-12
    else:
        eps = check_eps(eps)
    psi_kernel = -1.0 if psi is None else float(psi)
    if start is not None:
        start = K.project_l1_ball(np.ascontiguousarray(start, dtype=np.float64), radius)
    if oracle == "agd":
        # L = 2 λ_max(G) is the Lipschitz constant of ∇f = 2(Gy + c).
        lipschitz = 2.0 * float(np.linalg.eigvalsh(G)[-1]) if k else 1.0
        y0 = np.zeros(k) if start is None else start
        y, loss, gap, n_iter, status = K.agd_loop(
            G, c, float(d), float(radius), y0, max(lipschitz, 1e-300), psi_kernel, eps, max_iter
        )
    else:
        lam = _start_weights(start, c, radius)
        y, loss, gap, n_iter, status = K.vertex_loop(
            G, c, float(d), float(radius), lam, _VARIANT[oracle], psi_kernel, eps, max_iter
        )
    return OracleResult(y, float(loss), float(gap), int(n_iter), _STATUS[int(status)])


class GramInverse:
    """The inverse of the Gram matrix ``G_O = A_Oᵀ A_O / m`` of a growing order ideal.

    Appending a term (a new column ``b``) borders ``G`` with ``g = A_Oᵀb/m`` and
    ``h = bᵀb/m``; the new inverse follows from the Schur complement
    ``s = h − gᵀG⁻¹g`` in ``O(k²)`` (the block-inverse formula), instead of ``O(k³)``
    for a fresh inversion (IHB, Wirth, Kera & Pokutta 2023, Sec. 4).  ``s`` is exactly
    the unconstrained least-squares loss of ``b`` against ``O``; when it is not
    positive (a column that depends on the others, e.g. an unscaled constant
    feature), the inverse is abandoned and :meth:`solve` falls back to least squares.

    Parameters
    ----------
    G : ndarray of shape (k, k), optional
        Initial Gram matrix, positive definite; default the empty ``0 × 0`` matrix.
    """

    #: Relative size of the Schur complement below which ``G`` counts as singular.
    rtol: float = 1e-12

    def __init__(self, G: np.ndarray | None = None) -> None:
        self._G = np.zeros((0, 0)) if G is None else np.array(G, dtype=np.float64)
        self._inv: np.ndarray | None = np.linalg.inv(self._G) if self._G.size else self._G

    @property
    def size(self) -> int:
        """The number ``k`` of terms."""
        return self._G.shape[0]

    @property
    def is_singular(self) -> bool:
        """Whether an appended column was (numerically) dependent on the others."""
        return self._inv is None

    def append(self, g: np.ndarray, h: float) -> None:
        """Add a term with Gram column ``g`` (shape ``(k,)``) and diagonal entry ``h``."""
        g = np.asarray(g, dtype=np.float64)
        k = self.size
        G = np.empty((k + 1, k + 1))
        G[:k, :k] = self._G
        G[:k, k] = G[k, :k] = g
        G[k, k] = h
        self._G = G
        if self._inv is None:
            return
        w = self._inv @ g
        s = h - g @ w
        if not s > self.rtol * max(h, 1.0):
            self._inv = None
            return
        inv = np.empty((k + 1, k + 1))
        inv[:k, :k] = self._inv + np.outer(w, w) / s
        inv[:k, k] = inv[k, :k] = -w / s
        inv[k, k] = 1.0 / s
        self._inv = inv

    def least_squares(self, c: np.ndarray) -> np.ndarray:
        """The unconstrained minimiser ``y* = −G⁻¹c`` of ``yᵀGy + 2cᵀy``."""
        if self._inv is None:
            return -np.linalg.lstsq(self._G, c, rcond=None)[0]
        return -(self._inv @ c)

    @property
    def inverse(self) -> np.ndarray:
        """``G⁻¹`` of shape ``(k, k)`` (the pseudo-inverse once singular)."""
        return np.linalg.pinv(self._G) if self._inv is None else self._inv


def _quadratic(G: np.ndarray, c: np.ndarray, d: float, y: np.ndarray) -> float:
    return float(y @ (G @ y) + 2.0 * (c @ y) + d)


def solve_with_ihb(
    G: np.ndarray,
    c: np.ndarray,
    d: float,
    radius: float,
    inverse: GramInverse | None,
    *,
    ihb: str = "weak",
    oracle: str = "bpcg",
    psi: float = 0.0,
    eps: float | None = None,
    max_iter: int = 10_000,
) -> OracleResult:
    """Solve an OAVI sub-problem with inverse-Hessian boosting.

    Both boosted modes first compute the unconstrained optimum ``y* = −G⁻¹c``; its loss
    is a lower bound of the constrained optimum, so ``loss(y*) > psi`` decides "does not
    vanish" without running the oracle.

    ``"full"`` (IHB): if ``‖y*‖₁ ≤ radius``, ``y*`` is the constrained optimum too and is
    accepted as is (dense coefficients); otherwise the oracle runs warm-started at the
    projection of ``y*`` onto the ball.

    ``"weak"`` (WIHB): the oracle runs only when ``y*`` shows that vanishing is possible,
    from the sparse vertex start (the reason for WIHB: sparse generators); if it
    does not reach ``psi`` it is run again warm-started at the projection of ``y*``.

    Parameters
    ----------
    G, c, d, radius, oracle, psi, eps, max_iter
        As in :func:`solve_oracle`.
    inverse : GramInverse or None
        ``G⁻¹`` maintained by the caller; ``None`` inverts ``G`` here.  Once it is
        singular, boosting is skipped (the plain oracle runs).
    ihb : {"none", "weak", "full"}, default="weak"
        ``"none"`` calls :func:`solve_oracle` directly.

    Returns
    -------
    OracleResult
    """
    check_choice("ihb", ihb, IHB_MODES)
    run = dict(oracle=oracle, psi=psi, eps=eps, max_iter=max_iter)
    if ihb == "none" or (inverse is not None and inverse.is_singular):
        # A singular Gram matrix (dependent terms in O, e.g. unscaled data or more
        # terms than samples) gives no useful lower bound and a costly least-squares
        # solve per term: fall back to the plain oracle.
        return solve_oracle(G, c, d, radius, **run)
    if inverse is None:
        inverse = GramInverse(G)
    y_star = inverse.least_squares(np.asarray(c, dtype=np.float64))
    loss_star = _quadratic(G, c, d, y_star)
    if loss_star > psi:
        return OracleResult(y_star, loss_star, 0.0, 0, "certified")
    feasible = float(np.abs(y_star).sum()) <= radius
    if ihb == "full" and feasible:
        return OracleResult(y_star, loss_star, 0.0, 0, "exact")
    if ihb == "weak":
        result = solve_oracle(G, c, d, radius, **run)
        if result.loss <= psi:
            return result
    return solve_oracle(G, c, d, radius, start=y_star, **run)
