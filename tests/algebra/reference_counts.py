"""The cases of ``test_reference_counts.py`` and the script that stored their answers.

The OAVI authors' reference code (Wirth & Pokutta's CGAVI repository) was run once on
each case's data and its generators per degree were saved in
``reference_counts.json`` beside this file; the test regenerates the same data from the
seed and checks that vinet finds the same numbers and the same leading terms, with no
need for the reference.
Two conventions differ between the codes (``docs/concepts.md``): the reference's
``deglex`` ranks the *last* variable highest (vinet's ranks ``x0`` highest), so the
reference gets the columns reversed; and its OAVI bound is ``tau = 1000`` where vinet's
default is ``(3/2)^D``, so vinet is given ``tau=1000``.

Regenerate (needs the reference and a NumPy < 2 interpreter for it)::

    VINET_REFERENCE_PYTHON=/path/to/python VINET_REFERENCE_SRC=/path/to/CGAVI \\
        python -m tests.algebra.reference_counts
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

STORE = Path(__file__).with_name("reference_counts.json")

#: name -> (data, psi, max_degree, vinet's method and arguments, the reference's).
#: Chosen with margin: in each case every generator has mean square at most 0.8 psi and
#: every other border term's least-squares lower bound is at least 1.25 psi (checked
#: when the cases were made), so no decision hangs on an oracle's stopping rule or on
#: the last bits of a BLAS.
CASES = {
    "cubic-oavi-cg": ("twisted cubic", 1e-3, 4, ("oavi", {"oracle": "cg", "ihb": "none"}),
                      ("oavi", {"oracle_type": "CG"})),
    "cubic-oavi-bpcg-weak": ("twisted cubic", 1e-3, 4,
                             ("oavi", {"oracle": "bpcg", "ihb": "weak"}),
                             ("oavi", {"oracle_type": "BPCG",
                                       "inverse_hessian_boost": "weak"})),
    "cubic-abm": ("twisted cubic", 1e-3, 4, ("abm", {}), ("abm", {})),
    "sphere-oavi-cg": ("sphere", 1e-3, 4, ("oavi", {"oracle": "cg", "ihb": "none"}),
                       ("oavi", {"oracle_type": "CG"})),
    "sphere-abm": ("sphere", 3e-4, 4, ("abm", {}), ("abm", {})),
    "torus-oavi-bpcg-weak": ("torus", 1e-3, 4, ("oavi", {"oracle": "bpcg", "ihb": "weak"}),
                             ("oavi", {"oracle_type": "BPCG",
                                       "inverse_hessian_boost": "weak"})),
    "torus-abm": ("torus", 3e-4, 4, ("abm", {}), ("abm", {})),
}


def dataset(name: str, m: int = 400, seed: int = 0) -> np.ndarray:
    """Noisy points (Gaussian noise 0.005) of a variety, scaled axis by axis to [0, 1]."""
    rng = np.random.default_rng(seed)
    if name == "twisted cubic":
        t = rng.uniform(-1, 1, m)
        P = np.column_stack([t, t**2, t**3])
    elif name == "sphere":
        P = rng.normal(size=(m, 3))
        P /= np.linalg.norm(P, axis=1, keepdims=True)
    elif name == "torus":
        theta, phi = rng.uniform(0, 2 * np.pi, (2, m))
        ring = 1 + 0.5 * np.cos(phi)
        P = np.column_stack([ring * np.cos(theta), ring * np.sin(theta), 0.5 * np.sin(phi)])
    else:
        raise ValueError(f"unknown data set {name!r}")
    P = P + rng.normal(scale=0.005, size=P.shape)
    low, high = P.min(axis=0), P.max(axis=0)
    return np.ascontiguousarray((P - low) / (high - low))


def main() -> None:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
    from _reference import Reference

    reference = Reference(threads=1)
    if not reference.active:
        raise SystemExit("set VINET_REFERENCE_PYTHON and VINET_REFERENCE_SRC first")
    stored = {}
    try:
        for name, (data, psi, degree, _, (method, params)) in CASES.items():
            X = dataset(data)
            tau = {"tau": 1000} if method == "oavi" else {}
            answer = reference.fit(np.ascontiguousarray(X[:, ::-1]), method, psi, degree,
                                   **params, **tau)
            per_degree = answer["generators_per_degree"]  # degrees 1, 2, ...
            # Its exponents are of the reversed columns: reverse them back.
            leading = sorted(row[::-1] for row in answer["leading_terms"])
            stored[name] = {"generators_per_degree": per_degree,
                            "order_ideal": len(answer["order_ideal"]),
                            "leading_terms": leading}
            print(name, per_degree, len(answer["order_ideal"]))
    finally:
        reference.close()
    STORE.write_text(json.dumps(stored) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
