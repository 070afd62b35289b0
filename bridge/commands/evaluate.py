"""``vinet evaluate MODEL.pt --data FILE.npz``: accuracy, parameters and throughput.

A file built on a registered architecture rebuilds its backbone by itself; for any other
(``vinet fit --arch package.module:factory``) pass the same ``--arch`` again: the
network it builds is cut at the saved node and given the file's weights.

Examples
--------
``vinet evaluate vinet.pt --digits``
``vinet evaluate vinet.pt --arch torchvision.models:resnet18 --data test/ --image-size 32``
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``evaluate`` options to ``parser``."""
    from bridge.commands._common import add_data_arguments, add_model_arguments

    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="a file from `vinet fit`")
    add_data_arguments(parser, labels="y (N,)", split="test",
                       digits_help="bundled digits (test split)")
    add_model_arguments(parser, weights=False)
    parser.add_argument("--repeats", type=int, default=10, dest="throughput_repeats",
                        help="timed passes of the throughput (default: 10)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default: 1, reliable on a busy machine)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    """Load the model and data; print the report."""
    from bridge.commands._common import check_at_least, torch_threads

    check_at_least(args.throughput_repeats, 1, "--repeats")  # the report prints it
    with torch_threads(args.threads):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    import json

    from bridge._errors import BridgeError
    from bridge.commands._common import load_data, load_vinet

    net = load_vinet(args)
    X, y = load_data(args)
    if y is None and args.data is not None and not Path(args.data).is_dir():
        raise BridgeError(f"--data {args.data!r} has no labels 'y'; accuracy needs them.")
    data = X if y is None else (X, y)
    report = net.evaluate(data, throughput_repeats=args.throughput_repeats)
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    p = report["params"]
    print(f"{args.model} ({net.kind}, cut at {net.config.get('node')}) on {len(X)} samples:")
    print(f"  accuracy   {100 * report['accuracy']:.2f} %")
    print(f"  parameters {p['total']:,} (base {p['base']:,}, prep {p['prep']:,}, "
          f"poly {p['poly']:,}, head {p['head']:,})")
    print(f"  throughput {report['throughput']:,.0f} images/s (batch 256, best of "
          f"{args.throughput_repeats} passes; median {report['throughput_median']:,.0f})")
    return 0
