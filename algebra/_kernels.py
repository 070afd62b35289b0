"""Numba kernels of :mod:`algebra` (plain functions, never validate).

The public wrappers (:func:`algebra.evaluate_monomials`,
:meth:`algebra.PolynomialSet.evaluate`, ...) check shapes, dtypes and finiteness and
pass C-contiguous float64/int64 arrays; the kernels trust them.

Monomials are evaluated through the chain of an order ideal (``docs/design.md``):
term ``i`` is ``terms[parent[i]] * x[var[i]]`` with ``parent[i] < i``, and the
constant term has ``parent = -1``, so the whole order ideal costs one multiply per
monomial and row.

Threads: the row kernels are serial functions compiled with ``nogil=True`` that take
blocks of rows from a shared counter (:func:`take_block` over :func:`next_block`, one
atomic add) until none are left; :func:`algebra._threads.run_kernel` runs one copy on
the calling thread and one on each extra thread of the budget.  numba's own
``parallel=True`` was measured against this and lost on a busy machine: its OpenMP
threads spin at the end of every parallel region (40 % more CPU for the same Gram
matrix, taken from whatever else runs), and its ``prange`` splits the rows statically
(also with :func:`numba.set_parallel_chunksize` under the OpenMP layer), so one thread
whose core is busy held the whole kernel up.  Blocks handed out dynamically let such a
thread just do fewer of them, and idle Python threads sleep.

The fused kernels (:func:`eval_polys`, :func:`gram`) evaluate a block's monomials
transposed, ``T`` of shape (t, rows), one vectorised multiply per term, and contract
them while the block is in cache (:func:`gram` with one small BLAS ``gemm``,
:func:`eval_polys` with one vectorised multiply-add per nonzero coefficient): the (m, t)
monomial matrix is never formed.  :func:`~algebra._threads.run_kernel` keeps BLAS on
one thread meanwhile, so the kernel's threads never start BLAS threads.

The pruning score's :func:`set_sums` is written with ``prange`` instead, jitted
serially and with ``parallel=True`` by :func:`jit_pair`.
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import numba
import numpy as np
from numba import prange
from numba import types as nbtypes
from numba.core import cgutils
from numba.extending import intrinsic

__all__ = [
    "ROW_BLOCK",
    "block_rows",
    "chain_block",
    "eval_chain_grad",
    "eval_polys",
    "gram",
    "jit_pair",
    "next_block",
    "next_monomials",
    "set_sums",
    "set_sums_parallel",
    "take_block",
]

#: Rows per block of :func:`eval_chain_grad`.
ROW_BLOCK = 1024
#: Bytes of one block's transposed monomials ``T`` in the fused kernels: small enough to
#: stay in a core's L2 cache between the chain and the ``gemm`` that consumes it.
BLOCK_BYTES = 2**17


def block_rows(n_terms: int) -> int:
    """Rows per block of the fused kernels for ``n_terms`` monomials (32 to 2048)."""
    return int(min(2048, max(32, BLOCK_BYTES // (8 * max(1, n_terms)))))


@intrinsic
def next_block(typingctx: Any, counter: Any) -> Any:
    """``counter[0] += 1`` as one atomic instruction; returns the value before.

    The work queue of the kernels: each thread takes the next block index until the
    blocks run out (LLVM ``atomicrmw add``; monotonic ordering suffices, the counter
    orders nothing else).
    """
    if not (isinstance(counter, nbtypes.Array) and counter.dtype == nbtypes.int64):
        return None
    sig = nbtypes.int64(counter)

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        aryty = signature.args[0]
        ary = context.make_array(aryty)(context, builder, args[0])
        zero = context.get_constant(nbtypes.intp, 0)
        ptr = cgutils.get_item_pointer(context, builder, aryty, ary, [zero])
        one = context.get_constant(nbtypes.int64, 1)
        return builder.atomic_rmw("add", ptr, one, "monotonic")

    return sig, codegen


@numba.njit(cache=True, nogil=True)
def take_block(counter: np.ndarray, m: int, block: int) -> tuple[int, int]:
    """``(start, stop)`` of the next block of ``block`` rows, or ``(m, m)`` when none is left.

    The kernels' one work queue: each thread takes blocks from the shared ``counter``
    until it passes the last of the ``m`` rows, so the threads running a kernel together
    cover every block once, each as many as it gets to.  (A numba generator would read
    better but breaks numba's disk cache across functions.)
    """
    start = min(m, next_block(counter) * block)
    return start, min(m, start + block)


@numba.njit(cache=True, nogil=True)
def chain_block(X: np.ndarray, parent: np.ndarray, var: np.ndarray, start: int,
                XT: np.ndarray, T: np.ndarray) -> None:
    """``T[i, r]`` = monomial ``i`` at row ``start + r``: the block transposed (t, rows).

    The block's rows of ``X`` are first copied transposed into ``XT`` (n, ≥ rows), so
    every term is one multiply of two contiguous rows, which LLVM vectorises (reading
    the columns of ``X`` in place, a strided gather, was 2.5× slower).
    """
    rows = T.shape[1]
    for r in range(rows):
        for k in range(X.shape[1]):
            XT[k, r] = X[start + r, k]
    for i in range(parent.shape[0]):
        p = parent[i]
        row = T[i]
        if p < 0:
            for r in range(rows):
                row[r] = 1.0
        else:
            prev = T[p]
            x = XT[var[i]]
            for r in range(rows):
                row[r] = prev[r] * x[r]


@numba.njit(cache=True, nogil=True)
def next_monomials(counter: np.ndarray, X: np.ndarray, parent: np.ndarray, var: np.ndarray,
                   XT: np.ndarray, buf: np.ndarray) -> tuple[int, np.ndarray]:
    """Take the next block (:func:`take_block`) and evaluate its monomials.

    Returns ``(start, T)``: ``T`` (t, rows) holds the monomials of rows ``start`` to
    ``start + rows`` transposed (``buf`` itself for a full block of ``buf.shape[1]``
    rows), and ``rows == 0`` once the blocks are used up.
    """
    block = buf.shape[1]
    start, stop = take_block(counter, X.shape[0], block)
    rows = stop - start
    T = buf if rows == block else np.empty((buf.shape[0], rows))
    if rows > 0:
        chain_block(X, parent, var, start, XT, T)
    return start, T


@numba.njit(cache=True, nogil=True)
def eval_chain_grad(counter: np.ndarray, X: np.ndarray, parent: np.ndarray,
                    var: np.ndarray, mu: np.ndarray, dmu: np.ndarray) -> None:
    """Monomials ``mu`` (m, t) and their partial derivatives ``dmu`` (m, n, t).

    Product rule along the chain: for ``mu_i = mu_p * x_v``,
    ``d mu_i / d x_k = (d mu_p / d x_k) * x_v + [k == v] * mu_p``.
    """
    n = X.shape[1]
    while True:
        start, stop = take_block(counter, X.shape[0], ROW_BLOCK)
        if start == stop:
            break
        for r in range(start, stop):
            for i in range(parent.shape[0]):
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


@numba.njit(cache=True, nogil=True)
def eval_polys(counter: np.ndarray, X: np.ndarray, parent: np.ndarray, var: np.ndarray,
               indptr: np.ndarray, indices: np.ndarray, values: np.ndarray, absolute: bool,
               block: int, out: np.ndarray) -> None:
    """``out = μ(X) @ coef`` (m, p), or its absolute value, fused block by block.

    ``coef`` comes as the compressed rows of ``coefᵀ`` (polynomial ``j`` has the
    coefficients ``values[indptr[j]:indptr[j + 1]]`` on the terms ``indices[...]``), so
    the work is one multiply-add per nonzero coefficient and row: the generators of
    OAVI are sparse.  Each block of ``block`` rows is evaluated transposed into ``T``
    (t, rows), contracted into ``acc`` (p, rows) along contiguous rows (vectorised),
    and written to its rows of ``out`` once.
    """
    t = parent.shape[0]
    p = indptr.shape[0] - 1
    buf = np.empty((t, block))
    XT = np.empty((X.shape[1], block))
    acc = np.empty((p, block))
    while True:
        start, T = next_monomials(counter, X, parent, var, XT, buf)
        rows = T.shape[1]
        if rows == 0:
            break
        for j in range(p):
            a = acc[j]
            for r in range(rows):
                a[r] = 0.0
            for q in range(indptr[j], indptr[j + 1]):
                c = values[q]
                term = T[indices[q]]
                for r in range(rows):
                    a[r] += c * term[r]
        if absolute:
            for r in range(rows):
                for j in range(p):
                    out[start + r, j] = abs(acc[j, r])
        else:
            for r in range(rows):
                for j in range(p):
                    out[start + r, j] = acc[j, r]


@numba.njit(cache=True, nogil=True)
def gram(counter: np.ndarray, X: np.ndarray, parent: np.ndarray, var: np.ndarray, k: int,
         block: int, acc: np.ndarray) -> None:
    """``acc += A[:, k:]ᵀ A`` (t − k, t) over the blocks taken, for ``A = μ(X)`` (m, t).

    The border loop's Gram rows of the new terms against all terms, fused: each block's
    ``T`` (t, rows) adds ``T[k:] @ Tᵀ`` to ``acc``, this thread's partial sum (the
    caller adds the threads' sums).
    """
    t = parent.shape[0]
    buf = np.empty((t, block))
    XT = np.empty((X.shape[1], block))
    tmp = np.empty((t - k, t))
    while True:
        _, T = next_monomials(counter, X, parent, var, XT, buf)
        if T.shape[1] == 0:
            break
        np.dot(T[k:], T.T, tmp)
        acc += tmp


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
    one row per monomial (:func:`chain_block`), so that the multiply-adds run along
    contiguous rows (SIMD) and the block stays in cache, then every generator of its
    sets from the monomials it uses (one multiply-add per used monomial and row; no
    (rows × generators) matrix).
    Runs of equal segments (rows grouped by class make long ones) add up in registers
    before they reach the outputs. Tasks write disjoint columns and never wait for each
    other (one barrier in all, not one per block).
    """
    m = X.shape[0]
    t = parent.shape[0]
    for g in prange(group_ptr.shape[0] - 1):
        buf = np.empty((t, block))
        XT = np.empty((X.shape[1], block))
        acc = np.empty(block)
        for start in range(0, m, block):
            rows = min(block, m - start)
            mu = buf if rows == block else np.empty((t, rows))
            chain_block(X, parent, var, start, XT, mu)
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


set_sums, set_sums_parallel = jit_pair(_set_sums)
