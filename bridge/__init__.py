"""Compile vanishing-ideal generators into torch layers, assemble VI-Net, the ``vinet`` CLI."""

from bridge._errors import BridgeError

__all__ = ["BridgeError"]
