"""The OAVI authors' reference code (Wirth & Pokutta's CGAVI repository), in a subprocess.

The reference needs NumPy < 2 (and ``cupy`` aliased to numpy), so it runs in its own
interpreter, named by two environment variables::

    VINET_REFERENCE_PYTHON=/path/to/python   # an environment with NumPy < 2
    VINET_REFERENCE_SRC=/path/to/CGAVI       # the repository's root (holds src/)

Without them :class:`Reference` is inactive (:attr:`Reference.active` is false, every
fit returns ``None``) and the benchmarks leave the reference columns empty.  Nothing of
the reference is copied into vinet: the subprocess imports it from
``VINET_REFERENCE_SRC``.

Each fit is one JSON command on the subprocess's stdin (the data goes through a
``.npy`` file) and one JSON answer on its stdout: the fit's wall time measured inside
the subprocess, and what it found (generators per degree, leading terms, ``|O|``).
Callers alternate vinet's fits with these, so both sides see the same machine load.

Conventions of the reference (see ``docs/concepts.md``): its loop runs while
``degree < max_degree``, so vinet's ``max_degree = D`` is its ``D + 1``
(:meth:`Reference.fit` adds the one); its ``deglex`` ranks the *last* variable highest,
vinet's ranks ``x0`` highest; its OAVI default ``tau`` is 1000.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

#: The subprocess's side: one command per line, one answer per line.
DRIVER = r"""
import json, sys, time, warnings
warnings.filterwarnings("ignore")
sys.path.insert(0, sys.argv[1])
import numpy as np
from src.feature_transformations.oracle_avi import OracleAVI
from src.feature_transformations.vca import VCA

def as_list(a):
    return [] if a is None else np.asarray(a).T.astype(int).tolist()

for line in sys.stdin:
    cmd = json.loads(line)
    X = np.load(cmd["path"])
    params = cmd.get("params", {})
    t0 = time.perf_counter()
    if cmd["method"] == "vca":
        Z, sets = VCA(psi=cmd["psi"], max_degree=cmd["max_degree"], **params).fit(X)
    else:
        oracle = "ABM" if cmd["method"] == "abm" else params.pop("oracle_type", "CG")
        est = OracleAVI(psi=cmd["psi"], max_degree=cmd["max_degree"], oracle_type=oracle,
                        **params)
        Z, sets = est.fit(X)
    seconds = time.perf_counter() - t0
    answer = {"seconds": seconds}
    if cmd["method"] == "vca":  # entry d: degree d + 1
        per_degree = [0 if V is None else int(V.shape[1]) for V in sets.V_coefficient_vectors]
    else:  # entry d: degree d, and degree 0 never has one
        per_degree = [0 if G is None else int(np.asarray(G).shape[1])
                      for G in sets.G_coefficient_vectors][1:]
        answer["leading_terms"] = as_list(sets.leading_terms)
        answer["order_ideal"] = as_list(sets.O_array_terms)
    answer["generators_per_degree"] = per_degree
    answer["generators"] = int(sum(per_degree))
    answer["max_degree"] = max((d + 1 for d, c in enumerate(per_degree) if c), default=0)
    answer["train_mse_max"] = None if Z is None else float((Z**2).mean(axis=0).max())
    print(json.dumps(answer), flush=True)
"""


class Reference:
    """The reference OAVI / ABM / VCA in a subprocess, inactive without the environment.

    Parameters
    ----------
    threads : int
        BLAS threads of the subprocess (``OPENBLAS_NUM_THREADS`` and friends), to match
        the thread budget vinet is timed with.
    """

    def __init__(self, threads: int = 1) -> None:
        python = os.environ.get("VINET_REFERENCE_PYTHON")
        src = os.environ.get("VINET_REFERENCE_SRC")
        self.proc: subprocess.Popen[str] | None = None
        self.tmp = tempfile.TemporaryDirectory()
        self.path = Path(self.tmp.name) / "X.npy"
        if python and src:
            env = {**os.environ, **{k: str(threads) for k in (
                "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}}
            self.proc = subprocess.Popen([python, "-c", DRIVER, src], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, text=True, env=env)

    @property
    def active(self) -> bool:
        """Whether the environment names the reference (else every fit is ``None``)."""
        return self.proc is not None

    def fit(self, X: np.ndarray, method: str, psi: float, max_degree: int,
            **params: Any) -> dict[str, Any] | None:
        """Fit the reference on ``X``; ``max_degree`` in vinet's meaning (≤ D).

        ``method`` is ``"abm"``, ``"oavi"`` (its ``OracleAVI``; pass ``oracle_type``,
        ``inverse_hessian_boost``, ``tau`` ... as ``params``) or ``"vca"``.  Returns the
        answer dict (``seconds``, ``generators``, ``generators_per_degree`` from degree 1
        on, ``max_degree`` of a generator, ``train_mse_max`` (the largest mean square of
        a generator on ``X``) and, for OAVI/ABM, ``leading_terms`` and ``order_ideal`` as
        exponent lists), or ``None`` when inactive.
        """
        if self.proc is None:
            return None
        assert self.proc.stdin is not None and self.proc.stdout is not None
        np.save(self.path, X)  # outside the timed region, which is inside the subprocess
        cmd = {"path": str(self.path), "method": method, "psi": psi,
               "max_degree": max_degree + 1, "params": params}
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()
        answer = self.proc.stdout.readline()
        if not answer:
            raise RuntimeError("the reference process died; run its DRIVER by hand to see why")
        return json.loads(answer)

    def close(self) -> None:
        """End the subprocess and remove the data file."""
        if self.proc is not None and self.proc.stdin is not None:
            self.proc.stdin.close()
            self.proc.wait()
        self.tmp.cleanup()
