"""Compile vanishing-ideal generators into torch layers, assemble VI-Net, the ``vinet`` CLI."""

from bridge._baselines import linear_probe, random_monomial_baseline
from bridge._build import build_vinet
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._vinet import VINet, evaluate_model
from vinet import VinetError

__all__ = [
    "BridgeError",
    "PolynomialLayer",
    "VINet",
    "VinetError",
    "build_vinet",
    "evaluate_model",
    "linear_probe",
    "random_monomial_baseline",
]
