"""Loading user models: a ``state_dict`` plus a registered architecture, or a whole module."""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch import nn

from neural._errors import NeuralError
from neural._models import MODELS, build_model
from neural._util import torch_message


def _existing(path: str | os.PathLike, what: str) -> Path:
    p = Path(path)
    if not p.is_file():
        raise NeuralError(f"{what}={str(path)!r} is not a file; pass the path of a saved file.")
    return p


def load_model(
    arch: str | Callable[..., nn.Module], weights: str | os.PathLike, **kwargs: Any
) -> nn.Module:
    """Build the architecture ``arch`` and load a ``state_dict`` into it.

    Loading uses ``torch.load(..., weights_only=True)``, which unpickles only tensors
    and plain containers, so a weights file cannot run code.

    Parameters
    ----------
    arch : str or callable
        A key of :data:`MODELS` (``"resnet18"``, ``"resnet34"``, ``"digits_resnet"``),
        or a function that returns the ``nn.Module`` (a model class, or a factory such
        as ``torchvision.models.resnet18``), called with ``**kwargs``.
    weights : path
        A file saved with ``torch.save(model.state_dict(), path)``, or a dict holding
        one under ``"state_dict"`` (as the :func:`pretrained_digits_model` cache does).
    **kwargs
        Constructor options such as ``num_classes=100``; they must match the weights.

    Returns
    -------
    nn.Module
        The model in eval mode on the CPU.

    Raises
    ------
    NeuralError
        For an unknown ``arch``, a missing or unreadable file, or weights that do not
        fit the architecture (the message lists missing, unexpected and mis-shaped
        entries).
    """
    if callable(arch):
        model = arch(**kwargs)
        arch = getattr(arch, "__qualname__", repr(arch))
        if not isinstance(model, nn.Module):
            raise NeuralError(
                f"arch={arch!r} returned a {type(model).__name__}, not an nn.Module; pass a "
                "function that builds the network."
            )
    else:
        model = build_model(arch, **kwargs)
    path = _existing(weights, "weights")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise NeuralError(
            f"weights={str(weights)!r} could not be read as a state_dict ({type(exc).__name__}: "
            f"{torch_message(exc)}); save it with "
            "torch.save(model.state_dict(), path), or use load_module for a whole pickled model."
        ) from exc
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise NeuralError(
            f"weights={str(weights)!r} holds a {type(state).__name__}, not a state_dict; save "
            "model.state_dict() instead."
        )
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    shapes = [
        f"{k!r} (file {tuple(state[k].shape)} vs model {tuple(v.shape)})"
        for k, v in expected.items()
        if k in state and hasattr(state[k], "shape") and tuple(state[k].shape) != tuple(v.shape)
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing {_few([repr(k) for k in missing])}")
        if unexpected:
            parts.append(f"unexpected {_few([repr(k) for k in unexpected])}")
        if shapes:
            parts.append(f"mis-shaped {_few(shapes)}")
        raise NeuralError(
            f"weights={str(weights)!r} do not fit arch={arch!r} with options {kwargs}: "
            + "; ".join(parts)
            + ". Pass the architecture and options (e.g. num_classes) the weights were "
            f"trained with; registered architectures: {sorted(MODELS)}."
        )
    model.load_state_dict(state)
    return model.eval()


def _few(items: list[str], limit: int = 5) -> str:
    shown = ", ".join(items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")


def load_module(path: str | os.PathLike) -> nn.Module:
    """Load a whole model saved with ``torch.save(model, path)``.

    This unpickles arbitrary Python objects (``torch.load(..., weights_only=False)``):
    a malicious file can run any code while it loads. Only load files you trust;
    prefer a ``state_dict`` with :func:`load_model`, which cannot run code. The
    classes of the model must be importable under the names they were saved with.

    Parameters
    ----------
    path : path
        The saved module.

    Returns
    -------
    nn.Module
        The model in eval mode on the CPU.

    Warns
    -----
    UserWarning
        Always, repeating torch's security warning about unpickling.
    """
    p = _existing(path, "path")
    warnings.warn(
        f"load_module unpickles {str(path)!r} with torch.load(weights_only=False), which can "
        "run arbitrary code: only load files you trust, and prefer a state_dict with "
        "load_model(arch, weights).",
        UserWarning,
        stacklevel=2,
    )
    try:
        obj = torch.load(p, map_location="cpu", weights_only=False)
    except Exception as exc:
        raise NeuralError(
            f"path={str(path)!r} could not be unpickled ({type(exc).__name__}: "
            f"{torch_message(exc)}); the classes of the saved model "
            "must be importable, and the file must come from torch.save(model, path)."
        ) from exc
    if not isinstance(obj, nn.Module):
        raise NeuralError(
            f"path={str(path)!r} holds a {type(obj).__name__}, not an nn.Module; for a "
            "state_dict use load_model(arch, weights)."
        )
    return obj.eval()
