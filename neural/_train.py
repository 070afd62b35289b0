"""A baseline trainer, the cached pretrained digits model, and classification accuracy."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from neural._data import DIGITS_RANDOM_STATE, DIGITS_TEST_SIZE, load_digits
from neural._errors import NeuralError
from neural._extract import extract_latents, split_batch
from neural._models import build_model
from neural._util import (
    INPUT_ERRORS,
    check_module,
    is_int,
    model_dtype,
    progress_bar,
    resolve_device,
    shape_error,
    to_model_input,
)

#: Architecture and training recipe of :func:`pretrained_digits_model`; the cache file
#: name is a hash of it, so changing any entry trains and caches a new model.
DIGITS_RECIPE: dict[str, Any] = {
    "arch": "digits_resnet",
    "model": {"num_classes": 10, "in_channels": 1, "widths": [16, 32, 64], "blocks": [1, 1, 1]},
    "train": {"epochs": 10, "batch_size": 128, "lr": 0.01, "weight_decay": 0.0005, "seed": 0},
    "data": {"test_size": DIGITS_TEST_SIZE, "random_state": DIGITS_RANDOM_STATE},
}


def train_classifier(
    model: nn.Module,
    data: Any,
    *,
    epochs: int = 10,
    batch_size: int = 64,
    lr: float = 1e-3,
    weight_decay: float = 5e-4,
    seed: int = 0,
    device: str | torch.device | None = None,
    progress: bool | None = None,
    num_threads: int | None = None,
) -> nn.Module:
    """Train ``model`` with cross-entropy: AdamW with a cosine learning-rate decay.

    A plain, reproducible baseline: the shuffling order comes from a generator seeded
    with ``seed``, so two runs from the same initial weights give the same model.

    Parameters
    ----------
    model : nn.Module
        A classifier mapping ``(B, ...)`` inputs to ``(B, n_classes)`` logits; trained
        in place.
    data : tuple (X, y), Dataset or DataLoader
        Training samples ``(N, ...)`` with int64 labels ``(N,)``.
    epochs : int, default=10
        Passes over the training data.
    batch_size : int, default=64
        Ignored for a DataLoader, which keeps its own batching.
    lr : float, default=1e-3
        Peak learning rate of AdamW.
    weight_decay : float, default=5e-4
        AdamW's decoupled weight decay.
    seed : int, default=0
        Seeds the shuffling.
    device : str or torch.device, optional
        Default: the model's device.
    progress : bool or None, default=None
        A tqdm progress bar over the epochs with the running loss: ``True`` shows it,
        ``False`` hides it, ``None`` shows it only when stderr is a terminal.
    num_threads : int, optional
        CPU threads for torch during training (restored afterwards); default: leave
        torch's setting alone. One thread is fastest for small models: their
        convolutions are too small to split, and on shared cores the threads of
        several processes wait on each other (10x slower training measured with
        two threads on two busy cores).

    Returns
    -------
    nn.Module
        ``model``, trained and switched to eval mode.
    """
    check_module(model)
    for name, value in (("epochs", epochs), ("batch_size", batch_size)):
        if not is_int(value, 1):
            raise NeuralError(f"{name}={value!r} must be a positive integer; pass e.g. 10.")
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise NeuralError(f"lr={lr!r} must be a positive number; pass e.g. 1e-3.")
    dev = resolve_device(device, model)
    model.to(dev)
    if isinstance(data, torch.utils.data.DataLoader):
        loader = data
    else:
        if isinstance(data, (tuple, list)) and len(data) == 2:
            data = torch.utils.data.TensorDataset(
                torch.as_tensor(data[0]), torch.as_tensor(data[1])
            )
        if not isinstance(data, torch.utils.data.Dataset):
            raise NeuralError(
                f"data of type {type(data).__name__} is not supported; pass (X, y), a "
                "Dataset or a DataLoader of (X, y) batches."
            )
        generator = torch.Generator().manual_seed(seed)
        loader = torch.utils.data.DataLoader(
            data, batch_size=batch_size, shuffle=True, generator=generator
        )
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    threads = torch.get_num_threads()
    if num_threads is not None:
        torch.set_num_threads(num_threads)
    try:
        _fit(model, loader, opt, sched, epochs, dev, progress)
    finally:
        torch.set_num_threads(threads)
    return model.eval()


def _fit(
    model: nn.Module,
    loader: torch.utils.data.DataLoader,
    opt: torch.optim.Optimizer,
    sched: torch.optim.lr_scheduler.LRScheduler,
    epochs: int,
    dev: torch.device,
    progress: bool | None,
) -> None:
    """The epoch loop of :func:`train_classifier`."""
    model.train()
    dtype = model_dtype(model)
    bar = progress_bar(range(epochs), progress=progress, desc="train", unit="epoch",
                       leave=False)
    for _ in bar:
        total, count = 0.0, 0
        for batch in loader:
            x, y = split_batch(batch)
            if y is None:
                raise NeuralError("train_classifier needs labels: the data yields X without y.")
            y = torch.as_tensor(y)
            if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool:
                raise NeuralError(
                    f"labels must be integer class indices, got dtype {y.dtype}; pass "
                    "y.long() (cross-entropy takes class indices 0 .. n_classes - 1)."
                )
            x, y = to_model_input(x, dev, dtype), y.to(dev)
            try:
                logits = model(x)
            except INPUT_ERRORS as exc:
                raise shape_error(model, x.shape, exc, "a batch of data", x.dtype) from exc
            loss = F.cross_entropy(logits, y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total += float(loss.detach()) * len(y)
            count += len(y)
        bar.set_postfix(loss=f"{total / max(count, 1):.4f}")


def accuracy(
    model: nn.Module,
    data: Any,
    *,
    batch_size: int = 256,
    device: str | torch.device | None = None,
) -> float:
    """Share of samples whose arg-max logit is the label.

    Parameters
    ----------
    model : nn.Module
        Maps ``(B, ...)`` to logits ``(B, n_classes)``.
    data : tuple (X, y), Dataset or DataLoader
        Labelled samples, as for :func:`extract_latents`.
    batch_size : int, default=256
        Samples per forward pass (ignored for a DataLoader, which keeps its own).
    device : str or torch.device, optional
        Where the forward passes run; default: the model's device.

    Returns
    -------
    float
        Accuracy in ``[0, 1]``.
    """
    logits, labels = extract_latents(
        model, data, pooling="flatten", batch_size=batch_size, device=device, progress=False
    )
    if labels is None:
        raise NeuralError("accuracy needs labels: pass (X, y) or data that yields (X, y) batches.")
    return float(np.mean(logits.argmax(axis=1) == labels))


def cache_dir() -> Path:
    """The vinet cache folder (of the cached digits model).

    Returns
    -------
    pathlib.Path
        ``$VINET_CACHE_DIR``, else ``$XDG_CACHE_HOME/vinet``, else ``~/.cache/vinet``;
        it need not exist yet.
    """
    if os.environ.get("VINET_CACHE_DIR"):
        return Path(os.environ["VINET_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "vinet"
    return Path.home() / ".cache" / "vinet"


# The parameter ``cache_dir`` of pretrained_digits_model shadows the function.
_user_cache_dir = cache_dir


def _recipe_path(folder: Path, recipe: dict[str, Any]) -> Path:
    key = json.dumps(recipe, sort_keys=True)
    digest = hashlib.sha256(f"{key}|torch={torch.__version__.split('+')[0]}".encode()).hexdigest()
    return folder / f"{recipe['arch']}-{digest[:12]}.pt"


def pretrained_digits_model(
    fresh: bool = False,
    cache_dir: str | os.PathLike | None = None,
    *,
    progress: bool = False,
    seed: int | None = None,
) -> nn.Module:
    """The :func:`digits_resnet` trained on the bundled digits, cached on disk.

    The first call trains it (the recipe ``DIGITS_RECIPE``: 10 epochs, seed 0, 5-15 s on
    two CPU cores) and saves the weights as
    ``<cache>/digits_resnet-<hash of the recipe>.pt``; later calls load that file.
    Another ``seed`` trains (and caches) another network of the same recipe: ``vinet
    demo`` averages over several.

    Parameters
    ----------
    fresh : bool, default=False
        Retrain and overwrite the cached weights.
    cache_dir : path, optional
        Where to cache; default :func:`cache_dir` (``$VINET_CACHE_DIR``, else
        ``$XDG_CACHE_HOME/vinet``, else ``~/.cache/vinet``).
    progress : bool, default=False
        Show the training progress bar.
    seed : int, optional
        Seed of the initial weights and the shuffling; default the recipe's (0).

    Returns
    -------
    nn.Module
        The trained model in eval mode on the CPU: input ``(N, 1, 8, 8)`` in ``[0, 1]``,
        output ``(N, 10)`` logits.
    """
    folder = Path(cache_dir) if cache_dir is not None else _user_cache_dir()
    recipe = DIGITS_RECIPE
    if seed is not None and seed != DIGITS_RECIPE["train"]["seed"]:
        if not is_int(seed, 0):
            raise NeuralError(f"seed={seed!r} must be an integer >= 0; pass e.g. 1.")
        recipe = {**DIGITS_RECIPE, "train": {**DIGITS_RECIPE["train"], "seed": int(seed)}}
    path = _recipe_path(folder, recipe)
    model_kwargs = {
        k: tuple(v) if isinstance(v, list) else v for k, v in DIGITS_RECIPE["model"].items()
    }
    if path.exists() and not fresh:
        model = build_model(DIGITS_RECIPE["arch"], **model_kwargs)
        state = torch.load(path, map_location="cpu", weights_only=True)
        model.load_state_dict(state["state_dict"])
        return model.eval()
    hp = recipe["train"]
    # Seed the initial weights without disturbing the caller's global RNG stream.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(hp["seed"])
        model = build_model(DIGITS_RECIPE["arch"], **model_kwargs)
    train_classifier(
        model, load_digits("train"), progress=progress, device="cpu", num_threads=1, **hp
    )
    payload = {
        "arch": DIGITS_RECIPE["arch"],
        "recipe": json.dumps(recipe, sort_keys=True),
        "state_dict": model.state_dict(),
        "test_accuracy": accuracy(model, load_digits("test")),
    }
    folder.mkdir(parents=True, exist_ok=True)
    # Write then rename: parallel processes (pytest-xdist, several CLI runs) never
    # read a half-written file.
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    torch.save(payload, tmp)
    os.replace(tmp, path)
    return model
