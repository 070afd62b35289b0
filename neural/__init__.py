"""Truncate torch models at any layer, extract and preprocess their latent features.

``neural`` knows nothing of :mod:`algebra`.
"""

from neural._errors import NeuralError

__all__ = ["NeuralError"]
