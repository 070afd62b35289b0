"""The one timing helper of the benchmarks: the best of several calls."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeat: int, *, warmup: bool = False,
              clock: Callable[[], float] = time.perf_counter) -> tuple[float, Any]:
    """The smallest ``clock`` time of ``repeat`` calls of ``fn``, and the last result.

    Parameters
    ----------
    fn : callable
        Called with no arguments.
    repeat : int
        Timed calls.
    warmup : bool, default=False
        Make one untimed call first (numba's disk cache, first-touch page faults).
    clock : callable, default=time.perf_counter
        :func:`time.perf_counter` (wall) or :func:`time.process_time` (CPU time of
        every thread of the process).

    Returns
    -------
    tuple of (float, object)
    """
    if warmup:
        fn()
    best, out = float("inf"), None
    for _ in range(repeat):
        start = clock()
        out = fn()
        best = min(best, clock() - start)
    return best, out
