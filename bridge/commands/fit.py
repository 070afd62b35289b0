"""``vinet fit``: build VI-Net from a user's model, cut node and data; save it to one file.

Examples
--------
``vinet fit --arch resnet18 --weights w.pt --node layer3 --data train.npz --out vinet.pt``
``vinet fit --digits --node relu_4 --psi 0.02 --out vinet.pt``
``vinet fit --digits --node relu_4 --auto --time-budget 60 --out vinet.pt``
``vinet fit --arch torchvision.models:resnet18 --num-classes 10 --weights w.pt --node layer3
--data images/ --image-size 32 --out vinet.pt``
``vinet fit --arch resnet18 --weights w.pt --latents latents/ --out vinet.pt`` (the shards of
``vinet extract --shard i/n --teacher``; ``--scheduler tcp://host:8786`` runs on Dask)
"""

from __future__ import annotations

import argparse
from pathlib import Path


def _score_samples(value: str) -> int | str | None:
    """``--score-samples``: an integer, ``auto`` or ``all`` (the API's None)."""
    if value in ("auto", "all"):
        return None if value == "all" else value
    try:
        return int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is not an integer, 'auto' or 'all'") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``fit`` options to ``parser``."""
    from bridge.commands._common import (
        add_config_arguments,
        add_data_arguments,
        add_model_arguments,
    )

    add_model_arguments(parser)
    parser.add_argument("--node",
                        help="where to cut, e.g. layer2 (see `vinet extract --list-nodes`); "
                             "with --latents, default: the shards' node")
    add_data_arguments(parser, labels="y (N,)", split="train",
                       digits_help="bundled digits (train split); without --arch, the "
                                   "cached model",
                       latents_help="a folder of labelled shards from `vinet extract --shard "
                                    "i/n` (with --teacher to distil): fit from the latents, "
                                    "memory-mapped (bridge.build_vinet_from_shards); with "
                                    "--arch the network is cut at the shards' node, without "
                                    "it the VI-Net classifies pooled latents")
    parser.add_argument("--out", required=True, type=Path, metavar="MODEL.pt",
                        help="where to save the VI-Net")
    vi = parser.add_argument_group("VI-Net settings (bridge.VINetConfig)")
    add_config_arguments(vi)
    auto = parser.add_argument_group("automatic mode")
    auto.add_argument("--auto", action="store_true",
                      help="choose the settings on a validation split of the training data, "
                           "starting from the flags above (bridge.tune_vinet)")
    auto.add_argument("--time-budget", type=float, default=120.0,
                      help="seconds the automatic search may take (default: 120)")
    parser.add_argument("--n-jobs", type=int, default=1, help="classes fitted in parallel")
    scale = parser.add_argument_group("from latent shards (--latents)")
    scale.add_argument("--scheduler", metavar="ADDRESS",
                       help="run the passes over the shards on this Dask scheduler, e.g. "
                            "tcp://host:8786 (needs dask.distributed; the shards and "
                            "--work-dir on storage every worker reads)")
    scale.add_argument("--work-dir", metavar="DIR",
                       help="where the projected latents, grouped by class, are written "
                            "(default: a temporary folder inside --latents)")
    scale.add_argument("--score-samples", type=_score_samples, default="auto", metavar="N",
                       help="score the generators on at most N samples per class, 'all', or "
                            "'auto' (default: max(32, 32768 // classes), every row when no "
                            "class has more)")
    scale.add_argument("--head-samples", type=int, metavar="N",
                       help="rows of the head's L-BFGS start (default: all whose features "
                            "fit in 256 MiB)")
    parser.add_argument("--seed", type=int, default=0, dest="random_state",
                        help="random state (default: 0)")
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
    from torch.utils.data import Dataset

    if args.latents is not None:
        return _run_latents(args)
    if args.node is None:
        from bridge._errors import BridgeError

        raise BridgeError("fit needs --node, where to cut the network (see `vinet extract "
                          "--list-nodes`).")
    from bridge._build import build_vinet
    from bridge.commands._common import (
        arch_options,
        config_from_args,
        load_data,
        load_network,
        show_progress,
    )
    from neural import DIGITS_RECIPE

    model = load_network(args)
    X, y = load_data(args)
    if y is None and not isinstance(X, Dataset):  # an image folder's items carry labels
        from bridge._errors import BridgeError

        raise BridgeError(f"--data {args.data!r} has no labels 'y'; VI-Net needs labelled data.")
    data = X if y is None else (X, y)
    if args.arch is None:  # the cached digits model
        arch, arch_kwargs = DIGITS_RECIPE["arch"], dict(DIGITS_RECIPE["model"])
    else:
        arch, arch_kwargs = args.arch, arch_options(args)
    config = config_from_args(args)
    progress = show_progress(args.no_progress)
    if args.auto:
        from bridge._auto import tune_vinet

        config, trials = tune_vinet(model, args.node, data, config,
                                    time_budget=args.time_budget, n_jobs=args.n_jobs,
                                    progress=progress, random_state=args.random_state)
        tried = ", ".join(f"{t['settings'] or 'start'}: "
                          + ("failed" if t["val_accuracy"] is None
                             else f"{100 * t['val_accuracy']:.2f}%") for t in trials)
        print(f"automatic mode tried {len(trials)} setting(s) on a validation split of the "
              f"training data ({tried}); chosen: {config}")
    net = build_vinet(model, args.node, data, config, n_jobs=args.n_jobs, arch=arch,
                      arch_kwargs=arch_kwargs, progress=progress, random_state=args.random_state)
    report(net, args)
    return 0


