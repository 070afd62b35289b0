"""Numba kernels of the convex oracles of OAVI (never validate; see :mod:`algebra._oracles`).

Every kernel works on the *Gram form* of the OAVI sub-problem (Wirth & Pokutta 2022,
eq. (OAVI-CCOP))::

    minimise   f(y) = yᵀ G y + 2 cᵀ y + d       subject to  ‖y‖₁ ≤ r

with ``G = AᵀA/m``, ``c = Aᵀb/m``, ``d = bᵀb/m`` and ``r = τ − 1``, so
``f(y) = (1/m)‖A y + b‖²`` and the cost of one iteration depends on the number of
columns ``k`` only, never on the number of samples ``m``.

The vertices of the ℓ1-ball of radius ``r`` are ``±r eᵢ``; vertex ``2i`` is ``+r eᵢ``
and vertex ``2i + 1`` is ``−r eᵢ``.  The pairwise variants keep the barycentric
weights ``lam`` of the current iterate over those ``2k`` vertices.

Status codes returned by the loops (mapped to names in :mod:`algebra._oracles`):
0 gap ≤ eps, 1 loss ≤ psi, 2 certified loss − gap > psi, 3 no progress, 4 max_iter.
"""

from __future__ import annotations

import numba
import numpy as np

CONVERGED, VANISHED, CERTIFIED, STALLED, MAX_ITER = 0, 1, 2, 3, 4

# Variants of the vertex-based loop.
CG, PCG, BPCG = 0, 1, 2

# Consecutive iterations without a decrease of the loss before "no progress" stops a loop.
_PATIENCE = 20


@numba.njit(cache=True)
def project_l1_ball(v, radius):
    """Euclidean projection of ``v`` onto ``{w : ‖w‖₁ ≤ radius}``.

    Sort-based exact algorithm of Duchi, Shalev-Shwartz, Singer & Chandra (ICML 2008,
    Fig. 1): the projection is the soft-threshold of ``v`` at the unique ``θ ≥ 0`` for
    which the result has ℓ1 norm ``radius``.
    """
    k = v.shape[0]
    out = np.empty(k)
    norm = 0.0
    for i in range(k):
        norm += abs(v[i])
    if norm <= radius:
        for i in range(k):
            out[i] = v[i]
        return out
    if radius <= 0.0:
        out[:] = 0.0
        return out
    u = -np.sort(-np.abs(v))
    # j = 0 always qualifies (u₀ − (u₀ − r) = r > 0); testing it in floating point
    # could fail for tiny r, so start from it.
    cumsum = u[0]
    theta = u[0] - radius
    for j in range(1, k):
        cumsum += u[j]
        t = (cumsum - radius) / (j + 1.0)
        if u[j] - t > 0.0:
            theta = t
    for i in range(k):
        a = abs(v[i]) - theta
        if a > 0.0:
            out[i] = a if v[i] > 0.0 else -a
        else:
            out[i] = 0.0
    return out


@numba.njit(cache=True)
def _loss(G, c, d, y, Gy):
    """f(y) = yᵀGy + 2cᵀy + d from a precomputed ``Gy``."""
    s = d
    for i in range(y.shape[0]):
        s += y[i] * Gy[i] + 2.0 * c[i] * y[i]
    return s


@numba.njit(cache=True)
def _fw_gap(grad, y, radius):
    """Frank–Wolfe gap ⟨∇f(y), y − v⟩ with v the best ℓ1-ball vertex; also returns v's index."""
    gy = 0.0
    best = -1.0
    ibest = 0
    for i in range(y.shape[0]):
        gy += grad[i] * y[i]
        a = abs(grad[i])
        if a > best:
            best = a
            ibest = i
    vertex = 2 * ibest if grad[ibest] < 0.0 else 2 * ibest + 1
    return gy + radius * best, vertex


@numba.njit(cache=True)
def _vertex_value(grad, vertex, radius):
    """⟨∇f, v⟩ for vertex index ``vertex``."""
    i = vertex // 2
    return radius * grad[i] if vertex % 2 == 0 else -radius * grad[i]


