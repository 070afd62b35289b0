"""The degree-by-degree border loop shared by OAVI and ABM, on the Gram form.

Both algorithms grow an order ideal ``O`` (starting from ``{1}``) degree by degree
(OAVI: Alg. 1 in Wirth & Pokutta 2022; ABM: Limbeck 2013, after Heldt, Kreuzer,
Pokutta & Poulisse 2009).  At degree ``d`` the candidate terms are the border terms
``u = x_v · o`` (``o ∈ O`` of degree ``d − 1``) in increasing term order; for each, a
*decider* fits ``u`` against the current ``O`` on the data: if the fit vanishes
(mean of ``g(x)²`` at most ``ψ``) the polynomial is a generator with leading term
``u``, otherwise ``u`` joins ``O``.  The loop stops after a degree adds no term to
``O`` (or at ``max_degree``).

Border styles: ``"gb"`` considers only the border terms all of whose divisors lie in
``O`` (the OAVI candidates, which skip every multiple of an earlier leading term and
give a Gröbner-like generating set); ``"bb"`` also fits the other border terms
against ``O``, for a border-basis-like set, and keeps those that vanish (they can never
join ``O``, which must stay closed under division).

Data never enters the deciders: for every degree the loop accumulates the Gram
products ``[A_O, A_B]ᵀ A_B / m`` of the new border columns over blocks of rows in one
fused kernel (the monomials of a block come from one multiply per term along the
``(parent, var)`` chain, the products from one small ``gemm`` while the block is in
cache), so memory is one block per thread and the decisions cost nothing per sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
from scipy.linalg.lapack import dgeqrf

from algebra._errors import AlgebraError
from algebra._kernels import block_rows, chain_block, gram
from algebra._orders import TermOrder, get_term_order
from algebra._polyset import PolynomialSet
from algebra._threads import run_kernel, single_threaded_blas
from algebra._validation import check_choice, check_positive_int

__all__ = [
    "BORDERS",
    "VALUES_MAX_ENTRIES",
    "Decision",
    "border_loop",
    "check_loop_parameters",
    "default_tau",
    "eval_gram_block",
]

#: Border styles of the loop.
BORDERS: tuple[str, ...] = ("gb", "bb")


def default_tau(psi: float) -> float:
    """The OAVI ℓ1 bound ``τ = (3/2)^D`` with ``D = ⌈−log ψ / log 4⌉``.

    With data in ``[0, 1]^n``, ``τ ≥ (3/2)^D`` guarantees that OAVI terminates by
    degree ``D`` (Wirth & Pokutta 2022): every monomial of degree ``D`` leads the
    polynomial ``∏ (x_i − ½)^{a_i}``, whose coefficients have ℓ1 norm ``(3/2)^D`` and
    whose square is at most ``4^{−D} ≤ ψ`` on that cube. On ``[−1, 1]^n`` (the scaling
    VI-Net uses) the bound is the same default but no longer a termination proof;
    ``max_degree`` caps the loop there.

    Parameters
    ----------
    psi : float
        The vanishing tolerance, ``> 0``.

    Returns
    -------
    float
        ``τ ≥ 1.5``.
    """
    # −log ψ / log 4 = −log₂ ψ / 2, and log₂ is exact on powers of two, so ψ = 4^−d
    # gives D = d exactly (the natural-log quotient gave d + 1 at ψ = 4^−29).
    D = max(1, math.ceil(-math.log2(psi) / 2))
    return 1.5**D


class Decision(Protocol):
    """What a method plugs into :func:`border_loop`.

    ``decide(G, c, d, factor)`` gets the Gram form of one border term ``u`` against the
    current ``O`` (``G = A_OᵀA_O/m`` of shape (k, k), ``c = A_Oᵀu/m``, ``d = uᵀu/m``)
    and returns ``None`` when ``u + span(O)`` does not vanish, else ``(coef_O, coef_u,
    mse)``.  ``factor`` is ``None``, or, for small data (at most
    :data:`VALUES_MAX_ENTRIES` monomial values per degree), a function returning a
    matrix ``F`` of shape (r, k + 1) with ``FᵀF = [A_O, u]ᵀ[A_O, u] / m``, taken from a
    QR factorisation of the values rather than from the Gram matrix (so it has the
    singular values of ``[A_O, u] / √m`` to working precision, where the Gram form
    squares the condition number), for methods that need that accuracy.
    ``join(c, d)`` is called when ``u`` joins ``O`` (for IHB's inverse).
    """

    def decide(
        self, G: np.ndarray, c: np.ndarray, d: float,
        factor: Callable[[], np.ndarray] | None = None,
    ) -> tuple[np.ndarray, float, float] | None: ...

    def join(self, c: np.ndarray, d: float) -> None: ...


#: Monomial values per degree (m × terms) up to which the loop keeps them and offers
#: the deciders their QR factor (ABM then takes SVDs of columns of ``R`` instead of an
#: eigendecomposition of the Gram matrix, which squares the condition number).  2**18
#: values (2 MiB): above that the Householder QR costs more than the whole Gram pass.
VALUES_MAX_ENTRIES = 2**18


class _Factor:
    """The R factor of the degree's monomial values ``[A_O, A_B] / √m``, made on demand.

    ``[A_O, A_B] = Q R`` with orthonormal ``Q``, so any set ``S`` of columns has
    ``A[:, S] = Q R[:, S]``: the same singular values and right singular vectors, in a
    matrix of at most ``t`` rows instead of ``m``.  One QR per degree (Householder,
    backward stable) replaces an ``m``-row SVD per border term; ``R`` is upper
    triangular, so the rows below the last selected column are zero and are dropped.
    The values themselves are evaluated only when a decider first asks (OAVI never
    does).
    """

    def __init__(self, X: np.ndarray, parent: np.ndarray, var: np.ndarray) -> None:
        self.chain = (X, parent, var)
        self.R: np.ndarray | None = None

    def columns(self, cols: np.ndarray) -> np.ndarray:
        if self.R is None:
            X, parent, var = self.chain
            m, t = X.shape[0], parent.shape[0]
            # The values transposed, (t, m) C-ordered, are the (m, t) matrix in the
            # column-major layout LAPACK works in: geqrf factors it in place, no copy.
            T = np.empty((t, m))
            chain_block(X, parent, var, 0, np.empty((X.shape[1], m)), T)
            qr, _, _, info = dgeqrf(T.T, overwrite_a=True)
            if info != 0:  # pragma: no cover - only for invalid arguments
                raise AlgebraError(f"LAPACK dgeqrf failed with info={info}.")
            self.R = np.triu(qr[: min(m, t)]) / math.sqrt(m)
        return self.R[: cols[-1] + 1, cols]


def eval_gram_block(X: np.ndarray, parent: np.ndarray, var: np.ndarray, k: int,
                    block: int) -> np.ndarray:
    """``A_Bᵀ [A_O, A_B] / m`` (t − k, t) for the chain of ``O`` (first ``k``) then ``B``.

    One fused kernel (:func:`algebra._kernels.gram`): each block of rows is evaluated
    along the chain (one multiply per term) and multiplied into the thread's partial
    sum with one ``gemm`` while in cache, so memory is one block per thread whatever
    ``m``.
    """
    t = parent.shape[0]
    cross = run_kernel(gram, X.shape[0], X, parent, var, k, block, partial=(t - k, t))
    return cross / X.shape[0]


def border_loop(
    X: np.ndarray,
    decision: Decision,
    *,
    order: TermOrder,
    border: str,
    max_degree: int | None,
    max_terms: int,
    chunk_size: int | None = None,
    on_degree: Callable[[int, int, int], None] | None = None,
) -> PolynomialSet:
    """Run the OAVI / ABM loop (Alg. 1 in Wirth & Pokutta 2022) on validated data.

    Parameters
    ----------
    X : ndarray of shape (m, n), float64, C-contiguous
        The (validated, possibly subsampled) data.
    decision : Decision
        The method's decider (OAVI oracle or ABM eigenvector).
    order : TermOrder
        A degree-compatible term order.
    border : {"gb", "bb"}
        Border style (module docstring).
    max_degree : int or None
        Largest degree of a border term; ``None`` runs until a degree adds nothing
        to ``O``.
    max_terms : int
        Largest ``|O| + |border of the degree|`` allowed; exceeding it raises.
    chunk_size : int, optional
        Rows per block of the Gram accumulation (default: a block's monomials fill
        128 KiB, so they stay in cache).
    on_degree : callable, optional
        ``on_degree(d, n_generators, n_order_ideal)`` after each degree (progress).

    Returns
    -------
    PolynomialSet
        The generators (leading term = their border term), with ``mse`` (on ``X``)
        and ``order_ideal``.
    """
    if chunk_size is not None:
        chunk_size = check_positive_int(chunk_size, "chunk_size")
    n = X.shape[1]
    eye = np.eye(n, dtype=np.int64)
    O_exps = [np.zeros(n, dtype=np.int64)]
    O_index: dict[bytes, int] = {O_exps[0].tobytes(): 0}
    O_parent = [-1]
    O_var = [-1]
    O_deg = [0]
    G_O = np.ones((1, 1))  # mean of 1·1
    gen_lead: list[np.ndarray] = []
    gen_coef: list[np.ndarray] = []
    gen_mse: list[float] = []
    degree = 0
    while max_degree is None or degree < max_degree:
        degree += 1
        base = [i for i, dg in enumerate(O_deg) if dg == degree - 1]
        cand: dict[bytes, tuple[np.ndarray, int, int]] = {}
        for i in base:
            for v in range(n):
                u = O_exps[i] + eye[v]
                key = u.tobytes()
                if key not in O_index and key not in cand:
                    cand[key] = (u, i, v)
        if not cand:
            break
        exps = np.array([c[0] for c in cand.values()])
        # An OAVI candidate has every divisor one degree lower in O (so O stays an
        # order ideal when it joins); the rest are multiples of leading terms.
        is_cand = np.array(
            [
                all((u - eye[w]).tobytes() in O_index for w in np.flatnonzero(u))
                for u in exps
            ]
        )
        if border == "gb":
            exps, is_cand = exps[is_cand], is_cand[is_cand]
        perm = order.argsort(exps)
        exps, is_cand = exps[perm], is_cand[perm]
        k = len(O_exps)
        if k + exps.shape[0] > max_terms:
            raise AlgebraError(
                f"Degree {degree} needs {k + exps.shape[0]} terms (|O| = {k} plus "
                f"{exps.shape[0]} border terms), more than max_terms={max_terms}; scale "
                f"the data to [-1, 1], raise psi, lower max_degree, or raise max_terms if "
                f"the memory and time of a {k + exps.shape[0]}-column Gram matrix are "
                f"acceptable."
            )
        info = [cand[u.tobytes()] for u in exps]
        parent = np.array(O_parent + [i for _, i, _ in info], dtype=np.int64)
        var = np.array(O_var + [v for _, _, v in info], dtype=np.int64)
        block = block_rows(parent.shape[0]) if chunk_size is None else chunk_size
        cross = eval_gram_block(X, parent, var, k, block)
        if not np.all(np.isfinite(cross)):
            raise AlgebraError(
                f"The monomials of degree {degree} overflowed on the data (largest "
                f"|value| {np.abs(X).max():.3g}); scale the data to [-1, 1], e.g. with "
                f"sklearn's MinMaxScaler(feature_range=(-1, 1)), or lower max_degree."
            )
        t = parent.shape[0]
        Gd = np.empty((t, t))
        Gd[:k, :k] = G_O
        Gd[k:, :] = cross
        Gd[:k, k:] = cross[:, :k].T
        cols = list(range(k))
        values = (_Factor(X, parent, var)
                  if X.shape[0] * parent.shape[0] <= VALUES_MAX_ENTRIES else None)
        joined = 0
        # The decisions work on small (|O| × |O|) matrices, for which a multi-threaded
        # BLAS only adds synchronisation (50× slower eigh on 2 busy cores): one thread.
        with single_threaded_blas():
            for j in range(exps.shape[0]):
                u_col = k + j
                idx = np.asarray(cols)
                c = Gd[idx, u_col]
                d = float(Gd[u_col, u_col])
                factor = (
                    (lambda idx=idx, u_col=u_col, f=values: f.columns(np.append(idx, u_col)))
                    if values is not None else None
                )
                result = decision.decide(Gd[np.ix_(idx, idx)], c, d, factor)
                if result is not None:
                    coef_O, coef_u, mse = result
                    full = np.zeros(len(cols) + 1)
                    full[:-1] = coef_O
                    full[-1] = coef_u
                    gen_lead.append(exps[j])
                    gen_coef.append(full)
                    gen_mse.append(mse)
                elif is_cand[j]:
                    decision.join(c, d)
                    cols.append(u_col)
                    O_index[exps[j].tobytes()] = len(O_exps)
                    O_exps.append(exps[j])
                    O_parent.append(info[j][1])
                    O_var.append(info[j][2])
                    O_deg.append(degree)
                    joined += 1
        G_O = Gd[np.ix_(cols, cols)]
        if on_degree is not None:
            on_degree(degree, len(gen_lead), len(O_exps))
        if joined == 0:
            break
    O = np.array(O_exps)
    p = len(gen_lead)
    terms = np.concatenate([O, np.array(gen_lead).reshape(p, n)])
    coef = np.zeros((terms.shape[0], p))
    for j, col in enumerate(gen_coef):
        # Generator j used the first len(col) - 1 terms of O (O only grows).
        coef[: col.shape[0] - 1, j] = col[:-1]
        coef[O.shape[0] + j, j] = col[-1]
    return PolynomialSet(
        terms,
        coef,
        order=order,
        leading=np.arange(O.shape[0], O.shape[0] + p, dtype=np.int64),
        mse=np.array(gen_mse, dtype=np.float64),
        order_ideal=O,
    )


def check_loop_parameters(
    order: Any, border: Any, max_degree: Any, max_terms: Any
) -> tuple[TermOrder, str, int | None, int]:
    """Validate the parameters every loop-based method shares."""
    order = get_term_order(order)
    if not order.is_degree_compatible:
        raise AlgebraError(
            f"Parameter order={order.name!r} is not degree-compatible; the "
            f"degree-by-degree loop needs 'deglex' or 'degrevlex'."
        )
    check_choice("border", border, BORDERS)
    if max_degree is not None:
        max_degree = check_positive_int(max_degree, "max_degree")
    max_terms = check_positive_int(max_terms, "max_terms")
    return order, border, max_degree, max_terms
