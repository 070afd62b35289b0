"""Small helpers shared by the modules of :mod:`neural` (not public, but for
:func:`progress_bar`, which :mod:`bridge` uses too)."""

from __future__ import annotations

import difflib
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from neural._errors import NeuralError


def progress_bar(iterable: Iterable[Any] | None = None, *, progress: bool | None = None,
                 **kwargs: Any) -> Any:
    """A tqdm progress bar that follows vinet's ``progress`` convention.

    Parameters
    ----------
    iterable : iterable, optional
        What to iterate over, as for :class:`tqdm.tqdm`.
    progress : bool or None, default=None
        ``True`` shows the bar, ``False`` hides it, ``None`` shows it only when stderr
        is a terminal (tqdm's ``disable=None``): a bar's carriage returns turn into
        dozens of lines in a log file or a pipe.
    **kwargs
        Passed to :class:`tqdm.tqdm` (``total``, ``desc``, ``unit``, ``leave``, ...).

    Returns
    -------
    tqdm.tqdm
    """
    from tqdm.auto import tqdm

    return tqdm(iterable, disable=None if progress is None else not progress, **kwargs)


def suggest(name: str, valid: Sequence[str], *, limit: int = 40) -> str:
    """Return a sentence naming the closest matches of ``name`` and then ``valid``.

    The closest matches (``difflib``) come first because a typo is the usual cause;
    the list itself follows, truncated to ``limit`` entries so that errors about a
    model with thousands of nodes stay readable.
    """
    close = difflib.get_close_matches(str(name), list(valid), n=3, cutoff=0.5)
    shown = list(valid[:limit])
    more = f", ... ({len(valid) - limit} more)" if len(valid) > limit else ""
    text = ""
    if close:
        text += "Did you mean " + " or ".join(repr(c) for c in close) + "? "
    text += "Valid values are: " + ", ".join(repr(v) for v in shown) + more + "."
    return text


def resolve_device(
    device: str | torch.device | None, model: nn.Module | None = None
) -> torch.device:
    """Turn ``device`` into a :class:`torch.device`, checking that it exists.

    ``None`` means the device of the model's first parameter or buffer (CPU for a
    model without tensors). A CUDA request on a machine without CUDA is an error
    rather than a silent fallback, so that a benchmark never reports CPU numbers
    labelled as GPU numbers.
    """
    if device is None:
        tensors = list(model.parameters()) + list(model.buffers()) if model is not None else []
        return tensors[0].device if tensors else torch.device("cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError) as exc:
        raise NeuralError(
            f"device={device!r} is not a valid torch device; pass 'cpu', 'cuda', 'cuda:0' "
            "or a torch.device."
        ) from exc
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise NeuralError(
            f"device={device!r} was requested but CUDA is not available "
            f"(torch {torch.__version__}, torch.cuda.is_available() is False); "
            "pass device='cpu' or install a CUDA build of torch on a machine with a GPU."
        )
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise NeuralError(
            f"device={device!r} was requested but only {torch.cuda.device_count()} CUDA "
            "device(s) exist; pass an index below that."
        )
    return dev


def expected_input(model: nn.Module) -> str | None:
    """Describe the input the first convolution or linear layer of ``model`` expects.

    Returns a string such as ``"(N, 1, H, W)"`` or ``None`` when the model has no
    convolution or linear layer to infer it from. Registration order is used as a
    proxy for execution order, which holds for the models in this package and for
    torchvision-style models.
    """
    for module in model.modules():
        if isinstance(module, nn.modules.conv._ConvNd):
            spatial = (
                ("L",)
                if module.weight.dim() == 3
                else ("H", "W")
                if module.weight.dim() == 4
                else ("D", "H", "W")
            )
            return "(" + ", ".join(("N", str(module.in_channels), *spatial)) + ")"
        if isinstance(module, nn.Linear):
            return f"(N, {module.in_features})"
    return None


def shape_error(
    model: nn.Module,
    shape: Iterable[int],
    exc: Exception,
    what: str,
    dtype: torch.dtype | None = None,
) -> NeuralError:
    """Build the :class:`NeuralError` for an input of the wrong shape (or dtype).

    Parameters
    ----------
    model : nn.Module
        The model that failed on the input.
    shape : iterable of int
        The shape of the offending input batch.
    exc : Exception
        The error torch raised, quoted at the end.
    what : str
        The parameter name the user passed the input as.
    dtype : torch.dtype, optional
        The input's dtype; when torch's message is about types, the error says so
        instead of blaming the shape.
    """
    message = torch_message(exc)
    about_types = any(k in message for k in ("scalar type", "dtype", "type ("))
    if dtype is not None and about_types:
        return NeuralError(
            f"{what} of dtype {dtype} does not fit the model's {model_dtype(model)} weights; "
            f"convert it to floating point first, e.g. X.float() / 255 for 8-bit images "
            f"(torch said: {message})."
        )
    expected = expected_input(model)
    hint = f"the model expects input of shape {expected}" if expected else "check the input shape"
    return NeuralError(
        f"{what} of shape {tuple(shape)} does not fit the model: {hint}; reshape the "
        f"input (torch said: {torch_message(exc)})."
    )


def torch_message(exc: BaseException) -> str:
    """The first line of a torch error: fx's interpreter appends the graph context after it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__


#: What a model can raise for an input it cannot take: shape and dtype mismatches are
#: RuntimeError in most layers, ValueError in batch norm ("expected 4D input").
INPUT_ERRORS = (RuntimeError, ValueError)


def check_module(model: Any, what: str = "model") -> nn.Module:
    """Return ``model`` if it is an ``nn.Module``, else raise a :class:`NeuralError`."""
    if not isinstance(model, nn.Module):
        raise NeuralError(
            f"{what} must be a torch.nn.Module, got {type(model).__name__}; pass the network "
            "itself (load a saved one with neural.load_model or neural.load_module)."
        )
    return model


def is_int(value: Any, low: int) -> bool:
    """Whether ``value`` is an integer (Python or numpy, not bool) ``>= low``."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= low


def model_dtype(model: nn.Module) -> torch.dtype | None:
    """The floating dtype of the model's first floating parameter or buffer (None if none)."""
    for t in (*model.parameters(), *model.buffers()):
        if t.is_floating_point():
            return t.dtype
    return None


def to_model_input(
    x: torch.Tensor, device: torch.device, dtype: torch.dtype | None
) -> torch.Tensor:
    """Move a batch to ``device``, casting floating input to the model's floating ``dtype``.

    Float64 arrays meet float32 models all the time; casting here saves the caller a
    torch dtype error. Integer input is left alone: it may be indices (an embedding).
    """
    if dtype is not None and x.is_floating_point() and x.dtype != dtype:
        return x.to(device, dtype=dtype, non_blocking=True)
    return x.to(device, non_blocking=True)
