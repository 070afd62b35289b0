"""Compile vanishing-ideal generators into torch layers, assemble VI-Net, the ``vinet`` CLI.

The public names are imported on first use (PEP 562 module ``__getattr__``): importing
:mod:`bridge` alone, as the ``vinet`` command does for ``vinet --help``, imports neither
torch nor numba, scikit-learn, sympy or scipy; ``bridge.VINet`` or ``from bridge import
VINet`` imports what that name needs.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from vinet import VinetError

if TYPE_CHECKING:  # for type checkers and readers; at run time __getattr__ imports them
    from bridge._auto import SEARCH_SPACE, tune_vinet
    from bridge._baselines import linear_probe, mlp_head_baseline, random_monomial_baseline
    from bridge._build import build_vinet
    from bridge._compare import acceptance, compare_cuts, format_table
    from bridge._config import VINetConfig
    from bridge._errors import BridgeError
    from bridge._layer import PolynomialLayer
    from bridge._shards import build_vinet_from_shards
    from bridge._vinet import VINet, evaluate_model

#: Public name -> the private module that defines it.
_MODULES = {
    "SEARCH_SPACE": "bridge._auto",
    "BridgeError": "bridge._errors",
    "PolynomialLayer": "bridge._layer",
    "VINet": "bridge._vinet",
    "VINetConfig": "bridge._config",
    "acceptance": "bridge._compare",
    "compare_cuts": "bridge._compare",
    "format_table": "bridge._compare",
    "build_vinet": "bridge._build",
    "build_vinet_from_shards": "bridge._shards",
    "evaluate_model": "bridge._vinet",
    "linear_probe": "bridge._baselines",
    "mlp_head_baseline": "bridge._baselines",
    "random_monomial_baseline": "bridge._baselines",
    "tune_vinet": "bridge._auto",
}

__all__ = [
    "SEARCH_SPACE",
    "BridgeError",
    "PolynomialLayer",
    "VINet",
    "VINetConfig",
    "VinetError",
    "acceptance",
    "build_vinet",
    "build_vinet_from_shards",
    "compare_cuts",
    "evaluate_model",
    "format_table",
    "linear_probe",
    "mlp_head_baseline",
    "random_monomial_baseline",
    "tune_vinet",
]


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'bridge' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
