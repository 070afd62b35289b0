"""Compile vanishing-ideal generators into torch layers, assemble VI-Net, the ``vinet`` CLI."""

from bridge._auto import SEARCH_SPACE, tune_vinet
from bridge._baselines import linear_probe, mlp_head_baseline, random_monomial_baseline
from bridge._build import build_vinet
from bridge._config import VINetConfig
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._vinet import VINet, evaluate_model
from vinet import VinetError

__all__ = [
    "SEARCH_SPACE",
    "BridgeError",
    "PolynomialLayer",
    "VINet",
    "VINetConfig",
    "VinetError",
    "build_vinet",
    "evaluate_model",
    "linear_probe",
    "mlp_head_baseline",
    "random_monomial_baseline",
    "tune_vinet",
]
