"""Truncate torch models at any layer, extract and preprocess their latent features.

``neural`` knows nothing of :mod:`algebra`.
"""

from neural._data import load_digits
from neural._errors import NeuralError
from neural._extract import POOLINGS, extract_latents, pool
from neural._io import load_model, load_module
from neural._measure import ParameterCount, Throughput, count_parameters, throughput
from neural._models import (
    MLP,
    MODELS,
    CNN1d,
    build_model,
    cnn1d,
    digits_resnet,
    mlp,
    resnet18,
    resnet34,
)
from neural._preprocess import (
    PCA,
    SCALERS,
    SCALINGS,
    MinMaxScale,
    Standardize,
    TanhScale,
    make_preprocessing,
)
from neural._shards import SHARD_FORMAT, Shard, load_shards, open_shards, save_shard
from neural._train import (
    DIGITS_RECIPE,
    accuracy,
    cache_dir,
    pretrained_digits_model,
    train_classifier,
)
from neural._truncate import NodeInfo, list_nodes, truncate
from neural._util import progress_bar
from vinet import VinetError

__all__ = [
    "DIGITS_RECIPE",
    "MLP",
    "MODELS",
    "PCA",
    "POOLINGS",
    "SCALERS",
    "SCALINGS",
    "SHARD_FORMAT",
    "CNN1d",
    "MinMaxScale",
    "NeuralError",
    "NodeInfo",
    "ParameterCount",
    "Shard",
    "Standardize",
    "TanhScale",
    "Throughput",
    "VinetError",
    "accuracy",
    "build_model",
    "cache_dir",
    "cnn1d",
    "count_parameters",
    "digits_resnet",
    "extract_latents",
    "list_nodes",
    "load_digits",
    "load_model",
    "load_module",
    "load_shards",
    "make_preprocessing",
    "mlp",
    "open_shards",
    "pool",
    "pretrained_digits_model",
    "progress_bar",
    "resnet18",
    "resnet34",
    "save_shard",
    "throughput",
    "train_classifier",
    "truncate",
]
