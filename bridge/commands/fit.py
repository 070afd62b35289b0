"""``vinet fit``: build VI-Net from a user's model, cut node and data; save it to one file.

Examples
--------
``vinet fit --arch resnet18 --weights w.pt --node layer3 --data train.npz --out vinet.pt``
``vinet fit --digits --node relu_4 --pooling flatten --out vinet.pt``
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "fit"
HELP = "Build and train VI-Net from a model, a cut node and data; save it as one file."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``fit`` options to ``parser``."""
    from bridge._build import VINET_METHODS
    from neural import POOLINGS

    model = parser.add_argument_group("model")
    model.add_argument("--arch", help="registered architecture (resnet18, resnet34, digits_resnet)")
    model.add_argument("--weights", help="state_dict file for --arch")
    model.add_argument("--num-classes", type=int, help="num_classes option of --arch")
    model.add_argument("--in-channels", type=int, help="in_channels option of --arch")
    model.add_argument("--node", required=True,
                       help="where to cut, e.g. layer2 (see `vinet extract --list-nodes`)")
    data = parser.add_mutually_exclusive_group(required=True)
    data.add_argument("--data", metavar="FILE.npz",
                      help="training arrays X (N, C, H, W) and y (N,)")
    data.add_argument("--digits", action="store_true",
                      help="bundled digits (train split); without --arch, the cached model")
    parser.add_argument("--out", required=True, type=Path, metavar="MODEL.pt",
                        help="where to save the VI-Net")
    vi = parser.add_argument_group("VI-Net")
    vi.add_argument("--pooling", default="avg", choices=POOLINGS, help="default: avg")
    vi.add_argument("--n-components", type=int, default=16, help="PCA dimension (default: 16)")
    vi.add_argument("--method", default="oavi", choices=VINET_METHODS, help="default: oavi")
    vi.add_argument("--psi", type=float, default=0.01, help="vanishing tolerance (default: 0.01)")
    vi.add_argument("--max-degree", type=int, default=2, help="default: 2")
    vi.add_argument("--max-samples", type=int, default=None,
                    help="fit each class on at most this many samples")
    vi.add_argument("--keep", type=int, default=20,
                    help="generators kept per class by discriminative score (default: 20)")
    vi.add_argument("--epochs", type=int, default=10, help="fine-tuning epochs (default: 10)")
    vi.add_argument("--lr", type=float, default=3e-3, help="fine-tuning learning rate")
    vi.add_argument("--n-jobs", type=int, default=1, help="classes fitted in parallel")
    vi.add_argument("--seed", type=int, default=0, help="random state (default: 0)")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads (default: 1; the layers are small)")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bars (shown only when stderr is a terminal)")


def run(args: argparse.Namespace) -> int:
    """Build VI-Net, report its size and training loss, and save it."""
    from bridge.commands._common import torch_threads

    with torch_threads(args.threads):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    from bridge._build import build_vinet
    from bridge.commands._common import load_data, load_network, show_progress
    from neural import DIGITS_RECIPE

    args.split = "train"
    model = load_network(args)
    X, y = load_data(args)
    if y is None:
        from bridge._errors import BridgeError

        raise BridgeError(f"--data {args.data!r} has no labels 'y'; VI-Net needs labelled data.")
    if args.arch is None:  # the cached digits model
        arch, arch_kwargs = DIGITS_RECIPE["arch"], dict(DIGITS_RECIPE["model"])
    else:
        arch = args.arch
        arch_kwargs = {k: v for k, v in (("num_classes", args.num_classes),
                                         ("in_channels", args.in_channels)) if v is not None}
    net = build_vinet(
        model, args.node, (X, y), n_components=args.n_components, pooling=args.pooling,
        method=args.method, psi=args.psi, max_degree=args.max_degree,
        max_samples=args.max_samples, keep=args.keep, n_jobs=args.n_jobs, epochs=args.epochs,
        lr=args.lr, arch=arch, arch_kwargs=arch_kwargs, progress=show_progress(args.no_progress),
        random_state=args.seed,
    )
    net.save(args.out)
    counts = net.parameter_counts()
    print(f"VI-Net at {args.node}: {net.poly.out_features} generators over "
          f"{net.poly.n_terms} monomials of degree <= {net.poly.max_degree}; "
          f"{counts['total']:,} parameters (base {counts['base']:,}, prep {counts['prep']:,}, "
          f"poly {counts['poly']:,}, head {counts['head']:,})")
    if net.history_:
        print(f"fine-tuning loss: {net.history_[0]:.4f} -> {net.history_[-1]:.4f}")
    print(f"saved {args.out}")
    return 0
