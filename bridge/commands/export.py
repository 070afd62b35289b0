"""``vinet export MODEL.pt --format pt2|onnx``: a saved VI-Net as a file that runs without vinet.

``pt2`` is a :func:`torch.export.export` program (run it with torch alone:
``torch.export.load("vinet.pt2").module()(images)``); ``onnx`` an ONNX model for
onnxruntime and other ONNX runtimes (needs the ``onnx`` and ``onnxscript`` packages).
Both take float32 images ``(N, *input_shape)`` with any batch size and return logits.
Before the command ends, the written file is run on random images (the ONNX model only
when onnxruntime is installed) and must reproduce the model's logits
(:meth:`bridge.VINet.export`).

Examples
--------
``vinet export vinet.pt`` (writes vinet.pt2)
``vinet export vinet.pt --format onnx --out deploy/vinet.onnx``
``vinet export vinet.pt --arch torchvision.models:resnet18``
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``export`` options to ``parser``."""
    from bridge.commands._common import add_model_arguments

    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="a file from `vinet fit`")
    # The formats of bridge._vinet.EXPORT_FORMATS, spelled out so that --help stays quick.
    parser.add_argument("--format", choices=("pt2", "onnx"), default="pt2",
                        help="pt2 (torch.export) or onnx (default: pt2)")
    parser.add_argument("--out", type=Path, default=None,
                        help="where to write (default: MODEL with the format's suffix)")
    add_model_arguments(parser, weights=False)


def run(args: argparse.Namespace) -> int:
    """Load the VI-Net, export and check it, and say how to run the file."""
    import importlib.util

    from bridge._vinet import EXPORT_TOLERANCE
    from bridge.commands._common import load_vinet

    net = load_vinet(args)
    out = args.out if args.out is not None else args.model.with_suffix(f".{args.format}")
    path = net.export(out, format=args.format)
    shape = ", ".join(map(str, net.config["input_shape"]))
    print(f"wrote {path} ({args.format}): float32 images (N, {shape}) -> "
          f"(N, {net.config.get('n_classes')}) logits, any batch size N")
    if args.format == "pt2":
        checked, usage = "torch", f'torch.export.load("{path}").module()(images)'
    else:
        has_ort = importlib.util.find_spec("onnxruntime") is not None
        checked = "onnxruntime" if has_ort else None
        usage = f'onnxruntime.InferenceSession("{path}").run(None, {{"x": images}})[0]'
    print(f"checked with {checked}: the file reproduces the logits to {EXPORT_TOLERANCE:g} of "
          "their largest magnitude" if checked else
          "not checked: onnxruntime is not installed")
    print(f"run it without vinet: {usage}")
    return 0
