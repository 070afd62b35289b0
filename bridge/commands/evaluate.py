"""``vinet evaluate MODEL.pt --data FILE.npz``: accuracy, parameters and throughput."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "evaluate"
HELP = "Accuracy, parameters and throughput of a saved VI-Net on labelled data."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` options to ``parser``."""
    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="a file from `vinet fit`")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", metavar="FILE.npz", help="arrays X (N, C, H, W) and y (N,)")
    data.add_argument("--digits", action="store_true", help="bundled digits (test split)")
    parser.add_argument("--split", default="test", choices=("train", "test", "all"),
                        help="digits split (default: test)")
    parser.add_argument("--repeats", type=int, default=10,
                        help="timed passes of the throughput (default: 10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default: 1, reliable on a busy machine)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Load the model and data; print the report."""
    from bridge.commands._common import check_at_least, torch_threads

    check_at_least(args.repeats, 1, "--repeats")  # the report prints the throughput
    with torch_threads(args.threads):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import json

    from bridge._errors import BridgeError
    from bridge._vinet import VINet
    from bridge.commands._common import load_data

    net = VINet.load(args.model)
    X, y = load_data(args)
    if y is None:
        raise BridgeError(f"--data {args.data!r} has no labels 'y'; accuracy needs them.")
    expected = tuple(net.config.get("input_shape") or X.shape[1:])
    if tuple(X.shape[1:]) != expected:
        raise BridgeError(
            f"the images have shape {tuple(X.shape[1:])} but {args.model} expects "
            f"{expected}; pass data of the kind the model was fitted on."
        )
    report = net.evaluate((X, y), throughput_repeats=args.repeats)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    p = report["params"]
    print(f"{args.model} ({net.kind}, cut at {net.config.get('node')}) on {len(y)} samples:")
    print(f"  accuracy   {100 * report['accuracy']:.2f} %")
    print(f"  parameters {p['total']:,} (base {p['base']:,}, prep {p['prep']:,}, "
          f"poly {p['poly']:,}, head {p['head']:,})")
    print(f"  throughput {report['throughput']:,.0f} images/s (batch 256, best of "
          f"{args.repeats} passes; median {report['throughput_median']:,.0f})")
    return 0
