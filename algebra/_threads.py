"""One thread budget for :mod:`algebra`: its kernels' threads and the BLAS around them.

The kernels of :mod:`algebra._kernels` and the BLAS under numpy/scipy could each take
every core, and a fit alternates between them (kernels evaluate monomials, BLAS
contracts them and decides).  On a 2-core machine with other work running, the
10⁶-point OAVI fit then took 0.8–9.4 s against 0.2 s on one thread.  The budget fixes
what algebra may use:

- a kernel over many rows (:data:`PARALLEL_MIN_ROWS`) runs on ``threads`` threads: the
  calling one plus ``threads − 1`` from a pool of Python threads that sleep while idle
  (the kernels release the GIL), each taking blocks of rows from a shared counter until
  none are left, so a thread whose core is busy elsewhere just takes fewer blocks;
- BLAS and LAPACK run on one thread while a kernel runs (each thread's kernel calls
  ``gemm`` on its own block) and in the border loop's decisions on small matrices
  (:func:`single_threaded_blas`), so the two never hold more than ``threads`` busy
  threads together.

The default budget is every core this process may run on (:func:`os.sched_getaffinity`),
capped by ``NUMBA_NUM_THREADS`` (which joblib's process workers set to their share);
:func:`thread_budget` sets another for a block of code.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from typing import Any

import numba
import numpy as np
from threadpoolctl import ThreadpoolController

from algebra._validation import check_positive_int

__all__ = [
    "PARALLEL_MIN_ROWS",
    "available_cores",
    "budget",
    "kernel_threads",
    "run_kernel",
    "single_threaded_blas",
    "thread_budget",
]

#: Rows below which a kernel runs on the calling thread alone: handing work to another
#: thread costs tens of microseconds, more than evaluating a few thousand rows.
PARALLEL_MIN_ROWS = 20_000

#: The budget set by :func:`thread_budget` (``None``: the default, every available core).
_BUDGET: ContextVar[int | None] = ContextVar("algebra_thread_budget", default=None)

#: threadpoolctl's view of the loaded BLAS/OpenMP libraries, with the size of
#: ``sys.modules`` when it was taken.  Building it scans every loaded shared library
#: (10 ms, a third of a 10⁴-point ABM fit when it was done per degree); a native library
#: only arrives with an import, so the scan is redone only when ``sys.modules`` grew.
_CONTROLLER: list[tuple[int, ThreadpoolController]] = []

#: The pool of extra kernel threads (created on first use, for this process only).
_POOL: list[ThreadPoolExecutor] = []
_POOL_LOCK = threading.Lock()


def available_cores() -> int:
    """Cores this process may run on, capped by ``NUMBA_NUM_THREADS``.

    joblib's process workers set ``NUMBA_NUM_THREADS`` (with ``OMP_NUM_THREADS`` and the
    BLAS variables) to their share of the cores, so fits run ``n_jobs`` at a time do not
    each take every core; the variable is also the user's way to cap the default.
    """
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, numba.config.NUMBA_NUM_THREADS))


def budget() -> int:
    """The current budget: the innermost :func:`thread_budget`, else every core.

    Never more than the available cores: more threads than cores only wait for each other.
    """
    value = _BUDGET.get()
    cores = available_cores()
    return cores if value is None else min(value, cores)


def kernel_threads(rows: int) -> int:
    """Threads for a kernel over ``rows`` rows under the current budget (1: the caller)."""
    return 1 if rows < PARALLEL_MIN_ROWS else budget()


def _pool() -> ThreadPoolExecutor:
    with _POOL_LOCK:
        if not _POOL:
            _POOL.append(ThreadPoolExecutor(thread_name_prefix="algebra-kernel"))
        return _POOL[0]


def _forget_pool() -> None:
    # A forked child has the parent's pool object but none of its threads.
    _POOL.clear()


os.register_at_fork(after_in_child=_forget_pool)


def _controller() -> ThreadpoolController:
    n_modules = len(sys.modules)
    if not _CONTROLLER or _CONTROLLER[0][0] != n_modules:
        _CONTROLLER[:] = [(n_modules, ThreadpoolController())]
    return _CONTROLLER[0][1]


@contextlib.contextmanager
def single_threaded_blas() -> Iterator[None]:
    """A context in which BLAS/LAPACK (numpy's and scipy's) use one thread.

    For the small matrices of the border loop's decisions a multi-threaded BLAS only adds
    synchronisation (a 50× slower ``eigh`` on 2 busy cores), and inside a kernel every
    thread calls ``gemm`` on its own block.  Straight through threadpoolctl's library
    controllers (13 µs) rather than its ``limit`` (40 µs, which re-reads every library's
    state): the loop enters this once per degree.
    """
    libs = [lib for lib in _controller().lib_controllers if lib.user_api == "blas"]
    before = [lib.get_num_threads() for lib in libs]
    for lib in libs:
        lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, threads in zip(libs, before, strict=True):
            lib.set_num_threads(threads)


def run_kernel(kernel: Callable[..., None], rows: int, *args: Any,
               partial: tuple[int, ...] | None = None) -> np.ndarray | None:
    """Run a row kernel of :mod:`algebra._kernels` on ``rows`` rows under the budget.

    ``kernel(counter, *args)`` is called once per thread with one shared block counter;
    the threads together cover every block once.  With ``partial`` (a shape) each thread
    also gets its own zeroed array of that shape as the last argument, to accumulate
    into, and the sum of those arrays is returned.  With more than one thread, BLAS runs
    on one thread meanwhile.
    """
    threads = kernel_threads(rows)
    counter = np.zeros(1, dtype=np.int64)
    sums = None if partial is None else np.zeros((threads, *partial))
    calls = [args if sums is None else (*args, sums[i]) for i in range(threads)]
    # On one thread BLAS may use what the budget allows (thread_budget limits it).
    with single_threaded_blas() if threads > 1 else contextlib.nullcontext():
        futures = [_pool().submit(kernel, counter, *call) for call in calls[1:]]
        try:
            kernel(counter, *calls[0])
        finally:
            for future in futures:
                future.result()
    return None if sums is None else sums.sum(axis=0)


@contextlib.contextmanager
def thread_budget(threads: int | None) -> Iterator[None]:
    """Limit the threads of :mod:`algebra`'s computations inside a ``with`` block.

    Every fit, evaluation and transform of :mod:`algebra` run inside the block uses at
    most ``threads`` threads at a time, its kernels and BLAS together; BLAS and LAPACK
    calls made inside the block, the caller's own included, are limited to ``threads``
    too (with :mod:`threadpoolctl`).  Without a budget algebra uses every core this
    process may run on, handing blocks of rows to its threads as they come free, so a
    core busy with other work slows a kernel by its share only.  One thread is the
    steadiest choice when every core is busy, and the right one inside workers that
    already run in parallel (e.g. one fit per class in joblib's processes).  The budget
    belongs to the calling thread (a :class:`contextvars.ContextVar`); the default can
    also be capped for the whole process with the environment variable
    ``NUMBA_NUM_THREADS``, which joblib's process workers set to their share of the
    cores.

    Parameters
    ----------
    threads : int or None
        The most threads to use, ``>= 1`` (more than the available cores is capped to
        them); ``None`` restores the default (every available core).

    Yields
    ------
    None

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import fit_oavi, thread_budget
    >>> X = np.random.default_rng(0).uniform(-1, 1, (1000, 2))
    >>> with thread_budget(1):
    ...     G = fit_oavi(X, psi=0.01, max_degree=2)
    """
    if threads is not None:
        threads = check_positive_int(threads, "threads")
    token = _BUDGET.set(threads)
    try:
        if threads is None:
            yield
        else:
            with _controller().limit(limits=threads, user_api="blas"):
                yield
    finally:
        _BUDGET.reset(token)
