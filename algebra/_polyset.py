"""The central object of :mod:`algebra`: a set of polynomials in the monomial basis.

Every algorithm (OAVI, ABM, VCA, exact Buchberger–Möller) returns a
:class:`PolynomialSet`: one exponent matrix ``terms`` (t, n) shared by all
polynomials, sorted ascending in a term order and closed under division, and a
coefficient matrix ``coef`` (t, p), so the set evaluates as ``μ(X) @ coef`` with the
monomials ``μ(X)`` computed along the ``(parent, var)`` chain (``docs/design.md``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

import numpy as np

from algebra._coefficients import check_coef, nonzero_mask, to_fraction, zeros_like
from algebra._errors import AlgebraError
from algebra._kernels import block_rows, eval_chain_grad, eval_polys
from algebra._monomials import (
    chain_monomials,
    default_chunk_rows,
    is_order_ideal,
    monomial_chain,
    order_ideal_closure,
    row_index,
)
from algebra._orders import TermOrder, get_term_order
from algebra._threads import run_kernel
from algebra._validation import check_exponents, check_points, check_positive_int, describe

__all__ = ["PolynomialSet"]

_FORMAT_VERSION = 1
_INT64_MAX = np.iinfo(np.int64).max


class PolynomialSet:
    """Polynomials sharing one sorted order ideal of monomials.

    Parameters
    ----------
    terms : array_like of int, shape (t, n)
        Distinct exponent vectors.  They need not be sorted or closed under
        division: the set sorts them ascending in ``order`` and adds every missing
        divisor with zero coefficients, so ``self.terms`` may be longer and in another
        order than the input (``coef`` rows and ``leading`` follow).
    coef : array_like, shape (t, p)
        ``coef[i, j]`` is the coefficient of ``terms[i]`` in polynomial ``j``.  Real
        input becomes float64; an object array (of ``int``, :class:`fractions.Fraction`,
        sympy ``Rational``) becomes an exact object array of ``Fraction``.
    order : str or TermOrder, default "deglex"
        The term order (see :func:`~algebra.get_term_order`).
    leading : array_like of int, shape (p,), optional
        Row of ``terms`` (as passed) holding each polynomial's leading term; its
        coefficient must be nonzero.  By default the largest term with a nonzero
        coefficient.
    mse : array_like of float, shape (p,), optional
        Mean squared evaluation of each polynomial on its fitting data (the ψ test).
    labels : array_like, shape (p,), optional
        The class that owns each polynomial, when fitted per class (ints or strings).
    order_ideal : array_like of int, shape (s, n), optional
        The order ideal ``O`` of the fitted ideal; stored sorted.

    Attributes
    ----------
    terms : ndarray of int64, shape (t, n)
        Sorted ascending, closed under division.
    coef : ndarray, shape (t, p)
        float64, or object array of :class:`fractions.Fraction` (``is_exact``).
    order : TermOrder
    leading : ndarray of int64, shape (p,)
        Row of ``terms`` of each leading term.
    mse, labels, order_ideal : ndarray or None

    Raises
    ------
    AlgebraError
        On inconsistent shapes, non-finite or non-numeric coefficients, duplicate
        terms, a zero polynomial, or a leading term with a zero coefficient.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import PolynomialSet
    >>> circle = PolynomialSet([[0, 0], [2, 0], [0, 2]], [[-1.0], [1.0], [1.0]])
    >>> circle.evaluate(np.array([[0.6, 0.8], [1.0, 1.0]])).round(12)
    array([[0.],
           [1.]])
    """

    def __init__(
        self,
        terms: Any,
        coef: Any,
        *,
        order: str | TermOrder = "deglex",
        leading: Any = None,
        mse: Any = None,
        labels: Any = None,
        order_ideal: Any = None,
    ) -> None:
        self.order: TermOrder = get_term_order(order)
        E = check_exponents(terms, name="terms")
        C = check_coef(coef, E.shape[0])
        n, p = E.shape[1], C.shape[1]
        if E.shape[0] and np.unique(E, axis=0).shape[0] != E.shape[0]:
            raise AlgebraError(
                "terms contains a repeated monomial; merge the coefficients of equal "
                "terms into one row."
            )
        closed = order_ideal_closure(E, self.order) if E.shape[0] else E
        rows = row_index(closed, E)
        full = zeros_like(C, (closed.shape[0], p))
        full[rows] = C
        self.terms: np.ndarray = closed
        self.coef: np.ndarray = full
        nz = nonzero_mask(full)
        zero = np.flatnonzero(~nz.any(axis=0))
        if zero.size:
            raise AlgebraError(
                f"polynomial {int(zero[0])} (coef column {int(zero[0])}) is identically "
                f"zero; drop it before building the PolynomialSet."
            )
        if p == 0:
            lead = np.zeros(0, dtype=np.int64)
        elif leading is None:
            # Terms ascend, so the largest nonzero term is the last nonzero row.
            lead = (closed.shape[0] - 1 - np.argmax(nz[::-1], axis=0)).astype(np.int64)
        else:
            given = np.asarray(leading)
            if given.shape != (p,) or given.dtype.kind not in "iu":
                raise AlgebraError(
                    f"leading must be an integer array of shape ({p},), one term index "
                    f"per polynomial, got {describe(given)}."
                )
            if p and (given.min() < 0 or given.max() >= E.shape[0]):
                raise AlgebraError(
                    f"leading holds a term index outside [0, {E.shape[0]}); pass row "
                    f"indices into terms."
                )
            lead = rows[given.astype(np.int64)]
            bad = np.flatnonzero(~nz[lead, np.arange(p)])
            if bad.size:
                raise AlgebraError(
                    f"leading term {int(given[bad[0]])} of polynomial {int(bad[0])} has a "
                    f"zero coefficient; a leading term must appear in its polynomial."
                )
        self.leading: np.ndarray = lead
        self.mse: np.ndarray | None = None
        if mse is not None:
            m = np.asarray(mse, dtype=np.float64)
            if m.shape != (p,) or not np.all(np.isfinite(m)):
                raise AlgebraError(
                    f"mse must be a finite float array of shape ({p},), got {describe(m)}."
                )
            self.mse = m
        self.labels: np.ndarray | None = None
        if labels is not None:
            lab = np.asarray(labels)
            if lab.shape != (p,) or lab.dtype == object:
                raise AlgebraError(
                    f"labels must be an array of shape ({p},) of ints or strings, got "
                    f"{describe(lab)}."
                )
            self.labels = lab
        self.order_ideal: np.ndarray | None = None
        if order_ideal is not None:
            O = check_exponents(order_ideal, name="order_ideal", n_vars=n)
            if not is_order_ideal(O):
                raise AlgebraError(
                    "order_ideal is not closed under division; pass the order ideal O "
                    "of the fitted ideal."
                )
            self.order_ideal = O[self.order.argsort(O)]
        self._parent, self._var = monomial_chain(closed)

    # ----------------------------------------------------------------- properties
    @property
    def n_vars(self) -> int:
        """Number of variables ``n``."""
        return int(self.terms.shape[1])

    @property
    def n_terms(self) -> int:
        """Number of monomials ``t`` in the shared order ideal."""
        return int(self.terms.shape[0])

    @property
    def n_polys(self) -> int:
        """Number of polynomials ``p``."""
        return int(self.coef.shape[1])

    @property
    def parent(self) -> np.ndarray:
        """ndarray of int64, shape (t,): the chain parent of each term (-1: constant)."""
        return self._parent

    @property
    def var(self) -> np.ndarray:
        """ndarray of int64, shape (t,): the variable multiplied into the parent."""
        return self._var

    @property
    def is_exact(self) -> bool:
        """Whether the coefficients are exact :class:`fractions.Fraction` objects."""
        return self.coef.dtype == object

    @property
    def leading_terms(self) -> np.ndarray:
        """ndarray of int64, shape (p, n): the exponent vector of each leading term."""
        return self.terms[self.leading]

    @property
    def degrees(self) -> np.ndarray:
        """ndarray of int64, shape (p,): the total degree of each polynomial.

        The largest total degree of a term with a nonzero coefficient (for degree
        compatible orders, the degree of the leading term).
        """
        deg = self.terms.sum(axis=1)
        return np.where(nonzero_mask(self.coef), deg[:, None], -1).max(axis=0, initial=-1)

    @property
    def sparsity(self) -> np.ndarray:
        """ndarray of float64, shape (p,): fraction of the ``t`` coefficients that are zero.

        The sparsity measure of Wirth & Pokutta (2022) for generators in the monomial
        basis of the shared order ideal.
        """
        if self.n_terms == 0:
            return np.zeros(self.n_polys)
        return 1.0 - nonzero_mask(self.coef).sum(axis=0) / self.n_terms

    # ----------------------------------------------------------------- evaluation
    def _float_coef(self) -> np.ndarray:
        # float(Fraction) rounds correctly; numpy calls it per element.
        return self.coef.astype(np.float64) if self.is_exact else self.coef

    def monomials(self, X: Any, chunk_size: int | None = None) -> np.ndarray:
        """Evaluate the shared monomials ``μ(X)``.

        Parameters
        ----------
        X : array_like of shape (m, n)
            The samples.
        chunk_size : int, optional
            Rows handed to the kernel at a time (default: all of them).

        Returns
        -------
        ndarray of float64, shape (m, t)
        """
        X = check_points(X, n_vars=self.n_vars)
        return chain_monomials(X, self._parent, self._var, chunk_size)

    def evaluate(self, X: Any, chunk_size: int | None = None, *,
                 absolute: bool = False) -> np.ndarray:
        """Evaluate every polynomial at every sample: ``μ(X) @ coef``.

        One fused pass: blocks of rows are evaluated along the chain while in cache and
        contracted with ``coef`` straight into the output, so ``μ`` (m, t) is never held
        and memory is the (m, p) result plus one block per thread
        (:func:`~algebra.thread_budget` sets the threads).  If the set is exact and
        ``X`` is an object array of integers / :class:`fractions.Fraction`, the
        evaluation is exact too.

        Parameters
        ----------
        X : array_like of shape (m, n)
            The samples.
        chunk_size : int, optional
            Rows per block (default: as many as keep a block's monomials within
            128 KiB, the size that stays in a core's cache).
        absolute : bool, default=False
            Return ``|g(x)|`` (the features of
            :class:`~algebra.VanishingIdealTransformer`), taken in the same pass.

        Returns
        -------
        ndarray of shape (m, p)
            float64, or object (``Fraction``) for exact evaluation.
        """
        if self.is_exact and isinstance(X, np.ndarray) and X.dtype == object:
            values = self._evaluate_exact(X)
            return np.abs(values) if absolute else values
        X = check_points(X, n_vars=self.n_vars)
        # Per block: the monomials (t rows) and the results (p rows) stay in cache.
        block = (block_rows(self.n_terms + self.n_polys) if chunk_size is None
                 else check_positive_int(chunk_size, "chunk_size"))
        out = np.empty((X.shape[0], self.n_polys), dtype=np.float64)
        run_kernel(eval_polys, X.shape[0], X, self._parent, self._var, *self._sparse_coef(),
                   bool(absolute), block, out)
        return out

    def _sparse_coef(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``coefᵀ`` as compressed rows ``(indptr, indices, values)`` for the kernel.

        Made per call (O(t p), nothing next to the rows): ``coef`` is a public array
        that callers may change in place.
        """
        coef_t = self._float_coef().T
        mask = coef_t != 0
        indptr = np.zeros(self.n_polys + 1, dtype=np.int64)
        np.cumsum(mask.sum(axis=1), out=indptr[1:])
        return (indptr, np.nonzero(mask)[1].astype(np.int64),
                np.ascontiguousarray(coef_t[mask], dtype=np.float64))

    def _evaluate_exact(self, X: np.ndarray) -> np.ndarray:
        """Exact evaluation with Fraction arithmetic along the chain."""
        if X.ndim != 2 or X.shape[1] != self.n_vars:
            raise AlgebraError(
                f"X must have shape (n_samples, {self.n_vars}), got {describe(X)}."
            )
        out = np.empty((X.shape[0], self.n_polys), dtype=object)
        for r, row in enumerate(X):
            x = [to_fraction(v, "") for v in row]
            mu: list[Fraction] = []
            for p, v in zip(self._parent.tolist(), self._var.tolist(), strict=True):
                mu.append(Fraction(1) if p < 0 else mu[p] * x[v])
            for j in range(self.n_polys):
                out[r, j] = sum((c * m for c, m in zip(self.coef[:, j], mu, strict=True) if c),
                                Fraction(0))
        return out

    def gradient(self, X: Any, chunk_size: int | None = None) -> np.ndarray:
        """The Jacobian of every polynomial at every sample.

        Parameters
        ----------
        X : array_like of shape (m, n)
            The samples.
        chunk_size : int, optional
            Rows evaluated at a time (about 32 MiB of monomial derivatives by default).

        Returns
        -------
        ndarray of float64, shape (m, p, n)
            ``out[r, j, k] = ∂ g_j / ∂ x_k (X[r])``.
        """
        X = check_points(X, n_vars=self.n_vars)
        coef = self._float_coef()
        m, n, t, p = X.shape[0], self.n_vars, self.n_terms, self.n_polys
        out = np.empty((m, p, n), dtype=np.float64)
        step = default_chunk_rows(8 * t * (n + 1), chunk_size)
        for start in range(0, m, step):
            stop = min(start + step, m)
            c = stop - start
            mu = np.empty((c, t), dtype=np.float64)
            dmu = np.empty((c, n, t), dtype=np.float64)
            run_kernel(eval_chain_grad, c, X[start:stop], self._parent, self._var, mu,
                       dmu)
            # (c*n, t) @ (t, p): one BLAS call per chunk.
            jac = (dmu.reshape(c * n, t) @ coef).reshape(c, n, p)
            out[start:stop] = jac.transpose(0, 2, 1)
        return out

    # ----------------------------------------------------------------- structure
    def _rebuild(self, terms: np.ndarray, coef: np.ndarray, leading: np.ndarray,
                 index: np.ndarray | None = None) -> PolynomialSet:
        """A new set sharing this one's order and metadata (restricted to ``index``)."""
        pick = (lambda a: a) if index is None else (lambda a: a[index])
        return PolynomialSet(
            terms,
            coef,
            order=self.order,
            leading=leading,
            mse=None if self.mse is None else pick(self.mse),
            labels=None if self.labels is None else pick(self.labels),
            order_ideal=self.order_ideal,
        )

    def select(self, index: Any) -> PolynomialSet:
        """Keep some polynomials, then drop the terms they no longer need.

        Parameters
        ----------
        index : int, slice, array_like of int or bool mask of length p
            The polynomials to keep, in the given order.

        Returns
        -------
        PolynomialSet
            Its terms are the smallest order ideal holding every term with a nonzero
            coefficient in a kept polynomial (so it stays closed under division).
        """
        try:
            idx = np.atleast_1d(np.arange(self.n_polys)[index])
        except (IndexError, TypeError) as exc:
            raise AlgebraError(
                f"index must select polynomials among the {self.n_polys} of this set "
                f"(an int, slice, int array or bool mask of length {self.n_polys}), got "
                f"{index!r}: {exc}."
            ) from None
        coef = self.coef[:, idx]
        used = np.flatnonzero(nonzero_mask(coef).any(axis=1))
        keep_terms = (
            order_ideal_closure(self.terms[used], self.order)
            if used.size
            else np.zeros((0, self.n_vars), dtype=np.int64)
        )
        rows = row_index(self.terms, keep_terms)
        new_row = np.full(self.n_terms, -1, dtype=np.int64)
        new_row[rows] = np.arange(rows.size)
        return self._rebuild(keep_terms, coef[rows], new_row[self.leading[idx]], idx)

    @classmethod
    def concatenate(cls, sets: Sequence[PolynomialSet]) -> PolynomialSet:
        """Stack the polynomials of several sets over the union of their terms.

        Parameters
        ----------
        sets : sequence of PolynomialSet
            Sets in the same number of variables and the same term order.  If any is
            not exact, the result has float coefficients.

        Returns
        -------
        PolynomialSet
            Polynomials in the given order; ``mse`` and ``labels`` are kept when every
            set has them, ``order_ideal`` when all sets share the same one.
        """
        sets = list(sets)
        if not sets or not all(isinstance(s, PolynomialSet) for s in sets):
            raise AlgebraError(
                "sets must be a non-empty sequence of PolynomialSet objects."
            )
        first = sets[0]
        for k, s in enumerate(sets[1:], start=1):
            if s.n_vars != first.n_vars or s.order != first.order:
                raise AlgebraError(
                    f"sets[{k}] has {s.n_vars} variables and order {s.order.name!r} but "
                    f"sets[0] has {first.n_vars} and {first.order.name!r}; concatenate "
                    f"only sets over the same variables and term order."
                )
        exact = all(s.is_exact for s in sets)
        # Only the exact sets need a float copy (a copy of a float set rebuilds it: the
        # closure checks of 1,000 sets took 1.7 s of the pruning pass at 1,000 classes).
        parts = sets if exact else [s.astype(float) if s.is_exact else s for s in sets]
        terms = order_ideal_closure(np.concatenate([s.terms for s in parts]), first.order)
        blocks, leading = [], []
        for s in parts:
            rows = row_index(terms, s.terms)
            block = zeros_like(s.coef, (terms.shape[0], s.n_polys))
            block[rows] = s.coef
            blocks.append(block)
            leading.append(rows[s.leading])
        same_O = all(
            s.order_ideal is not None
            and first.order_ideal is not None
            and np.array_equal(s.order_ideal, first.order_ideal)
            for s in sets
        )
        return cls(
            terms,
            np.concatenate(blocks, axis=1),
            order=first.order,
            leading=np.concatenate(leading),
            mse=np.concatenate([s.mse for s in sets])
            if all(s.mse is not None for s in sets) else None,
            labels=np.concatenate([s.labels for s in sets])
            if all(s.labels is not None for s in sets) else None,
            order_ideal=first.order_ideal if same_O else None,
        )

    def astype(self, dtype: Any) -> PolynomialSet:
        """A copy with float64 or exact coefficients.

        Parameters
        ----------
        dtype : float or object
            ``float`` (or ``np.float64``, ``"float64"``) for float coefficients;
            ``object`` (or ``fractions.Fraction``, ``"exact"``) for exact ones (floats
            convert exactly, as dyadic rationals).

        Returns
        -------
        PolynomialSet
        """
        try:
            exact = dtype in (Fraction, "exact") or np.dtype(dtype) == object
            as_float = not exact and np.dtype(dtype) == np.float64
        except TypeError:
            exact = as_float = False
        if exact:
            coef = self.coef.astype(object)  # check_coef turns floats into exact Fractions
        elif as_float:
            coef = self._float_coef().copy()
        else:
            raise AlgebraError(
                f"dtype must be float (float64 coefficients) or object (exact Fraction "
                f"coefficients), got {dtype!r}."
            )
        return self._rebuild(self.terms, coef, self.leading)

    # ----------------------------------------------------------------- persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Save to a ``.npz`` file of plain arrays (no pickle).

        Exact coefficients are stored as int64 numerator/denominator arrays, or as
        strings ``"p/q"`` when they do not fit in int64.

        Parameters
        ----------
        path : str or path-like
            The file; numpy appends ``.npz`` if missing.
        """
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(_FORMAT_VERSION),
            "order": np.array(self.order.name),
            "terms": self.terms,
            "leading": self.leading,
        }
        if self.is_exact:
            num = [c.numerator for c in self.coef.ravel()]
            den = [c.denominator for c in self.coef.ravel()]
            if all(abs(v) <= _INT64_MAX for v in num + den):
                arrays["coef_num"] = np.array(num, dtype=np.int64).reshape(self.coef.shape)
                arrays["coef_den"] = np.array(den, dtype=np.int64).reshape(self.coef.shape)
            else:
                arrays["coef_str"] = np.array([str(c) for c in self.coef.ravel()]).reshape(
                    self.coef.shape
                )
        else:
            arrays["coef"] = self.coef
        for name in ("mse", "labels", "order_ideal"):
            value = getattr(self, name)
            if value is not None:
                arrays[name] = value
        np.savez(path, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> PolynomialSet:
        """Load a set written by :meth:`save`.

        Parameters
        ----------
        path : str or path-like
            The ``.npz`` file.

        Returns
        -------
        PolynomialSet
        """
        with np.load(path, allow_pickle=False) as data:
            files = set(data.files)
            if "terms" not in files or "order" not in files:
                raise AlgebraError(
                    f"{os.fspath(path)!r} is not a PolynomialSet file (no 'terms' or "
                    f"'order' array); write it with PolynomialSet.save."
                )
            if "coef" in files:
                coef = data["coef"]
            elif not files & {"coef_num", "coef_str"}:
                raise AlgebraError(
                    f"{os.fspath(path)!r} has no coefficient array ('coef', 'coef_num' or "
                    f"'coef_str'); write it with PolynomialSet.save."
                )
            else:
                if "coef_num" in files:
                    num, den = data["coef_num"], data["coef_den"]
                    pairs = zip(num.ravel().tolist(), den.ravel().tolist(), strict=True)
                    flat = [Fraction(a, b) for a, b in pairs]
                    shape = num.shape
                else:
                    strs = data["coef_str"]
                    flat = [Fraction(str(s)) for s in strs.ravel()]
                    shape = strs.shape
                coef = np.empty(len(flat), dtype=object)
                coef[:] = flat
                coef = coef.reshape(shape)
            opt = {k: data[k] for k in ("mse", "labels", "order_ideal") if k in files}
            return cls(
                data["terms"], coef, order=str(data["order"]), leading=data["leading"], **opt
            )

    # ----------------------------------------------------------------- sympy
    def to_sympy(
        self,
        symbols: Any = None,
        rational: bool = False,
        as_poly: bool = False,
        max_denominator: int = 10**6,
    ) -> list[Any]:
        """The polynomials as sympy expressions, terms in the monomial basis.

        Parameters
        ----------
        symbols : str or sequence of str or sympy.Symbol, optional
            One name per variable; ``x0, ..., x{n-1}`` by default.
        rational : bool, default False
            Snap float coefficients to rationals of denominator at most
            ``max_denominator``.
        as_poly : bool, default False
            Return :class:`sympy.Poly` objects in ``symbols`` (domain ``QQ`` for rational
            coefficients, ``RR`` for floats) instead of expressions.  A ``Poly`` stores
            no term order: list its terms with ``poly.terms(order=self.order.alias)``.
        max_denominator : int, default 10**6
            The largest denominator used by ``rational=True``.

        Returns
        -------
        list of sympy.Expr or sympy.Poly, length p
        """
        from algebra._sympy import to_sympy  # sympy is imported on first use only

        return to_sympy(self.terms, self.coef, symbols, rational=rational, as_poly=as_poly,
                        max_denominator=max_denominator)

    def to_latex(self, symbols: Any = None, rational: bool = False) -> list[str]:
        """LaTeX of each polynomial, terms in descending term order.

        Parameters
        ----------
        symbols : str or sequence of str or sympy.Symbol, optional
            As in :meth:`to_sympy`.
        rational : bool, default False
            As in :meth:`to_sympy`.

        Returns
        -------
        list of str, length p
            One LaTeX string per polynomial.
        """
        from algebra._sympy import to_latex

        return to_latex(self.terms, self.coef, self.order, symbols, rational=rational)

    @classmethod
    def from_sympy(
        cls, exprs: Any, gens: Sequence[Any], order: str | TermOrder = "deglex"
    ) -> PolynomialSet:
        """Build a set from sympy polynomials.

        Parameters
        ----------
        exprs : sympy.Expr, sympy.Poly or str, or a sequence of them
            Polynomials in ``gens``; strings are parsed with :func:`sympy.sympify`.
        gens : sequence of sympy.Symbol or str, or str
            The variables, in column order (a string such as ``"x y"`` names them all).
        order : str or TermOrder, default "deglex"
            The term order.

        Returns
        -------
        PolynomialSet
            Exact (``Fraction``) coefficients when every coefficient is rational, else
            float64; its terms are the order ideal spanned by the monomials present.
            ``from_sympy(P.to_sympy(), gens, P.order)`` reproduces ``P`` when ``P`` uses
            no more terms than its polynomials need and has default leading terms.

        Raises
        ------
        AlgebraError
            If an expression is not a polynomial in ``gens`` with real numeric
            coefficients, or is zero.
        """
        from algebra._sympy import from_sympy

        terms, coef = from_sympy(exprs, gens)
        return cls(terms, coef, order=order)

    def __str__(self) -> str:
        from algebra._sympy import pretty

        if not self.n_polys:
            return repr(self)
        return f"{self!r}\n{pretty(self.terms, self.coef, self.order)}"

    # ----------------------------------------------------------------- dunder
    def __len__(self) -> int:
        return self.n_polys

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PolynomialSet):
            return NotImplemented

        def same(a: np.ndarray | None, b: np.ndarray | None) -> bool:
            if a is None or b is None:
                return a is b
            return a.shape == b.shape and bool(np.all(a == b))

        return (
            self.order == other.order
            and self.is_exact == other.is_exact
            and same(self.terms, other.terms)
            and same(self.coef, other.coef)
            and same(self.leading, other.leading)
            and same(self.mse, other.mse)
            and same(self.labels, other.labels)
            and same(self.order_ideal, other.order_ideal)
        )

    __hash__ = None  # type: ignore[assignment]  # mutable arrays: not hashable

    def __repr__(self) -> str:
        kind = "exact" if self.is_exact else "float64"
        deg = int(self.degrees.max()) if self.n_polys else -1
        extra = "" if self.order_ideal is None else f", |O|={self.order_ideal.shape[0]}"
        return (
            f"PolynomialSet(n_polys={self.n_polys}, n_vars={self.n_vars}, "
            f"n_terms={self.n_terms}, order={self.order.name!r}, coef={kind}, "
            f"max_degree={deg}{extra})"
        )
