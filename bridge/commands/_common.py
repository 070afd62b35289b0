"""Helpers shared by the VI-Net sub-commands (not a sub-command itself).

torch and the packages are imported inside the functions that need them.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bridge._errors import BridgeError


class DeprecatedAlias(argparse.Action):
    """An old spelling of an option: hidden from ``--help``, stored like the new one.

    Using it prints ``vinet COMMAND: warning: --old is deprecated; use --new.`` on
    stderr (a :class:`DeprecationWarning` would be hidden by Python's default filters).

    Parameters
    ----------
    option_strings, dest, **kwargs
        As for :class:`argparse.Action`.
    replacement : str
        The option to use instead, e.g. ``"--max-degree"``.
    """

    def __init__(self, option_strings: list[str], dest: str, *, replacement: str,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, **kwargs)
        self.replacement = replacement

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(f"{parser.prog}: warning: {option_string} is deprecated; use "
              f"{self.replacement}.", file=sys.stderr)
        setattr(namespace, self.dest, values)


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
    """Run the body on ``n`` torch and BLAS threads, restoring the previous counts after.

    One thread is the default of the commands that time models: on a machine whose
    cores are busy with other work, OpenMP threads of one forward pass wait for each
    other and a 2-thread pass can be ten times slower than a 1-thread one. The same
    holds for the BLAS under numpy (the generators' fits and pruning), limited through
    ``threadpoolctl`` (installed with scikit-learn).

    Parameters
    ----------
    n : int
        Threads, at least 1.
    """
    import torch
    from threadpoolctl import threadpool_limits

    check_at_least(n, 1, "--threads")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(n, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


#: ``--arch`` help, shared by the commands that build or rebuild a network.
ARCH_HELP = ("a registered architecture (resnet18, resnet34, digits_resnet) or "
             "package.module:factory, a function that returns the network, e.g. "
             "torchvision.models:resnet18 (imported and called: it runs that code, so name "
             "only code you trust)")
#: ``--data`` help; ``what`` says which arrays a command needs.
DATA_HELP = ("an .npz file with arrays X (N, C, H, W) and {what}, or a folder of images in "
             "torchvision's ImageFolder layout (one sub-folder per class; needs torchvision)")


def add_model_arguments(parser: argparse.ArgumentParser, *, weights: bool = True) -> None:
    """Add ``--arch``, ``--weights``, ``--num-classes`` and ``--in-channels``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    weights : bool, default=True
        Whether to add ``--weights`` (the commands that read a VI-Net file take the
        weights from the file).
    """
    group = parser.add_argument_group("model")
    group.add_argument("--arch", help=ARCH_HELP)
    if weights:
        group.add_argument("--weights",
                           help="state_dict file for --arch (torch.save(model.state_dict())); "
                                "optional for a factory")
    group.add_argument("--num-classes", type=int, help="num_classes option of --arch")
    group.add_argument("--in-channels", type=int, help="in_channels option of --arch")


def add_data_arguments(parser: argparse.ArgumentParser, *, labels: str, split: str,
                       digits_help: str, latents_help: str | None = None) -> None:
    """Add ``--data`` / ``--digits`` (one of them required), ``--split`` and ``--image-size``.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The sub-command's parser.
    labels : str
        What the command needs of ``y``, e.g. ``"y (N,)"`` or ``"optional y (N,)"``.
    split : {"train", "test", "all"}
        The default digits split.
    digits_help : str
        The help of ``--digits``.
    latents_help : str, optional
        When given, ``--latents DIR`` (a folder of shards) is a third choice, with this
        help.
    """
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", metavar="FILE.npz|DIR", help=DATA_HELP.format(what=labels))
    data.add_argument("--digits", action="store_true", help=digits_help)
    if latents_help is not None:
        data.add_argument("--latents", metavar="DIR", help=latents_help)
    parser.add_argument("--split", default=split, choices=("train", "test", "all"),
                        help=f"digits split (default: {split})")
    parser.add_argument("--image-size", type=int, default=None, metavar="N",
                        help="for an image folder: resize the shorter side to N and crop the "
                             "N x N centre (default: keep the size; all images must match)")


def import_torchvision() -> Any:
    """Import torchvision, working around its compiled operators failing to load.

    Beside a CPU build of torch, some torchvision wheels of the matching release cannot
    register their compiled operators, and ``import torchvision`` stops in
    ``torchvision/_meta_registrations.py`` with ``RuntimeError: operator torchvision::nms
    does not exist``. The models, data sets and transforms vinet uses are pure Python,
    so on exactly that error the import is retried with an empty module in place of
    ``torchvision._meta_registrations`` (the meta kernels of those compiled operators,
    which vinet never calls); any other error propagates. ``tests/conftest.py`` imports
    torchvision through this function too.

    Returns
    -------
    module
        The ``torchvision`` package.

    Raises
    ------
    BridgeError
        If torchvision is not installed.
    """
    import importlib
    import types

    try:
        return importlib.import_module("torchvision")
    except ModuleNotFoundError as exc:
        if exc.name != "torchvision":
            raise
        raise BridgeError(
            "This needs torchvision, which is not installed; install the release that "
            "matches your torch (pip install torchvision)."
        ) from None
    except RuntimeError as exc:
        if "torchvision::" not in str(exc) or "does not exist" not in str(exc):
            raise
    # The failed import left half-initialised torchvision modules behind: drop them.
    for name in [n for n in sys.modules if n == "torchvision" or n.startswith("torchvision.")]:
        del sys.modules[name]
    sys.modules["torchvision._meta_registrations"] = types.ModuleType(
        "torchvision._meta_registrations")
    return importlib.import_module("torchvision")


def load_data(args: argparse.Namespace) -> tuple[Any, Any]:
    """The images and labels a command's ``--data`` or ``--digits`` names.

    Parameters
    ----------
    args : argparse.Namespace
        With ``digits`` (bool), ``data`` (an ``.npz`` path holding ``X`` and optionally
        ``y``, or an image folder), ``image_size`` and, for ``--digits``, ``split``.

    Returns
    -------
    X : torch.Tensor of float32, shape (N, ...), or torch.utils.data.Dataset
        The images, or for an image folder a ``torchvision.datasets.ImageFolder`` whose
        items are ``(image, label)`` (see :func:`image_folder`).
    y : torch.Tensor of int64, shape (N,), or None
        None when the file has no ``y``, and for an image folder (its items carry the
        labels).
    """
    import numpy as np
    import torch

    from neural import load_digits

    if args.digits:
        return load_digits(args.split)
    if os.path.isdir(args.data):
        return image_folder(args.data, args.image_size), None
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
            "written by np.savez(path, X=images, y=labels), or a folder of images."
        ) from exc
    return X, y


def example_input(X: Any) -> Any:
    """A batch of one sample of the images :func:`load_data` returned, for tracing.

    Parameters
    ----------
    X : torch.Tensor or Dataset
        The images, or a Dataset of ``(image, label)`` items.

    Returns
    -------
    torch.Tensor of shape (1, ...)
    """
    import torch

    if isinstance(X, torch.Tensor):
        return X[:1]
    if len(X) == 0:
        raise BridgeError("--data holds no images; pass at least one.")
    return torch.as_tensor(X[0][0])[None]


def image_folder(path: str, image_size: int | None) -> Any:
    """The images of a folder in torchvision's ``ImageFolder`` layout, as a Dataset.

    ``path/CLASS/*.png`` (any image format PIL reads): the sorted sub-folder names are
    the classes ``0 .. C-1``. Each image is read as RGB, optionally resized so its
    shorter side is ``image_size`` and centre-cropped to ``image_size x image_size``,
    and converted by ``ToTensor`` to a float32 ``(3, H, W)`` tensor in ``[0, 1]``. No
    normalisation is applied: a network trained on normalised images should include
    its normalisation (e.g. an ``nn.Sequential`` of it and the network in its factory).

    Parameters
    ----------
    path : str
        The folder.
    image_size : int or None
        Side of the square crop; None keeps each image's size (they must all match).

    Returns
    -------
    torchvision.datasets.ImageFolder
    """
    tv = import_torchvision()
    from torchvision import transforms
    from torchvision.datasets import ImageFolder

    check_at_least(image_size, 1, "--image-size")
    steps = [] if image_size is None else [transforms.Resize(image_size),
                                          transforms.CenterCrop(image_size)]
    try:
        return ImageFolder(path, transform=transforms.Compose([*steps, transforms.ToTensor()]))
    except (FileNotFoundError, RuntimeError) as exc:  # no class folders / no images
        raise BridgeError(
            f"--data {path!r} is a folder but not an image folder ({exc}); put the images "
            f"of each class in a sub-folder named after it (torchvision {tv.__version__} "
            "ImageFolder layout)."
        ) from exc


def import_factory(spec: str) -> Any:
    """The function ``package.module:factory`` names, imported (running that module).

    As ``python -m`` does, the current folder is searched first, so a factory in
    ``./mymodels.py`` is ``mymodels:build``. A module of torchvision is imported through
    :func:`import_torchvision`.

    Parameters
    ----------
    spec : str
        ``"package.module:factory"``; the factory may be an attribute path
        (``module:Class.build``).

    Returns
    -------
    callable
    """
    import importlib

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise BridgeError(
            f"--arch {spec} is neither a registered architecture nor of the form "
            "package.module:factory; pass e.g. --arch torchvision.models:resnet18."
        )
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    if module_name.split(".")[0] == "torchvision":
        import_torchvision()
    try:
        obj = importlib.import_module(module_name)
    except ImportError as exc:
        raise BridgeError(
            f"--arch {spec}: module {module_name!r} could not be imported ({exc}); install it "
            "or run vinet from the folder that holds it."
        ) from exc
    for part in attr.split("."):
        if not hasattr(obj, part):
            raise BridgeError(
                f"--arch {spec}: {module_name!r} has no attribute {attr!r}; name the function "
                "that returns the network."
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise BridgeError(f"--arch {spec} names a {type(obj).__name__}, not a function.")
    return obj


def arch_options(args: argparse.Namespace) -> dict[str, Any]:
    """The constructor options given by ``--num-classes`` and ``--in-channels``.

    Parameters
    ----------
    args : argparse.Namespace
        With ``num_classes`` and ``in_channels``.

    Returns
    -------
    dict
    """
    return {k: v for k, v in (("num_classes", args.num_classes),
                              ("in_channels", args.in_channels)) if v is not None}


def build_network(arch: str, options: dict[str, Any]) -> Any:
    """An untrained network of ``--arch`` (registered or ``package.module:factory``).

    Parameters
    ----------
    arch : str
        The ``--arch`` value.
    options : dict
        Constructor options.

    Returns
    -------
    torch.nn.Module
    """
    from torch import nn

    from neural import MODELS, build_model

    if arch in MODELS:
        return build_model(arch, **options)
    model = import_factory(arch)(**options)
    if not isinstance(model, nn.Module):
        raise BridgeError(
            f"--arch {arch} returned a {type(model).__name__}, not a torch.nn.Module; name "
            "the function that builds the network."
        )
    return model


def load_network(args: argparse.Namespace) -> Any:
    """The pretrained network a command's ``--arch``/``--weights`` (or ``--digits``) names.

    Parameters
    ----------
    args : argparse.Namespace
        With ``arch``, ``weights``, ``num_classes``, ``in_channels``, ``digits`` and
        ``no_progress``; without ``--arch``, ``--digits`` means the cached pretrained
        digits model. A factory ``--arch`` without ``--weights`` is used as it returns
        the network (with its own weights, if it loads any).

    Returns
    -------
    torch.nn.Module
        In eval mode.
    """
    from neural import MODELS, load_model, pretrained_digits_model

    if args.arch is None:
        if args.weights is not None:
            raise BridgeError("--weights needs --arch, the architecture the weights belong to.")
        if not args.digits:
            raise BridgeError(
                "--data needs --arch and --weights (only --digits has a default model)."
            )
        return pretrained_digits_model(progress=show_progress(args.no_progress))
    options = arch_options(args)
    if args.weights is None:
        if args.arch in MODELS:
            raise BridgeError(
                f"--arch {args.arch} needs --weights, the state_dict file to load.")
        return build_network(args.arch, options).eval()
    if args.arch in MODELS:
        return load_model(args.arch, args.weights, **options)
    return load_model(import_factory(args.arch), args.weights, **options)


def load_vinet(args: argparse.Namespace) -> Any:
    """The VI-Net file ``args.model``, its backbone rebuilt from ``--arch`` when given.

    Parameters
    ----------
    args : argparse.Namespace
        With ``model`` (the file), ``arch``, ``num_classes`` and ``in_channels``. Without
        ``--arch`` the file's registered architecture is rebuilt; with it, the network
        ``--arch`` builds (with the file's constructor options, unless given) is cut,
        and its weights replaced by the file's.

    Returns
    -------
    VINet
    """
    from bridge._vinet import VINet, read_file

    if args.arch is None:
        return VINet.load(args.model)
    config = read_file(args.model)["config"]
    options = {**dict(config.get("arch_kwargs") or {}), **arch_options(args)}
    return VINet.load(args.model, model=build_network(args.arch, options))


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
