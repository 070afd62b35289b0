"""Parameter counts and inference throughput, measured the same way for every model."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from neural._errors import NeuralError
from neural._util import INPUT_ERRORS, check_module, is_int, resolve_device, shape_error


class ParameterCount(NamedTuple):
    """Result of :func:`count_parameters`.

    Attributes
    ----------
    total : int
        The values inference needs: every parameter and every floating-point buffer
        of the state dict (batch-norm running statistics, fitted preprocessing), a
        tensor shared by several modules counted once. Integer and boolean buffers
        (indices, the monomial chain of a polynomial layer, ``num_batches_tracked``)
        are structure, not values, and are not counted; nor are non-persistent
        buffers (derived caches). A polynomial layer so counts its nonzero
        coefficients. This is the one parameter count of vinet (``docs/concepts.md``).
    trainable : int
        The parameters with ``requires_grad``.
    per_block : dict of str to int
        ``total`` of each top-level child, in registration order; values held by the
        model itself (not by a child) appear under ``"(own)"``.
    """

    total: int
    trainable: int
    per_block: dict[str, int]


def _numel(params: Sequence[nn.Parameter]) -> int:
    return int(sum(p.numel() for p in params))


def _values(tensors: dict[str, torch.Tensor]) -> list[torch.Tensor]:
    """The floating-point tensors of a state dict, each storage counted once."""
    seen: set[tuple[int, int, tuple[int, ...]]] = set()
    out = []
    for t in tensors.values():
        if not (t.is_floating_point() or t.is_complex()):
            continue
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape))
        if key not in seen:
            seen.add(key)
            out.append(t)
    return out


def count_parameters(model: nn.Module) -> ParameterCount:
    """Count the values ``model`` needs at inference: total, trainable and per block.

    Parameters
    ----------
    model : nn.Module
        Any module; a tensor shared by several submodules counts once.

    Returns
    -------
    ParameterCount
        ``(total, trainable, per_block)``; ``total`` is the number of floating-point
        values of ``model.state_dict()`` (parameters and persistent floating buffers),
        so it equals what :func:`torch.save` of the state dict stores as numbers.
    """
    check_module(model)
    params = list(model.parameters())  # deduplicated by identity, like the optimiser sees them
    per_block: dict[str, int] = {}
    own = {**dict(model.named_parameters(recurse=False)),
           **{k: b for k, b in model.named_buffers(recurse=False)
              if k not in model._non_persistent_buffers_set}}
    if own:
        per_block["(own)"] = _numel(_values(own))
    for name, child in model.named_children():
        per_block[name] = _numel(_values(child.state_dict(keep_vars=True)))
    total = _numel(_values(model.state_dict(keep_vars=True)))
    return ParameterCount(total, _numel([p for p in params if p.requires_grad]), per_block)


class Throughput(NamedTuple):
    """Result of :func:`throughput`, in images (samples) per second.

    Attributes
    ----------
    median : float
        Median over the timed repeats.
    iqr : float
        Interquartile range (75th minus 25th percentile) over the repeats: the spread.
    min, max : float
        Slowest and fastest repeat.
    batch_size, repeats : int
        The batch size and the number of timed passes measured.
    device : str
        Where the passes ran, e.g. ``"cpu"`` or ``"cuda:0"``.
    """

    median: float
    iqr: float
    min: float
    max: float
    batch_size: int
    repeats: int
    device: str


def throughput(
    model: nn.Module,
    input_shape: Sequence[int],
    batch_size: int = 256,
    *,
    warmup: int = 3,
    repeats: int = 10,
    device: str | torch.device | None = None,
    dtype: torch.dtype = torch.float32,
) -> Throughput:
    """Measure inference throughput of ``model`` on random input batches.

    Each repeat times one forward pass of a ``(batch_size, *input_shape)`` batch in
    eval mode under :func:`torch.inference_mode`; on CUDA the device is synchronised
    before and after, so the time covers the kernels and not just their launch.
    Warm-up passes (caches, lazy initialisation, cuDNN autotuning) are not timed.
    The model's device and train/eval states are restored afterwards.

    Parameters
    ----------
    model : nn.Module
        The network to time (its parameters' dtype sets nothing: see ``dtype``).
    input_shape : sequence of int
        Shape of one sample, without the batch dimension, e.g. ``(3, 32, 32)``.
    batch_size : int, default=256
        Samples per timed forward pass; throughput is reported in samples/s.
    warmup : int, default=3
        Untimed passes first (at least one is always run: it checks the input shape).
    repeats : int, default=10
        Timed passes.
    device : str or torch.device, optional
        Default: the model's device. CUDA without CUDA is an error.
    dtype : torch.dtype, default=torch.float32
        Of the input batch.

    Returns
    -------
    Throughput
        ``median``, ``iqr``, ``min``, ``max`` images/s and the settings.
    """
    check_module(model)
    try:
        shape = tuple(input_shape)
    except TypeError:
        shape = ()
    if not shape or not all(is_int(s, 1) for s in shape):
        raise NeuralError(
            f"input_shape={input_shape!r} must be a non-empty tuple of positive integers, the "
            "shape of one sample without the batch dimension; pass e.g. (3, 32, 32)."
        )
    for name, value, low in (
        ("batch_size", batch_size, 1),
        ("warmup", warmup, 0),
        ("repeats", repeats, 1),
    ):
        if not is_int(value, low):
            raise NeuralError(f"{name}={value!r} must be an integer >= {low}.")
    shape = tuple(int(s) for s in shape)
    batch_size, warmup, repeats = int(batch_size), int(warmup), int(repeats)
    home = resolve_device(None, model)
    dev = resolve_device(device, model)
    states = [(m, m.training) for m in model.modules()]
    x = torch.randn((batch_size, *shape), device=dev, dtype=dtype)

    def sync() -> None:
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)

    rates = []
    try:
        model.to(dev).eval()
        with torch.inference_mode():
            try:
                model(x)
            except INPUT_ERRORS as exc:
                err = shape_error(model, x.shape, exc, "input batch", x.dtype)
                raise NeuralError(
                    f"{err} input_shape is the shape of one sample, without the batch dimension."
                ) from exc
            for _ in range(max(warmup - 1, 0)):
                model(x)
            for _ in range(repeats):
                sync()
                start = time.perf_counter()
                model(x)
                sync()
                rates.append(batch_size / max(time.perf_counter() - start, 1e-12))
    finally:
        model.to(home)
        for m, training in states:
            m.training = training
    q25, q50, q75 = np.percentile(rates, [25, 50, 75])
    return Throughput(
        float(q50),
        float(q75 - q25),
        float(min(rates)),
        float(max(rates)),
        batch_size,
        repeats,
        str(dev),
    )
