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
    "set_sums",
    "set_sums_parallel",
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


def _set_sums(
    X: np.ndarray,
    segment: np.ndarray,
    parent: np.ndarray,
    var: np.ndarray,
    group_ptr: np.ndarray,
    gen_ptr: np.ndarray,
    used_ptr: np.ndarray,
    used: np.ndarray,
    coef: np.ndarray,
    coef_ptr: np.ndarray,
    abs_out: np.ndarray,
    square_out: np.ndarray,
    block: int,
) -> None:
    """Per-segment sums of ``|p(x)|`` and ``p(x)²`` of many polynomial sets, fused.

    The pass behind the discriminative score. Set ``s`` owns the generators
    ``gen_ptr[s]:gen_ptr[s+1]`` (columns of the outputs, (segments, p)) and uses the
    monomials ``used[used_ptr[s]:used_ptr[s+1]]`` of one chain (``parent``, ``var``:
    the union of the sets' terms); its coefficients on them are
    ``coef[coef_ptr[s]:coef_ptr[s+1]]``, row-major (generators × used monomials). The
    sets are split into groups ``group_ptr[g]:group_ptr[g+1]``, one task each: a task
    evaluates ``X`` along the chain a block of rows at a time into ``mu`` (t, block),
    one row per monomial, so that the multiply-adds run along contiguous rows (SIMD)
    and the block stays in cache, then every generator of its sets from the monomials
    it uses (one multiply-add per used monomial and row; no (rows × generators) matrix).
    Runs of equal segments (rows grouped by class make long ones) add up in registers
    before they reach the outputs. Tasks write disjoint columns and never wait for each
    other (one barrier in all, not one per block).
    """
    m = X.shape[0]
    t = parent.shape[0]
    for g in prange(group_ptr.shape[0] - 1):
        mu = np.empty((t, block))
        acc = np.empty(block)
        for start in range(0, m, block):
            rows = min(block, m - start)
            for i in range(t):
                q = parent[i]
                if q < 0:
                    for r in range(rows):
                        mu[i, r] = 1.0
                else:
                    v = var[i]
                    for r in range(rows):
                        mu[i, r] = mu[q, r] * X[start + r, v]
            for s in range(group_ptr[g], group_ptr[g + 1]):
                first = used_ptr[s]
                width = used_ptr[s + 1] - first
                for p in range(gen_ptr[s], gen_ptr[s + 1]):
                    for r in range(rows):
                        acc[r] = 0.0
                    base = coef_ptr[s] + (p - gen_ptr[s]) * width
                    for j in range(width):
                        c = coef[base + j]
                        if c != 0.0:
                            i = used[first + j]
                            for r in range(rows):
                                acc[r] += c * mu[i, r]
                    current = segment[start]
                    acc_abs = 0.0
                    acc_square = 0.0
                    for r in range(rows):
                        k = segment[start + r]
                        if k != current:
                            abs_out[current, p] += acc_abs
                            square_out[current, p] += acc_square
                            current = k
                            acc_abs = 0.0
                            acc_square = 0.0
                        w = acc[r]
                        acc_abs += abs(w)
                        acc_square += w * w
                    abs_out[current, p] += acc_abs
                    square_out[current, p] += acc_square


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
set_sums, set_sums_parallel = jit_pair(_set_sums)
