"""Latent features of a (truncated) model over a data set, in batches, and pooling.

Extraction runs once per data set in VI-Net (Pelleriti et al., ICML 2025, Sec. 4):
the frozen backbone's activations at the cut are pooled to one vector per sample
and everything after that (PCA, scaling, the vanishing-ideal fit) works on the
``(N, D)`` array. ``shard=(i, n)`` extracts the ``i``-th of ``n`` contiguous parts,
so many machines can each write one shard (:func:`save_shard`) and the fit reads
them back in order (:func:`load_shards`, or memory-mapped: :func:`open_shards`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset, IterableDataset, Subset

from neural._errors import NeuralError
from neural._shards import check_shard
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

#: The pooling modes of :func:`pool` and :func:`extract_latents`.
POOLINGS: tuple[str, ...] = ("avg", "max", "flatten", "grid")


def pool(tensor: torch.Tensor, mode: str = "avg", grid: int = 2) -> torch.Tensor:
    """Reduce a batch of activations to one vector per sample.

    Parameters
    ----------
    tensor : torch.Tensor of shape (N, C, H, W), (N, C, L) or (N, D)
        Activations; any trailing dimensions after ``C`` are spatial.
    mode : {"avg", "max", "flatten", "grid"}, default="avg"
        ``"avg"`` and ``"max"`` reduce over the spatial dimensions (global average or
        max pooling) giving ``(N, C)``; ``"flatten"`` keeps everything, giving
        ``(N, C * H * W)``; ``"grid"`` averages over ``grid`` cells per spatial
        dimension (adaptive average pooling: 2x2 cells of an image for ``grid=2``),
        giving ``(N, C * grid ** n_spatial)``: a coarse layout is kept, which the
        global average loses. An ``(N, D)`` input is returned as it is for every mode.
    grid : int, default=2
        Cells per spatial dimension of ``mode="grid"`` (ignored by the others).

    Returns
    -------
    torch.Tensor of shape (N, D)
    """
    if mode not in POOLINGS:
        raise NeuralError(f"pooling={mode!r} is not one of {POOLINGS}; pass one of them.")
    if mode == "grid" and not is_int(grid, 1):
        raise NeuralError(f"grid={grid!r} must be an integer >= 1 (cells per spatial "
                          "dimension); pass e.g. 2.")
    if not isinstance(tensor, torch.Tensor):
        raise NeuralError(
            f"pool expects a torch.Tensor, got {type(tensor).__name__}; cut the model at a "
            "node that outputs a single tensor."
        )
    if tensor.dim() < 2:
        raise NeuralError(
            f"pool expects activations of shape (N, D), (N, C, L) or (N, C, H, W), got shape "
            f"{tuple(tensor.shape)}; pass a batch with the sample dimension first."
        )
    if tensor.dim() == 2:
        return tensor
    if mode == "flatten":
        return tensor.flatten(1)
    if mode == "grid":
        if tensor.dim() > 5:
            raise NeuralError(
                f"pooling='grid' takes activations with 1 to 3 spatial dimensions, got shape "
                f"{tuple(tensor.shape)}; use pooling='avg'."
            )
        adaptive = (F.adaptive_avg_pool1d, F.adaptive_avg_pool2d,
                    F.adaptive_avg_pool3d)[tensor.dim() - 3]
        return adaptive(tensor, grid).flatten(1)
    spatial = tuple(range(2, tensor.dim()))
    return tensor.mean(dim=spatial) if mode == "avg" else tensor.amax(dim=spatial)


def shard_range(n_samples: int, shard: tuple[int, int] | None) -> range:
    """Indices of shard ``(i, n)`` of ``n_samples``: the ``i``-th of ``n`` contiguous parts.

    Parts differ in size by at most one sample and cover ``range(n_samples)`` in order,
    so concatenating shards ``0 .. n-1`` gives the unsharded order.
    """
    if shard is None:
        return range(n_samples)
    i, n = shard
    return range(i * n_samples // n, (i + 1) * n_samples // n)


def _batches(
    data: Any, batch_size: int, shard: tuple[int, int] | None
) -> tuple[Iterable[Any], int | None]:
    """Turn ``data`` into an iterable of batches and the number of samples (None if unknown)."""
    if isinstance(data, DataLoader):
        dataset = data.dataset
        if isinstance(dataset, IterableDataset) or not hasattr(dataset, "__len__"):
            if shard is not None:
                raise NeuralError(
                    "shard= needs a data set of known length, but the DataLoader wraps an "
                    "IterableDataset; shard the stream yourself or pass a map-style Dataset."
                )
            return data, None
        if shard is None:
            return data, len(dataset)
        idx = shard_range(len(dataset), shard)
        loader = DataLoader(
            Subset(dataset, idx),
            batch_size=data.batch_size or batch_size,
            collate_fn=data.collate_fn,
            num_workers=data.num_workers,
            pin_memory=data.pin_memory,
        )
        return loader, len(idx)
    if isinstance(data, Dataset) and hasattr(data, "__len__"):
        idx = shard_range(len(data), shard)
        subset = data if shard is None else Subset(data, idx)
        return DataLoader(subset, batch_size=batch_size, shuffle=False), len(idx)
    X, y = data, None
    if isinstance(data, (tuple, list)):
        if len(data) != 2:
            raise NeuralError(
                f"data given as a {type(data).__name__} must be (X, y), got {len(data)} items; "
                "pass X alone, (X, y), a Dataset or a DataLoader."
            )
        X, y = data
    if not isinstance(X, (torch.Tensor, np.ndarray)):
        raise NeuralError(
            f"data of type {type(X).__name__} is not supported; pass a tensor or array X, a "
            "tuple (X, y), a torch Dataset or a DataLoader."
        )
    X = torch.as_tensor(X)
    if y is not None:
        y = torch.as_tensor(np.asarray(y))
        if y.shape[:1] != X.shape[:1]:
            raise NeuralError(
                f"X has {X.shape[0]} samples but y has shape {tuple(y.shape)}; "
                "pass one label per sample."
            )
    idx = shard_range(X.shape[0], shard)

    def gen() -> Iterator[Any]:
        for start in range(idx.start, idx.stop, batch_size):
            stop = min(start + batch_size, idx.stop)
            yield X[start:stop] if y is None else (X[start:stop], y[start:stop])

    return gen(), len(idx)


def split_batch(batch: Any) -> tuple[torch.Tensor, Any]:
    """A batch of a DataLoader or Dataset as ``(X, y)``; ``y`` is None for bare tensors."""
    if isinstance(batch, torch.Tensor):
        return batch, None
    if isinstance(batch, (tuple, list)) and batch and isinstance(batch[0], torch.Tensor):
        return batch[0], (batch[1] if len(batch) > 1 else None)
    raise NeuralError(
        f"a batch of type {type(batch).__name__} is not supported; the data must yield "
        "tensors X or pairs (X, y)."
    )


def extract_latents(
    model: nn.Module,
    data: Any,
    *,
    pooling: str = "avg",
    grid: int = 2,
    batch_size: int = 256,
    device: str | torch.device | None = None,
    autocast: bool | torch.dtype = False,
    progress: bool | None = None,
    shard: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray | None]:
    """Run ``model`` over ``data`` and return one pooled feature vector per sample.

    The model runs in eval mode without gradients; the train/eval state of each of its
    modules is restored afterwards, and so is its device.

    Parameters
    ----------
    model : nn.Module
        Usually a truncated backbone (:func:`truncate`); its output per batch is
        ``(B, C, H, W)``, ``(B, C, L)`` or ``(B, D)``.
    data : DataLoader, Dataset, tensor, ndarray or tuple (X, y)
        Samples ``X`` of shape ``(N, ...)`` with optional labels ``y`` of shape ``(N,)``.
        Batches of a DataLoader or Dataset are tensors ``X`` or pairs ``(X, y)``.
        Floating input (float64 arrays, say) is cast to the model's floating dtype;
        integer input is passed as it is (convert 8-bit images yourself).
    pooling : {"avg", "max", "flatten", "grid"}, default="avg"
        How activations become vectors, see :func:`pool`.
    grid : int, default=2
        Cells per spatial dimension of ``pooling="grid"``, see :func:`pool`.
    batch_size : int, default=256
        Batch size for tensors and Datasets (a DataLoader keeps its own).
    device : str or torch.device, optional
        Where to run; default the model's device. CUDA without CUDA is an error.
    autocast : bool or torch.dtype, default=False
        Run under :func:`torch.autocast` (``True`` uses the device's default low
        precision dtype); the latents are returned as float32 regardless.
    progress : bool or None, default=None
        A tqdm progress bar: ``True`` shows it, ``False`` hides it, ``None`` shows it
        only when stderr is a terminal (not in a log file or a pipe).
    shard : tuple (i, n), optional
        Extract only the ``i``-th of ``n`` contiguous parts of the data (see
        :func:`save_shard` and :func:`load_shards`).

    Returns
    -------
    latents : ndarray of shape (N, D), float32
        Pooled activations, in the order of ``data``.
    labels : ndarray of shape (N,), int64, or None
        The labels if ``data`` has them.

    Raises
    ------
    NeuralError
        For unsupported data, a bad ``pooling`` or ``shard``, a CUDA request without
        CUDA, or an input shape the model does not accept (naming the expected shape).
    """
    if pooling not in POOLINGS:
        raise NeuralError(f"pooling={pooling!r} is not one of {POOLINGS}; pass one of them.")
    check_module(model)
    if not is_int(batch_size, 1):
        raise NeuralError(f"batch_size={batch_size!r} must be a positive integer; pass e.g. 256.")
    batch_size = int(batch_size)
    shard = check_shard(shard)
    home = resolve_device(None, model)
    dev = resolve_device(device, model)
    batches, n = _batches(data, batch_size, shard)
    states = [(m, m.training) for m in model.modules()]
    dtype = model_dtype(model)
    if isinstance(autocast, torch.dtype):
        amp = torch.autocast(dev.type, dtype=autocast)
    else:
        amp = torch.autocast(dev.type, enabled=bool(autocast))
    latents: np.ndarray | None = None
    labels: np.ndarray | None = None
    chunks: list[tuple[np.ndarray, np.ndarray | None]] = []  # only for data of unknown length
    pos = 0
    try:
        model.to(dev).eval()
        with (
            torch.no_grad(),
            amp,
            progress_bar(total=n, progress=progress, desc="extract", unit="img",
                         leave=False) as bar,
        ):
            for batch in batches:
                x, y = split_batch(batch)
                try:
                    out = model(to_model_input(x, dev, dtype))
                except INPUT_ERRORS as exc:
                    raise shape_error(model, x.shape, exc, "a batch of data", x.dtype) from exc
                feats = pool(out, pooling, grid).float().cpu().numpy()
                lab = (
                    None
                    if y is None
                    else np.asarray(torch.as_tensor(y).cpu(), dtype=np.int64).reshape(-1)
                )
                b = feats.shape[0]
                if n is None:
                    chunks.append((feats, lab))
                else:
                    if pos + b > n:
                        raise NeuralError(
                            f"data yielded more than its length {n} samples; make the "
                            "Dataset's __len__ match what it yields."
                        )
                    if latents is None:  # the width is known after the first batch
                        latents = np.empty((n, feats.shape[1]), dtype=np.float32)
                        labels = None if lab is None else np.empty(n, dtype=np.int64)
                    latents[pos : pos + b] = feats
                    if labels is not None and lab is not None:
                        labels[pos : pos + b] = lab
                pos += b
                bar.update(b)
    finally:
        model.to(home)
        for m, training in states:
            m.training = training
    if n is None:
        if not chunks:
            raise NeuralError("data is empty: it yielded no batches; pass at least one sample.")
        latents = np.concatenate([c[0] for c in chunks])
        labels = None if chunks[0][1] is None else np.concatenate([c[1] for c in chunks])
    if latents is None:
        raise NeuralError("data is empty (or its shard is): pass at least one sample per shard.")
    # A DataLoader with drop_last=True yields fewer samples than its dataset holds.
    if n is not None and pos < n:
        latents = latents[:pos]
        labels = None if labels is None else labels[:pos]
    return latents, labels
