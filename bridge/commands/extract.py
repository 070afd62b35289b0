"""``vinet extract``: latent features of a cut network, one shard per run.

Extraction is the expensive, embarrassingly parallel step of VI-Net: run it as
``--shard i/n`` on ``n`` machines (or GPUs), each writing one file to the same
``--out`` folder, then fit from the folder: ``vinet fit --latents`` (memory-mapped,
:func:`bridge.build_vinet_from_shards`) or ``vinet ideal``. Labelled shards record the
extraction (architecture, node, pooling, input shape, number of classes) for
``vinet fit --latents``; ``--teacher`` stores the full network's logits beside the
latents, for distillation.

Examples
--------
``vinet extract --digits --node layer2 --out latents/``
``vinet extract --arch resnet18 --weights w.pt --node layer3.1.bn1 --data cifar.npz
--shard 3/8 --teacher --out latents/``
"""

from __future__ import annotations

import argparse

from bridge._errors import BridgeError


def parse_shard(text: str) -> tuple[int, int]:
    """Parse ``"i/n"`` into ``(i, n)`` with ``0 <= i < n``.

    Parameters
    ----------
    text : str
        As given on the command line, e.g. ``"3/8"``.

    Returns
    -------
    tuple of int
        ``(i, n)``.
    """
    try:
        i, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shard {text!r} is not of the form i/n; pass e.g. --shard 0/4."
        ) from None
    if not 0 <= i < n:
        raise argparse.ArgumentTypeError(
            f"--shard {text!r} needs 0 <= i < n; shards are numbered 0 .. n-1."
        )
    return i, n


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``extract`` options to ``parser``."""
    from bridge.commands._common import add_data_arguments, add_model_arguments
    from neural import POOLINGS

    add_model_arguments(parser)
    parser.add_argument(
        "--node", help="where to cut, e.g. layer2 or layer3.1.bn1 (see --list-nodes)"
    )
    parser.add_argument(
        "--list-nodes", action="store_true", help="print the cut points with their shapes and exit"
    )
    add_data_arguments(parser, labels="optional y (N,)", split="train",
                       digits_help="bundled digits data; without --arch, the cached pretrained "
                                   "digits model")
    parser.add_argument(
        "--pooling", default="avg", choices=POOLINGS, help="default: avg"
    )
    parser.add_argument(
        "--shard", type=parse_shard, default=(0, 1), metavar="i/n", help="default: 0/1"
    )
    parser.add_argument("--out", help="folder for the shard files (created if missing)")
    parser.add_argument("--teacher", action="store_true",
                        help="also store the full network's logits (the distillation teacher "
                             "of `vinet fit --latents`); one more pass of the network")
    parser.add_argument("--batch-size", type=int, default=256, help="default: 256")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 (default: cpu)")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bar (shown only when stderr is a terminal)")


def run(args: argparse.Namespace) -> int:
    """Cut the model, extract pooled latents of the shard, and write the shard file."""
    from bridge.commands._common import (
        arch_options,
        example_input,
        load_data,
        load_network,
        show_progress,
    )
    from neural import DIGITS_RECIPE, extract_latents, list_nodes, save_shard, truncate

    model = load_network(args)
    X, y = load_data(args)
    example = example_input(X)
    if args.list_nodes:
        for info in list_nodes(model, example):
            ends = f"  (= {', '.join(info.ends)})" if info.ends else ""
            print(f"{info.name:<28} {info.target:<20} {tuple(info.shape or ())}{ends}")
        return 0
    if args.node is None or args.out is None:
        raise BridgeError("extract needs --node and --out (or --list-nodes to see the cut points).")
    cut = truncate(model, args.node, example_input=example)
    data = X if y is None else (X, y)
    progress = show_progress(args.no_progress)
    latents, labels = extract_latents(
        cut,
        data,
        pooling=args.pooling,
        batch_size=args.batch_size,
        device=args.device,
        progress=progress,
        shard=args.shard,
    )
    teacher, meta = None, None
    if args.teacher:
        teacher, _ = extract_latents(model, X, pooling="flatten", batch_size=args.batch_size,
                                     device=args.device, progress=progress, shard=args.shard)
    if labels is not None:  # for `vinet fit --latents`: what the extraction was
        meta = {"node": args.node, "pooling": args.pooling, "grid": 2,
                "input_shape": list(example.shape[1:]), "n_classes": _n_classes(model, example)}
        if args.arch is not None:
            meta.update(arch=args.arch, arch_kwargs=arch_options(args))
        elif args.digits:
            meta.update(arch=DIGITS_RECIPE["arch"], arch_kwargs=dict(DIGITS_RECIPE["model"]))
    path = save_shard(args.out, latents, labels, shard=args.shard, teacher=teacher, meta=meta)
    i, n = args.shard
    print(f"shard {i}/{n}: {latents.shape[0]} samples x {latents.shape[1]} features -> {path}")
    return 0


def _n_classes(model: object, example: object) -> int:
    """The width of the network's output on one example (its number of classes)."""
    import torch

    with torch.no_grad():
        was = model.training
        model.eval()
        out = model(example)
        model.train(was)
    return int(out.shape[-1])
