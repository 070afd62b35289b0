"""Helpers shared by the VI-Net sub-commands (not a sub-command itself).

torch and the packages are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge._errors import BridgeError


def show_progress(no_progress: bool) -> bool:
    """Whether a command shows progress bars: not asked to hide them, on a terminal.

    In a log file or a pipe the bars' carriage returns become dozens of lines around
    the command's results, so they are shown only when stderr is a terminal.

    Parameters
    ----------
    no_progress : bool
        The command's ``--no-progress`` flag.

    Returns
    -------
    bool
    """
    return not no_progress and sys.stderr.isatty()


def check_at_least(value: int | None, least: int, option: str) -> None:
    """Raise a :class:`~bridge.BridgeError` naming ``option`` if ``value < least``.

    Parameters
    ----------
    value : int or None
        The parsed option (None, an option left unset, passes).
    least : int
        The smallest valid value.
    option : str
        The option as typed, e.g. ``"--threads"``.
    """
    if value is not None and value < least:
        raise BridgeError(f"{option} {value} must be at least {least}.")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(n)``, restoring the previous count after.

    One thread is the default of the commands that time models: on a machine whose
    cores are busy with other work, OpenMP threads of one forward pass wait for each
    other and a 2-thread pass can be ten times slower than a 1-thread one.

    Parameters
    ----------
    n : int
        Threads, at least 1.
    """
    import torch

    check_at_least(n, 1, "--threads")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def load_data(args: argparse.Namespace) -> tuple[Any, Any]:
    """The images and labels a command's ``--data FILE.npz`` or ``--digits`` names.

    Parameters
    ----------
    args : argparse.Namespace
        With ``digits`` (bool), ``data`` (an ``.npz`` path holding ``X`` and optionally
        ``y``) and, for ``--digits``, ``split``.

    Returns
    -------
    X : torch.Tensor of float32, shape (N, ...)
    y : torch.Tensor of int64, shape (N,), or None
        None when the file has no ``y``.
    """
    import numpy as np
    import torch

    from neural import load_digits

    if args.digits:
        return load_digits(args.split)
    try:
        with np.load(args.data) as z:
            if "X" not in z:
                raise BridgeError(
                    f"--data {args.data!r} has arrays {sorted(z.files)} but no 'X'; save the "
                    "images as np.savez(path, X=images, y=labels)."
                )
            X = torch.from_numpy(np.asarray(z["X"], dtype=np.float32))
            y = torch.from_numpy(np.asarray(z["y"], dtype=np.int64)) if "y" in z else None
    except OSError as exc:
        raise BridgeError(
            f"--data {args.data!r} could not be read as an .npz file ({exc}); pass a file "
            "written by np.savez(path, X=images, y=labels)."
        ) from exc
    return X, y


def load_network(args: argparse.Namespace) -> Any:
    """The pretrained network a command's ``--arch``/``--weights`` (or ``--digits``) names.

    Parameters
    ----------
    args : argparse.Namespace
        With ``arch``, ``weights``, ``num_classes``, ``in_channels``, ``digits`` and
        ``no_progress``; without ``--arch``, ``--digits`` means the cached pretrained
        digits model.

    Returns
    -------
    torch.nn.Module
    """
    from neural import load_model, pretrained_digits_model

    if args.arch is None:
        if args.weights is not None:
            raise BridgeError("--weights needs --arch, the architecture the weights belong to.")
        if not args.digits:
            raise BridgeError(
                "--data needs --arch and --weights (only --digits has a default model)."
            )
        return pretrained_digits_model(progress=not args.no_progress)
    if args.weights is None:
        raise BridgeError(f"--arch {args.arch} needs --weights, the state_dict file to load.")
    options = {
        k: v
        for k, v in (("num_classes", args.num_classes), ("in_channels", args.in_channels))
        if v is not None
    }
    return load_model(args.arch, args.weights, **options)


def _optional(convert: Any) -> Any:
    def parse(text: str) -> Any:
        return None if text.lower() == "none" else convert(text)

    parse.__name__ = getattr(convert, "__name__", "value")
    return parse


def _keep(text: str) -> int | float | None:
    if text.lower() == "none":
        return None
    return float(text) if any(c in text for c in ".eE") else int(text)


#: How a flag's text becomes a VINetConfig field where the field's default type is not
#: enough (fields that may be None, or an int or a float).
_CONVERTERS: dict[str, Any] = {"n_components": _optional(int), "max_samples": _optional(int),
                               "keep": _keep, "scaling": _optional(str)}


def add_config_arguments(parser: argparse.ArgumentParser | Any) -> None:
    """Add one ``--flag`` per field of :class:`bridge.VINetConfig`, defaults from it.

    The CLI's VI-Net options are generated from the dataclass, so ``vinet fit``,
    ``vinet demo`` and the API cannot disagree on a default (one source of defaults).

    Parameters
    ----------
    parser : argparse.ArgumentParser or argument group
        Where to add the flags (``--n-components``, ``--psi``, ``--skip/--no-skip``, ...).
    """
    from dataclasses import fields

    from bridge._config import VINetConfig

    defaults = VINetConfig()
    for f in fields(VINetConfig):
        default = getattr(defaults, f.name)
        flag = "--" + f.name.replace("_", "-")
        text = f"VINetConfig.{f.name} (default: {default})"
        if isinstance(default, bool):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=default,
                                help=text)
        else:
            convert = _CONVERTERS.get(f.name, type(default))
            parser.add_argument(flag, type=convert, default=default, metavar=f.name.upper(),
                                help=text)


def config_from_args(args: argparse.Namespace) -> Any:
    """The :class:`bridge.VINetConfig` of the flags :func:`add_config_arguments` added."""
    from dataclasses import fields

    from bridge._config import VINetConfig

    return VINetConfig(**{f.name: getattr(args, f.name) for f in fields(VINetConfig)})
