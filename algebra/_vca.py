"""VCA: Vanishing Component Analysis (Livni, Lehavi, Schein, Nachlieli, Shalev-Shwartz
& Globerson, ICML 2013, Alg. 1), expanded into the monomial basis.

VCA builds, degree by degree, a set ``F`` of non-vanishing polynomials, orthonormal on
the data, and a set ``V`` of vanishing ones.  The candidates of degree ``t`` are the
products ``f · h`` of ``f ∈ F_{t−1}`` and ``h ∈ F_1``; they are orthogonalised against
``F`` on the samples and split by a singular value decomposition
(FindRangeNull): right singular vectors with ``σ²/m ≤ ψ`` are vanishing polynomials,
the others, scaled by ``1/σ``, join ``F``.

Unlike OAVI and ABM, VCA's polynomials are combinations of products of earlier
polynomials, not of monomials; vinet tracks every polynomial's coefficients in the
monomial basis alongside its values, so the result is the same
:class:`~algebra.PolynomialSet`.  The price is that the coefficients can be very large:
each non-vanishing polynomial is divided by its singular value, and those factors
multiply from degree to degree.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.linalg import qr

from algebra._errors import AlgebraError
from algebra._monomials import all_monomials, row_index
from algebra._orders import get_term_order
from algebra._polyset import PolynomialSet
from algebra._validation import check_positive_int, check_psi, prepare_data

__all__ = ["fit_vca"]

#: Coefficients below this fraction of a polynomial's largest one are rounding noise of
#: the expansion; they are zeroed so that leading terms and sparsity are meaningful.
_COEF_RTOL = 1e-12


def _orthogonalise(C: np.ndarray, F: np.ndarray) -> np.ndarray:
    """Coefficients (|F|, k) that remove from C (m, k) its projection on F.

    ``F`` is orthonormal for the mean inner product ``⟨a, b⟩ = aᵀb / m``.  Classical
    Gram–Schmidt applied twice ("twice is enough", Giraud et al. 2005), so the
    candidates are orthogonal to ``F`` to working precision.
    """
    m = C.shape[0]
    P = F.T @ C / m
    P2 = F.T @ (C - F @ P) / m
    return P + P2


def _shift_indices(basis_lo: np.ndarray, basis_hi: np.ndarray) -> np.ndarray:
    """``out[v, i]`` = index in ``basis_hi`` of ``basis_lo[i] · x_v``."""
    n = basis_lo.shape[1]
    eye = np.eye(n, dtype=np.int64)
    return np.stack([row_index(basis_hi, basis_lo + eye[v]) for v in range(n)])


def _independent_columns(C: np.ndarray) -> np.ndarray:
    """Indices of a maximal linearly independent subset of the columns of ``C``."""
    if C.shape[1] == 0:
        return np.zeros(0, dtype=np.int64)
    _, R, piv = qr(C, mode="economic", pivoting=True)
    diag = np.abs(np.diag(R))
    rank = int(np.sum(diag > _COEF_RTOL * max(C.shape) * diag[0])) if diag[0] > 0 else 0
    return np.sort(piv[:rank])


def fit_vca(
    X: Any,
    *,
    psi: float = 0.005,
    max_degree: int | None = 10,
    order: Any = "deglex",
    max_terms: int = 1000,
    max_samples: int | None = None,
    random_state: Any = None,
) -> PolynomialSet:
    """Fit generators of the approximate vanishing ideal of ``X`` with VCA.

    Vanishing Component Analysis (Livni et al. 2013, Alg. 1) with the vinet tolerance:
    a component with singular value ``σ`` on the ``m`` samples has mean squared value
    ``σ²/m``, and it vanishes when that is at most ``psi``.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data, ideally scaled to ``[−1, 1]``.  VCA works on the evaluations
        (``m × |F|`` floats), so use ``max_samples`` for very large ``m``.
    psi : float, default=0.005
        Vanishing tolerance (mean of ``g(x)²`` over the samples).
    max_degree : int or None, default=10
        Largest degree of the candidate products.
    order : {"deglex", "degrevlex", "lex"} or TermOrder, default="deglex"
        Term order of the returned monomial basis (it defines the leading terms only;
        VCA itself does not depend on a term order).
    max_terms : int, default=1000
        Guard on the number of monomials of the basis and of candidates per degree.
    max_samples : int, optional
        Stochastic mode: fit on this many rows drawn at random.
    random_state : None, int or numpy Generator
        Seed of the subsample.

    Returns
    -------
    PolynomialSet
        The vanishing components with ``mse`` on the fitting data; ``order_ideal`` is
        ``None`` (VCA has no monomial order ideal).  Coefficients are those of the
        components (unit norm over their orthogonalised candidates, largest term
        positive), expanded into monomials, so they can be large; generators whose
        expansion no longer passes the ``psi`` test because of rounding are dropped.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import fit_vca
    >>> t = np.linspace(0, 2 * np.pi, 50, endpoint=False)
    >>> G = fit_vca(np.column_stack([np.cos(t), np.sin(t)]), psi=1e-8, max_degree=2)
    >>> len(G), G.degrees.tolist()
    (1, [2])
    """
    psi = check_psi(psi)
    order = get_term_order(order)
    if max_degree is not None:
        max_degree = check_positive_int(max_degree, "max_degree")
    max_terms = check_positive_int(max_terms, "max_terms")
    X = prepare_data(X, max_samples, random_state)
    m, n = X.shape
    basis = all_monomials(n, 1, "deglex")  # the constant first, then the variables
    # F: evaluations (m, |F|) orthonormal for the mean inner product (each has mean
    # square 1, unlike Livni et al.'s unit Euclidean norm, so that products of F keep
    # the scale of the data and σ²/m compares with psi at every degree), and monomial
    # coefficients (|basis|, |F|).
    F_val = np.ones((m, 1))
    F_coef = np.zeros((basis.shape[0], 1))
    F_coef[0, 0] = 1.0
    # Degree-1 candidates: the variables.
    lin = row_index(basis, np.eye(n, dtype=np.int64))
    C_val = X.copy()
    C_coef = np.zeros((basis.shape[0], n))
    C_coef[lin, np.arange(n)] = 1.0
    V_coef: list[np.ndarray] = []
    F1: tuple[np.ndarray, np.ndarray] | None = None
    degree = 1
    while True:
        # FindRangeNull(F, C): orthogonalise, SVD, split by the singular values.
        P = _orthogonalise(C_val, F_val)
        A = C_val - F_val @ P
        A_coef = C_coef - F_coef @ P
        # Products repeat as polynomials (x·y = y·x, (xy)z = (xz)y, ...) or lie in
        # span(F); after orthogonalisation those are the zero polynomial, and would
        # enter the null space as "vanishing" components or mix with genuine ones.
        # Keep a linearly independent subset (pivoted QR of the coefficient vectors).
        independent = _independent_columns(A_coef)
        A, A_coef = A[:, independent], A_coef[:, independent]
        U, s, Wt = np.linalg.svd(A, full_matrices=False)
        mse = s**2 / m
        vanish = mse <= psi
        G_coef = A_coef @ Wt.T  # component i = Σ_j W[j, i] c̃_j
        V_coef.extend(G_coef[:, i] for i in np.flatnonzero(vanish))
        keep = ~vanish
        scale = s[keep] / np.sqrt(m)  # root mean square of each component
        new_val = U[:, keep] * np.sqrt(m)  # A W / scale: mean-orthonormal
        new_coef = G_coef[:, keep] / scale
        F_val = np.column_stack([F_val, new_val])
        F_coef = np.column_stack([F_coef, new_coef])
        if degree == 1:
            F1 = (new_val, new_coef)
        if new_val.shape[1] == 0 or (max_degree is not None and degree >= max_degree):
            break
        # Degree t + 1 candidates: products of F_t with F_1, expanded with the shift
        # maps x_v · (monomial of degree ≤ t) of the larger basis.
        degree += 1
        assert F1 is not None
        big = all_monomials(n, degree, "deglex")
        n_cand = new_val.shape[1] * F1[0].shape[1]
        if big.shape[0] > max_terms or n_cand > max_terms:
            raise AlgebraError(
                f"Degree {degree} needs {n_cand} candidate products over "
                f"{big.shape[0]} monomials, more than max_terms={max_terms}; raise psi, "
                f"lower max_degree, or raise max_terms."
            )
        pad = np.zeros((big.shape[0] - basis.shape[0], F_coef.shape[1]))
        F_coef = np.vstack([F_coef, pad])  # deglex: lower degrees are a prefix of big
        shift = _shift_indices(basis, big)
        f_coef = new_coef  # over the old basis
        h_val, h_coef = F1  # over the degree-1 basis, a prefix of every basis
        C_val = (new_val[:, :, None] * h_val[:, None, :]).reshape(m, -1)
        C_coef = np.zeros((big.shape[0], f_coef.shape[1], h_coef.shape[1]))
        # f·h = h₀ f + Σ_v h_v (x_v f), h = h₀ + Σ_v h_v x_v.
        C_coef[: basis.shape[0]] += f_coef[:, :, None] * h_coef[0][None, None, :]
        for v in range(n):
            C_coef[shift[v]] += f_coef[:, :, None] * h_coef[lin[v]][None, None, :]
        C_coef = C_coef.reshape(big.shape[0], -1)
        basis = big
    p = len(V_coef)
    coef = np.zeros((basis.shape[0], p))
    for j, col in enumerate(V_coef):
        coef[: col.shape[0], j] = col
    if p:
        coef[np.abs(coef) <= _COEF_RTOL * np.abs(coef).max(axis=0)] = 0.0
        # A singular vector's sign is arbitrary: make each largest term's coefficient
        # positive, so the result does not depend on the SVD's sign choices.
        last = coef.shape[0] - 1 - np.argmax(coef[::-1] != 0, axis=0)
        coef *= np.sign(coef[last, np.arange(p)])
    ps = PolynomialSet(basis, coef, order=order)
    # The expansion is what users evaluate: record its mean square, and keep the
    # generators that still pass the psi test after expansion.
    true_mse = np.mean(ps.evaluate(X) ** 2, axis=0) if p else np.zeros(0)
    ok = np.flatnonzero(true_mse <= psi)
    ps = ps.select(ok)
    return PolynomialSet(
        ps.terms, ps.coef, order=order, leading=ps.leading, mse=true_mse[ok]
    )