def _run_latents(args: argparse.Namespace) -> int:
    """``--latents``: build from a folder of shards, on Dask with ``--scheduler``."""
    import contextlib

    from bridge._errors import BridgeError
    from bridge._shards import build_vinet_from_shards
    from bridge.commands._common import (
        arch_options,
        config_from_args,
        load_network,
        show_progress,
    )

    if args.auto:
        raise BridgeError("--auto needs the images (--data or --digits); with --latents pass "
                          "the settings as flags.")
    model = None if args.arch is None else load_network(args)
    stack = contextlib.ExitStack()
    with stack:
        if args.scheduler is not None:
            import joblib

            try:
                from dask.distributed import Client
            except ImportError:
                raise BridgeError("--scheduler needs dask.distributed (pip install "
                                  "'dask[distributed]').") from None
            stack.enter_context(Client(args.scheduler))
            stack.enter_context(joblib.parallel_config(backend="dask"))
        net = build_vinet_from_shards(
            args.latents, config_from_args(args), model=model, node=args.node,
            arch=args.arch, arch_kwargs=arch_options(args) if args.arch else None,
            n_jobs=args.n_jobs, work_dir=args.work_dir, score_samples=args.score_samples,
            head_samples=args.head_samples, progress=show_progress(args.no_progress),
            random_state=args.random_state)
    report(net, args)
    return 0


def report(net: object, args: argparse.Namespace) -> None:
    """Save the VI-Net to ``args.out`` and print its size, loss and timings.

    Parameters
    ----------
    net : VINet
        The model built.
    args : argparse.Namespace
        With ``out``.
    """
    net.save(args.out)
    counts = net.parameter_counts()
    where = f" at {net.config['node']}" if net.config.get("node") else " of pooled latents"
    print(f"VI-Net{where}: {net.poly.out_features} generators over "
          f"{net.poly.n_terms} monomials of degree <= {net.poly.max_degree}; "
          f"{counts['total']:,} parameters (base {counts['base']:,}, prep {counts['prep']:,}, "
          f"poly {counts['poly']:,}, head {counts['head']:,})")
    if net.history_:
        print(f"fine-tuning loss: {net.history_[0]:.4f} -> {net.history_[-1]:.4f}")
    print(timing_line(net.timings_))
    print(f"saved {args.out}")


def timing_line(timings: dict) -> str:
    """One line of :attr:`bridge.VINet.timings_`: each phase's seconds and the total.

    Parameters
    ----------
    timings : dict
        As :func:`bridge.build_vinet` records it.

    Returns
    -------
    str
    """
    per_class = timings["fits_per_class"]
    return (f"time: extraction {timings['extraction']:.1f} s, preprocessing "
            f"{timings['preprocessing']:.1f} s, per-class fits {timings['fits']:.1f} s "
            f"({len(per_class)} classes, slowest {max(per_class):.1f} s), pruning "
            f"{timings['pruning']:.1f} s, fine-tuning {timings['fine_tuning']:.1f} s; total "
            f"{timings['total']:.1f} s")