@numba.njit(cache=True)
def _next_stall(new_loss, loss, stall):
    """Consecutive iterations without a decrease of the loss ("no progress" rule)."""
    if new_loss >= loss - 1e-15 * max(1.0, abs(loss)):
        return stall + 1
    return 0


@numba.njit(cache=True)
def _stop_status(loss, gap, psi, eps):
    """The stopping rules shared by every oracle; -1 means "go on".

    A negative ``psi`` disables the two psi rules (solve to the gap tolerance).
    """
    if psi >= 0.0 and loss <= psi:
        return VANISHED
    if psi >= 0.0 and loss - gap > psi:
        # f* ≥ f(y) − gap (convexity), so no feasible y reaches psi: stop early.
        return CERTIFIED
    if gap <= eps:
        return CONVERGED
    return -1


@numba.njit(cache=True)
def vertex_loop(G, c, d, radius, lam, variant, psi, eps, max_iter):
    """Frank–Wolfe (``CG``), pairwise (``PCG``) or blended pairwise (``BPCG``) loop.

    CG: Frank & Wolfe (1956) with exact line search.  PCG: Lacoste-Julien & Jaggi
    (NeurIPS 2015), mass moves from the away vertex to the Frank–Wolfe vertex.  BPCG:
    Tsuji, Tanaka & Pokutta (ICML 2022, Alg. 1), a local pairwise step inside the
    active set when its gap dominates the Frank–Wolfe gap, otherwise a Frank–Wolfe step.
    Line searches are exact because ``f`` is quadratic.

    Parameters
    ----------
    G, c, d : (k, k) float64, (k,) float64, float
        The Gram form of the problem, ``f(y) = yᵀGy + 2cᵀy + d``.
    radius : float
        ``r = τ − 1 > 0``.
    lam : (2k,) float64
        Barycentric weights of the start point over the vertices; updated in place.
    variant : int
        ``CG``, ``PCG`` or ``BPCG``.
    psi, eps : float
        Vanishing threshold (negative: no psi rules) and Frank–Wolfe gap tolerance.
    max_iter : int
        Iteration cap.

    Returns
    -------
    y : (k,) float64, loss : float, gap : float, n_iter : int, status : int
    """
    k = c.shape[0]
    y = np.zeros(k)
    for j in range(2 * k):
        if lam[j] > 0.0:
            i = j // 2
            y[i] += radius * lam[j] if j % 2 == 0 else -radius * lam[j]
    Gy = G @ y
    grad = 2.0 * (Gy + c)
    loss = _loss(G, c, d, y, Gy)
    gap, fw = _fw_gap(grad, y, radius)
    status = MAX_ITER
    stall = 0
    it = 0
    while it < max_iter:
        s = _stop_status(loss, gap, psi, eps)
        if s >= 0:
            status = s
            break
        it += 1
        # Choose the two vertices (add, remove) and the largest step.
        use_fw = True
        away = -1
        add = fw
        if variant != CG:
            # Away vertex: the active vertex with the largest ⟨∇f, v⟩; local FW vertex:
            # the active one with the smallest.
            amax = -np.inf
            smin = np.inf
            local = -1
            for j in range(2 * k):
                if lam[j] > 0.0:
                    val = _vertex_value(grad, j, radius)
                    if val > amax:
                        amax = val
                        away = j
                    if val < smin:
                        smin = val
                        local = j
            if variant == BPCG:
                if amax - smin >= gap:
                    use_fw = False
                    add = local
            elif away != fw:
                use_fw = False
        if use_fw:
            # Frank–Wolfe step towards vertex ``fw``: direction v − y.
            iv = fw // 2
            sv = radius if fw % 2 == 0 else -radius
            # dᵀ∇f = −gap; dᵀGd = sv²G_ii − 2 sv (Gy)_i + yᵀGy.
            yGy = 0.0
            for i in range(k):
                yGy += y[i] * Gy[i]
            curv = sv * sv * G[iv, iv] - 2.0 * sv * Gy[iv] + yGy
            gamma = 1.0 if curv <= 0.0 else min(1.0, gap / (2.0 * curv))
            for i in range(k):
                y[i] *= 1.0 - gamma
                Gy[i] = (1.0 - gamma) * Gy[i] + gamma * sv * G[i, iv]
            y[iv] += gamma * sv
            if variant != CG:
                for j in range(2 * k):
                    lam[j] *= 1.0 - gamma
                lam[fw] += gamma
                if gamma >= 1.0:
                    for j in range(2 * k):
                        lam[j] = 0.0
                    lam[fw] = 1.0
        else:
            # Pairwise step: mass moves from ``away`` to ``add``; direction v_add − v_away.
            ia = away // 2
            sa = radius if away % 2 == 0 else -radius
            iv = add // 2
            sv = radius if add % 2 == 0 else -radius
            slope = sv * grad[iv] - sa * grad[ia]
            curv = sv * sv * G[iv, iv] + sa * sa * G[ia, ia] - 2.0 * sv * sa * G[iv, ia]
            gmax = lam[away]
            if slope >= 0.0 or away == add:
                gamma = 0.0
            elif curv <= 0.0:
                gamma = gmax
            else:
                gamma = min(gmax, -slope / (2.0 * curv))
            y[iv] += gamma * sv
            y[ia] -= gamma * sa
            for i in range(k):
                Gy[i] += gamma * (sv * G[i, iv] - sa * G[i, ia])
            lam[add] += gamma
            if gamma >= gmax:
                lam[away] = 0.0  # drop step
            else:
                lam[away] -= gamma
        for i in range(k):
            grad[i] = 2.0 * (Gy[i] + c[i])
        new_loss = _loss(G, c, d, y, Gy)
        stall = _next_stall(new_loss, loss, stall)
        loss = new_loss
        gap, fw = _fw_gap(grad, y, radius)
        if stall >= _PATIENCE:
            status = STALLED
            break
    else:
        s = _stop_status(loss, gap, psi, eps)
        if s >= 0:
            status = s
    # Recompute from scratch: the incremental Gy drifts over many iterations.
    Gy = G @ y
    loss = _loss(G, c, d, y, Gy)
    return y, loss, gap, it, status


