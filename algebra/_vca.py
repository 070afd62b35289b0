"""VCA: Vanishing Component Analysis (Livni, Lehavi, Schein, Nachlieli, Shalev-Shwartz
& Globerson, ICML 2013, Alg. 1), on the monomial Gram matrix, in the monomial basis.

VCA builds, degree by degree, a set ``F`` of non-vanishing polynomials, orthonormal on
the data, and a set ``V`` of vanishing ones.  The candidates of degree ``d`` are the
products ``f · h`` of ``f ∈ F_{d−1}`` and ``h ∈ F_1``, with their projection on the
span of ``F`` removed; FindRangeNull splits the candidates' span into vanishing
components (into ``V``) and non-vanishing ones (normalised, into ``F``).

vinet's VCA is that algorithm with three choices that make its output well defined:

- **Normalisation and ψ.**  Every polynomial is kept as its coefficient vector in the
  monomial basis, and the split is an eigendecomposition of the mean squares of the
  candidates' span *per unit coefficient norm*: an orthonormal basis ``Q`` (in
  coefficient space) of the candidates, and the eigenpairs ``(λ, w)`` of
  ``Qᵀ M Q`` with ``M`` the monomial Gram matrix ``μ(X)ᵀμ(X)/m``.  The component
  ``g = Q w`` has ``‖coef‖₂ = 1`` and mean square ``λ`` on the data, so the test
  ``λ ≤ ψ`` is ABM's test of the returned polynomial itself (mean of ``g(x)²`` at most
  ψ with a unit coefficient vector), and the components are orthogonal on the data.
  A non-vanishing component joins ``F`` divided by ``√λ`` (unit root mean square on
  the data, as in Livni et al.); since ``λ > ψ`` its coefficients stay below
  ``1/√ψ`` in norm at every degree, instead of compounding the ``1/σ`` factors of
  the value-normalised SVD.
- **No interpolation.**  ``F``'s evaluations are linearly independent, so
  ``|F| ≤ m`` (the bound behind Livni et al.'s termination argument).  At a degree
  whose ``k`` independent candidates satisfy ``|F| + k > m``, at least
  ``|F| + k − m`` components vanish on *any* ``m`` points by counting dimensions:
  their vanishing says nothing about the data (they interpolate it), and they mix
  with the genuine ones.  VCA stops before such a degree (``m`` counts distinct
  samples).
- **No redundant candidates.**  Products repeat as polynomials (``x·y = y·x``), and a
  combination whose top-degree part cancels is a polynomial of lower degree, already
  decided at that degree (Livni et al.: ``F ∪ V`` of degree ``≤ d − 1`` spans every
  such polynomial on the data).  The span of the candidates less that lower-degree part
  (its orthogonal complement for the coefficient inner product) is split, so every
  component of degree ``d`` has degree ``d``, and no choice between equal products
  (which would depend on rounding) enters the result.

Data never enters the decisions: the Gram matrix of the monomials is accumulated over
blocks of rows (``algebra._border_loop.eval_gram_block``, the fused pass of OAVI and
ABM), one pass per degree (on small data one pass covers several degrees), so memory
stays at one block per thread.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg import eigh

from algebra._border_loop import eval_gram_block
from algebra._errors import AlgebraError
from algebra._kernels import block_rows
from algebra._monomials import row_index
from algebra._orders import get_term_order
from algebra._polyset import PolynomialSet
from algebra._validation import check_positive_int, check_psi, prepare_data

__all__ = ["fit_vca"]

#: Coefficients below this fraction of a generator's largest one are rounding noise of
#: the products; they are zeroed so that leading terms and sparsity are meaningful.
_COEF_RTOL = 1e-12
#: Singular values (of unit-normalised candidates, and of the degree-``d`` part of an
#: orthonormal basis) below this are rounding: exact duplicates such as ``x·y`` and
#: ``y·x`` leave about 1e-15.
_RANK_RTOL = 1e-9


#: A pass over the data costs about as much fixed time (Python, kernel calls, buffers)
#: as this many flops of Gram products; the Gram rows of later degrees are computed in
#: the same pass while that costs less than this more (so small data needs one pass).
_PREFETCH_FLOPS = 2e7


class _GradedGram:
    """The monomials of degree ≤ D (graded: lower degrees first), their ``(parent,
    var)`` chain and their mean Gram matrix ``μ(X)ᵀμ(X)/m`` on the data.

    Lower degrees stay a prefix, so the Gram matrix and coefficient vectors of degree
    ``d`` are the leading blocks of those of any larger degree.
    """

    def __init__(self, X: np.ndarray, chunk_size: int | None) -> None:
        n = X.shape[1]
        self.X, self.chunk_size = X, chunk_size
        self.terms = np.vstack([np.zeros((1, n), dtype=np.int64), np.eye(n, dtype=np.int64)])
        self.parent = np.arange(-1, n, dtype=np.int64).clip(max=0)
        self.var = np.arange(-1, n, dtype=np.int64)
        self.start = [0, 1, 1 + n]  # start[d]: first row of degree d (and the end)
        self.M = np.zeros((0, 0))

    def size(self, degree: int) -> int:
        """Number of monomials of degree ≤ ``degree``."""
        return math.comb(self.X.shape[1] + degree, degree)

    def _add_degree(self) -> None:
        n = self.X.shape[1]
        top = self.terms[self.start[-2]:]
        products = (top[:, None, :] + np.eye(n, dtype=np.int64)[None]).reshape(-1, n)
        void = np.dtype((np.void, 8 * n))
        _, first = np.unique(products.view(void).ravel(), return_index=True)
        # Each new monomial is the (first) top-degree row it came from times a variable.
        self.terms = np.vstack([self.terms, products[first]])
        self.parent = np.concatenate([self.parent, self.start[-2] + first // n])
        self.var = np.concatenate([self.var, first % n])
        self.start.append(self.terms.shape[0])

    def gram(self, degree: int, last: int) -> np.ndarray:
        """The Gram matrix of the monomials of degree ≤ ``degree``; its pass over the
        data also covers later degrees up to ``last`` while that is cheap."""
        t = self.size(degree)
        if self.M.shape[0] < t:
            k, m = self.M.shape[0], self.X.shape[0]
            while len(self.start) - 2 < degree:
                self._add_degree()
            # (Never beyond m monomials: VCA stops before interpolating anyway.)
            while len(self.start) - 2 < last and self.size(len(self.start) - 1) <= m and (
                    m * (self.size(len(self.start) - 1) ** 2 - k**2) <= _PREFETCH_FLOPS):
                self._add_degree()
            top = self.terms.shape[0]
            block = block_rows(top) if self.chunk_size is None else self.chunk_size
            cross = eval_gram_block(self.X, self.parent, self.var, k, block)
            if not np.all(np.isfinite(cross)):
                raise AlgebraError(
                    f"The monomials of degree {len(self.start) - 2} overflowed on the "
                    f"data (largest |value| {np.abs(self.X).max():.3g}); scale the data "
                    f"to [-1, 1], e.g. with sklearn's MinMaxScaler(feature_range=(-1, "
                    f"1)), or lower max_degree."
                )
            M = np.empty((top, top))
            M[:k, :k] = self.M
            M[k:, :] = cross
            M[:k, k:] = cross[:, :k].T
            self.M = M
        return self.M[:t, :t]

    def shift(self, degree: int) -> np.ndarray:
        """``shift[v, i]``: the row of ``terms[i] · x_v`` for every monomial of degree
        below ``degree`` (whose products have degree ≤ ``degree``)."""
        n, t = self.X.shape[1], self.size(degree - 1)
        products = self.terms[:t][None] + np.eye(n, dtype=np.int64)[:, None]
        return row_index(self.terms[: self.size(degree)], products.reshape(-1, n)).reshape(
            n, t)


def _candidate_basis(C: np.ndarray, n_low: int) -> np.ndarray:
    """An orthonormal coefficient basis of the candidates' span, less its lower-degree part.

    ``C`` (t, k) holds the candidates (already orthogonal to ``F`` on the data), whose
    monomials of degree ``d`` are the rows from ``n_low`` on.  The span ``S`` of the
    columns (normalised first, so the rank tolerance is relative to each candidate)
    contains the combinations whose degree-``d`` part cancels (``x·y − y·x`` and
    lower-degree polynomials); the result spans the complement of that part in
    ``S`` for the coefficient inner product.  Both are subspaces defined by ``C``'s
    span alone, so no choice among repeated products (which would depend on
    rounding) enters the result.
    """
    norms = np.linalg.norm(C, axis=0)
    C = C[:, norms > 0] / norms[norms > 0]
    if C.shape[1] == 0:
        return C
    U, s, _ = np.linalg.svd(C, full_matrices=False)
    S = U[:, s > _RANK_RTOL * s[0]]
    _, s_top, Wt = np.linalg.svd(S[n_low:], full_matrices=True)
    rank = int(np.sum(s_top > _RANK_RTOL))
    return S @ Wt[:rank].T


class _DistinctRows:
    """Answers "does ``X`` have at least ``count`` distinct rows?" cheaply, repeatedly.

    Rows are compared through one fixed generic projection (equal rows project
    equally; distinct rows collide with probability zero, and a collision only makes
    the interpolation guard stricter).  A prefix of ``4 · count`` rows usually settles
    it (else the prefix doubles) and the count found is remembered, so sorting all
    ``m`` values happens only for data with many repeated rows.
    """

    def __init__(self, X: np.ndarray) -> None:
        self.X, self.known, self.seen = X, 0, 0
        self.w = np.random.default_rng(0).standard_normal(X.shape[1])

    def at_least(self, count: int) -> bool:
        m = self.X.shape[0]
        while count > self.known and self.seen < m:
            self.seen = min(m, max(4 * count, 2 * self.seen))
            self.known = np.unique(self.X[: self.seen] @ self.w).size
        return count <= self.known


def fit_vca(
    X: Any,
    *,
    psi: float = 0.005,
    max_degree: int | None = 10,
    order: Any = "deglex",
    max_terms: int = 2000,
    max_samples: int | None = None,
    random_state: Any = None,
    chunk_size: int | None = None,
) -> PolynomialSet:
    """Fit generators of the approximate vanishing ideal of ``X`` with VCA.

    Vanishing Component Analysis (Livni et al. 2013, Alg. 1) with vinet's tolerance:
    every returned generator ``g`` has a unit 2-norm coefficient vector in the
    monomial basis (ABM's normalisation) and mean of ``g(x)²`` over the samples at
    most ``psi``, both for the polynomial exactly as returned.  See the module
    docstring for how the components are split, why VCA stops before a degree whose
    candidates could interpolate the sample, and why repeated candidates are dropped.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data, scaled to ``[−1, 1]`` (a warning names the scaling when its range is
        far outside).
    psi : float, default=0.005
        Vanishing tolerance: the largest mean of ``g(x)²`` over the samples of a
        generator with ``‖coef‖₂ = 1``.
    max_degree : int or None, default=10
        Largest degree of the candidate products.  VCA also stops after a degree with
        no non-vanishing component, and before a degree whose independent candidates
        and the non-vanishing components so far outnumber the distinct samples.
    order : {"deglex", "degrevlex", "lex"} or TermOrder, default="deglex"
        Term order of the returned monomial basis (it defines the leading terms only;
        VCA itself does not depend on a term order).
    max_terms : int, default=2000
        Largest number of monomials (of degree ``≤ d``) allowed at a degree ``d``; the
        Gram matrix is ``max_terms²`` floats (32 MB at 2000) and one pass costs
        ``m · max_terms²`` flops.  Exceeding it raises.
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
        The vanishing components, degree by degree, with ``mse`` (mean of ``g(x)²``
        on the fitting data, ``≤ psi``); ``order_ideal`` is ``None`` (VCA has no
        monomial order ideal).  Each coefficient vector has unit 2-norm and a positive
        leading coefficient.  VCA also returns multiples of earlier generators (e.g.
        ``x·g`` at the next degree), as in Livni et al.

    Raises
    ------
    AlgebraError
        On invalid data or parameters, monomials that overflow, or a degree needing
        more than ``max_terms`` monomials.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import fit_vca
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> G = fit_vca(np.column_stack([np.cos(t), np.sin(t)]), psi=1e-8, max_degree=2)
    >>> len(G), G.degrees.tolist()
    (1, [2])
    >>> print(G.to_sympy()[0])  # x0² + x1² − 1 with unit coefficient norm
    0.577350269189626*x0**2 + 0.577350269189626*x1**2 - 0.577350269189626
    """
    psi = check_psi(psi)
    order = get_term_order(order)
    if max_degree is not None:
        max_degree = check_positive_int(max_degree, "max_degree")
    max_terms = check_positive_int(max_terms, "max_terms")
    if chunk_size is not None:
        chunk_size = check_positive_int(chunk_size, "chunk_size")
    X = prepare_data(X, max_samples, random_state)
    n = X.shape[1]
    if n + 1 > max_terms:
        raise AlgebraError(
            f"Degree 1 needs {n + 1} monomials, more than max_terms={max_terms}; reduce "
            f"the number of variables (e.g. with PCA) or raise max_terms."
        )
    # The largest degree VCA may reach (max_degree, and max_terms monomials): the
    # Gram matrix's passes over the data never prefetch beyond it.
    last = 1
    while math.comb(n + last + 1, n) <= max_terms and (max_degree is None or last < max_degree):
        last += 1
    graded = _GradedGram(X, chunk_size)
    distinct = _DistinctRows(X)
    M = graded.gram(1, last)
    # F: coefficient columns (over the monomials of degree ≤ d) orthonormal for
    # ⟨p, q⟩ = pᵀ M q, the mean of p·q on the data; F_0 is the constant 1.
    F = np.zeros((n + 1, 1))
    F[0, 0] = 1.0
    C = np.eye(n + 1)[:, 1:]  # degree-1 candidates: the variables
    V: list[np.ndarray] = []  # unit-norm coefficient vectors, over a prefix of the terms
    F1 = np.zeros((n + 1, 0))
    degree = 1
    while True:
        # FindRangeNull: project F out (classical Gram–Schmidt in the M inner product,
        # twice: "twice is enough", Giraud et al. 2005), then split the span.
        for _ in range(2):
            C -= F @ (F.T @ (M @ C))
        Q = _candidate_basis(C, graded.size(degree - 1))
        if not distinct.at_least(F.shape[1] + Q.shape[1]):
            break  # the degree could interpolate the sample (module docstring)
        lam, W = eigh(Q.T @ M @ Q)  # mean squares per unit coefficient norm
        vanish = lam <= psi
        V.extend((Q @ W[:, vanish]).T)
        new_F = Q @ W[:, ~vanish] / np.sqrt(lam[~vanish])  # unit mean square
        F = np.column_stack([F, new_F])
        if degree == 1:
            F1 = new_F
        if new_F.shape[1] == 0 or (max_degree is not None and degree >= max_degree):
            break
        # The candidates of the next degree have at least this many independent top
        # forms (those of F_1 · F_1 span all r(r+1)/2 products of r linear forms; a
        # product with one nonzero form is injective): when even that could
        # interpolate, stop before building them.
        r = F1.shape[1]
        least = r * (r + 1) // 2 if degree == 1 else max(new_F.shape[1], r)
        if not distinct.at_least(F.shape[1] + least):
            break
        # Degree d + 1 candidates: the products of F_d with F_1, expanded with the
        # shift maps x_v · (monomial of degree ≤ d).
        degree += 1
        t = graded.size(degree)
        if t > max_terms:
            raise AlgebraError(
                f"Degree {degree} needs all {t} monomials of degree <= {degree} in {n} "
                f"variables, more than max_terms={max_terms}; scale the data to "
                f"[-1, 1], raise psi, lower max_degree, or raise max_terms if a "
                f"{t}-square Gram matrix and one pass of m x {t}^2 flops are acceptable."
            )
        M = graded.gram(degree, last)
        shift = graded.shift(degree)
        t_low = F.shape[0]
        products = np.zeros((t, new_F.shape[1], F1.shape[1]))
        # f·h = h₀ f + Σ_v h_v (x_v f) for h = h₀ + Σ_v h_v x_v.
        products[:t_low] += new_F[:, :, None] * F1[0][None, None, :]
        for v in range(n):
            products[shift[v]] += new_F[:, :, None] * F1[1 + v][None, None, :]
        C = products.reshape(t, -1)
        F = np.vstack([F, np.zeros((t - t_low, F.shape[1]))])
    basis = graded.terms[: F.shape[0]]
    p = len(V)
    coef = np.zeros((basis.shape[0], p))
    for j, col in enumerate(V):
        coef[: col.shape[0], j] = col
    lead = np.zeros(p, dtype=np.int64)
    if p:
        coef[np.abs(coef) <= _COEF_RTOL * np.abs(coef).max(axis=0)] = 0.0
        coef /= np.linalg.norm(coef, axis=0)
        # The leading term (largest in the term order with a nonzero coefficient);
        # an eigenvector's sign is arbitrary, so make its coefficient positive and the
        # result does not depend on the eigensolver's sign choices.
        rank = np.empty(basis.shape[0], dtype=np.int64)
        rank[order.argsort(basis)] = np.arange(basis.shape[0])
        lead = np.argmax(np.where(coef != 0, rank[:, None], -1), axis=0)
        coef *= np.sign(coef[lead, np.arange(p)])
    # The ψ test on the polynomials exactly as returned (rounded, renormalised): the
    # mean of g(x)² is gᵀ M g (clipped at 0 against rounding).
    mse = np.maximum(np.einsum("ij,ik,kj->j", coef, M, coef), 0.0)
    ok = np.flatnonzero(mse <= psi)
    # Only the monomials the generators use (the set adds their divisors back).
    used = np.flatnonzero((coef[:, ok] != 0).any(axis=1))
    position = np.full(basis.shape[0], -1, dtype=np.int64)
    position[used] = np.arange(used.size)
    return PolynomialSet(basis[used], coef[np.ix_(used, ok)], order=order,
                         leading=position[lead[ok]], mse=mse[ok])
