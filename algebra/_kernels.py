"""Numba kernels of :mod:`algebra` (plain functions, never validate).

The public wrappers (:func:`algebra.evaluate_monomials`,
:meth:`algebra.PolynomialSet.evaluate`, ...) check shapes, dtypes and finiteness and
pass C-contiguous float64/int64 arrays; the kernels trust them.  Each kernel is
written once as a plain Python function using :func:`numba.prange` and jitted twice:
serially (``prange`` is then ``range``) and with ``parallel=True`` over rows, which the
wrappers pick for many rows.

Monomials are evaluated through the chain of an order ideal (``docs/design.md``):
term ``i`` is ``terms[parent[i]] * x[var[i]]`` with ``parent[i] < i``, and the
constant term has ``parent = -1``, so the whole order ideal costs one multiply per
monomial and row.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import prange

__all__ = [
    "eval_abs",
    "eval_abs_parallel",
    "eval_chain",
    "eval_chain_grad",
    "eval_chain_grad_parallel",
    "eval_chain_parallel",
    "segment_sums",
    "segment_sums_parallel",
]


def _eval_chain(X: np.ndarray, parent: np.ndarray, var: np.ndarray, out: np.ndarray) -> None:
    """Write the monomials of ``X`` (m, n) into ``out`` (m, t), one multiply each."""
    m = X.shape[0]
    t = parent.shape[0]
    for r in prange(m):
        for i in range(t):
            p = parent[i]
            if p < 0:
                out[r, i] = 1.0
            else:
                out[r, i] = out[r, p] * X[r, var[i]]


def _eval_chain_grad(
    X: np.ndarray, parent: np.ndarray, var: np.ndarray, mu: np.ndarray, dmu: np.ndarray
) -> None:
    """Monomials ``mu`` (m, t) and their partial derivatives ``dmu`` (m, n, t).

    Product rule along the chain: for ``mu_i = mu_p * x_v``,
    ``d mu_i / d x_k = (d mu_p / d x_k) * x_v + [k == v] * mu_p``.
    """
    m, n = X.shape
    t = parent.shape[0]
    for r in prange(m):
        for i in range(t):
            p = parent[i]
            if p < 0:
                mu[r, i] = 1.0
                for k in range(n):
                    dmu[r, k, i] = 0.0
            else:
                v = var[i]
                xv = X[r, v]
                mu[r, i] = mu[r, p] * xv
                for k in range(n):
                    dmu[r, k, i] = dmu[r, k, p] * xv
                dmu[r, v, i] += mu[r, p]


#: Rows per block of :func:`_eval_abs`: the block's monomials stay in cache.
ABS_BLOCK_ROWS = 256


def _eval_abs(
    X: np.ndarray, parent: np.ndarray, var: np.ndarray, coef_t: np.ndarray, out: np.ndarray
) -> None:
    """``out = |μ(X) @ coef|`` (m, p) fused, with ``coef_t = coefᵀ`` (p, t) contiguous.

    The transform of :class:`algebra.VanishingIdealTransformer`: blocks of rows are
    evaluated along the chain into a small buffer and contracted with the coefficients
    at once, so ``μ`` is never materialised and no BLAS call (whose threads fight
    numba's on a busy machine) is made.
    """
    m = X.shape[0]
    t = parent.shape[0]
    p = coef_t.shape[0]
    n_blocks = (m + ABS_BLOCK_ROWS - 1) // ABS_BLOCK_ROWS
    for b in prange(n_blocks):
        start = b * ABS_BLOCK_ROWS
        stop = min(start + ABS_BLOCK_ROWS, m)
        mu = np.empty(t)
        for r in range(start, stop):
            for i in range(t):
                q = parent[i]
                mu[i] = 1.0 if q < 0 else mu[q] * X[r, var[i]]
            for j in range(p):
                s = 0.0
                for i in range(t):
                    s += coef_t[j, i] * mu[i]
                out[r, j] = abs(s)


def _segment_sums(
    values: np.ndarray, segment: np.ndarray, abs_out: np.ndarray, square_out: np.ndarray
) -> None:
    """``abs_out[segment[r], j] += |values[j, r]|`` and ``square_out[...] += values[j, r]²``.

    The per-class sums of the discriminative score: ``values`` (p, rows) holds one row
    of values per polynomial (the layout of ``coefᵀ @ μᵀ``), the outputs are
    (segments, p).  No (segments × rows) indicator and one pass for both sums (about a
    nanosecond per element; ``np.add.at`` takes 30).  Parallel over polynomials, so no
    two tasks write the same entry.
    """
    rows = values.shape[1]
    for j in prange(values.shape[0]):
        # Runs of equal segments (rows sorted by class make long ones) add up in
        # registers first: no load-store round trip through the outputs per element.
        current = segment[0] if rows else 0
        acc_abs = 0.0
        acc_square = 0.0
        for r in range(rows):
            k = segment[r]
            if k != current:
                abs_out[current, j] += acc_abs
                square_out[current, j] += acc_square
                current = k
                acc_abs = 0.0
                acc_square = 0.0
            v = values[j, r]
            acc_abs += abs(v)
            acc_square += v * v
        if rows:
            abs_out[current, j] += acc_abs
            square_out[current, j] += acc_square


def jit_pair(func: Callable[..., Any]) -> tuple[Any, Any]:
    """Jit ``func`` serially and with ``parallel=True``, each with its own disk cache.

    numba's cache index is keyed by the function's qualified name and signature, not
    by the ``parallel`` flag, so jitting one function object twice makes the two
    dispatchers load each other's machine code.  The parallel twin is therefore a
    clone of ``func`` under the qualified name ``<name>_parallel``.
    """
    twin = types.FunctionType(
        func.__code__, func.__globals__, func.__name__ + "_parallel",
        func.__defaults__, func.__closure__,
    )
    twin.__qualname__ = func.__qualname__ + "_parallel"
    twin.__doc__ = func.__doc__
    return numba.njit(cache=True)(func), numba.njit(cache=True, parallel=True)(twin)


eval_chain, eval_chain_parallel = jit_pair(_eval_chain)
eval_chain_grad, eval_chain_grad_parallel = jit_pair(_eval_chain_grad)
eval_abs, eval_abs_parallel = jit_pair(_eval_abs)
segment_sums, segment_sums_parallel = jit_pair(_segment_sums)
