"""Compile vanishing-ideal generators into torch layers, assemble VI-Net, the ``vinet`` CLI."""

from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer

__all__ = ["BridgeError", "PolynomialLayer"]
