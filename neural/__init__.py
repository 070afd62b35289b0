"""Truncate torch models at any layer, extract and preprocess their latent features.

``neural`` knows nothing of :mod:`algebra`.
"""

from neural._data import load_digits
from neural._errors import NeuralError
from neural._extract import extract_latents, load_shards, pool, save_shard
from neural._models import MODELS, build_model, digits_resnet, resnet18, resnet34
from neural._truncate import NodeInfo, list_nodes, truncate

__all__ = [
    "MODELS",
    "NeuralError",
    "NodeInfo",
    "build_model",
    "digits_resnet",
    "extract_latents",
    "list_nodes",
    "load_digits",
    "load_shards",
    "pool",
    "resnet18",
    "resnet34",
    "save_shard",
    "truncate",
]