@numba.njit(cache=True)
def agd_loop(G, c, d, radius, y0, lipschitz, psi, eps, max_iter):
    """Accelerated projected gradient (FISTA, Beck & Teboulle 2009) on the ℓ1-ball.

    Step ``1/L`` with ``L = 2 λ_max(G)``, exact sort-based projection
    (:func:`project_l1_ball`) and the function-value adaptive restart of O'Donoghue &
    Candès (2015), which keeps the loss monotone so that "no progress" is meaningful.

    Returns
    -------
    y : (k,) float64, loss : float, gap : float, n_iter : int, status : int
    """
    k = c.shape[0]
    y = project_l1_ball(y0, radius)
    z = y.copy()
    t = 1.0
    Gy = G @ y
    grad = 2.0 * (Gy + c)
    loss = _loss(G, c, d, y, Gy)
    gap, _ = _fw_gap(grad, y, radius)
    status = MAX_ITER
    stall = 0
    it = 0
    step = 1.0 / lipschitz
    while it < max_iter:
        s = _stop_status(loss, gap, psi, eps)
        if s >= 0:
            status = s
            break
        it += 1
        gz = 2.0 * (G @ z + c)
        y_new = project_l1_ball(z - step * gz, radius)
        Gy_new = G @ y_new
        new_loss = _loss(G, c, d, y_new, Gy_new)
        if new_loss > loss:
            # Adaptive restart: momentum overshot; take a plain projected-gradient step.
            t = 1.0
            z = y.copy()
            y_new = project_l1_ball(y - step * grad, radius)
            Gy_new = G @ y_new
            new_loss = _loss(G, c, d, y_new, Gy_new)
        t_new = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        z = y_new + ((t - 1.0) / t_new) * (y_new - y)
        t = t_new
        stall = _next_stall(new_loss, loss, stall)
        if new_loss <= loss:
            y = y_new
            Gy = Gy_new
            loss = new_loss
        for i in range(k):
            grad[i] = 2.0 * (Gy[i] + c[i])
        gap, _ = _fw_gap(grad, y, radius)
        if stall >= _PATIENCE:
            status = STALLED
            break
    else:
        s = _stop_status(loss, gap, psi, eps)
        if s >= 0:
            status = s
    return y, loss, gap, it, status
