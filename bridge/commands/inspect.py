"""``vinet inspect MODEL.pt``: a saved VI-Net's configuration, per-class summary, top generators.

By default each class gets one summary row (generators, degrees, nonzero coefficients)
and its ``--top`` generators are printed as sympy expressions; ``--all`` prints every
generator. A generator's rank is the weight the trained head gives its feature: the
Euclidean norm of its column of the head's weight matrix, over all classes' logits (the
features ``|g(z)|`` are scaled to unit RMS on the training latents, so the weights are
comparable).

Examples
--------
``vinet inspect vinet.pt``
``vinet inspect vinet.pt --top 1 --precision 6``
``vinet inspect vinet.pt --all``
"""

from __future__ import annotations

import argparse
from pathlib import Path

from bridge.commands._common import DeprecatedAlias


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``inspect`` options to ``parser``."""
    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="a file from `vinet fit`")
    parser.add_argument("--top", type=int, default=3,
                        help="generators printed per class, those the head weighs most "
                             "(default: 3)")
    parser.add_argument("--all", action="store_true", help="print every generator")
    parser.add_argument("--precision", type=int, default=4,
                        help="significant digits of the printed coefficients (default: 4)")
    # Old spellings: --digits clashed with the other commands' --digits (the bundled
    # data set), --max-per-class is --top.
    parser.add_argument("--digits", type=int, dest="precision", action=DeprecatedAlias,
                        replacement="--precision", help=argparse.SUPPRESS)
    parser.add_argument("--max-per-class", type=int, dest="top", action=DeprecatedAlias,
                        replacement="--top", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    """Load the file and print the summary and the generators of each class."""
    import numpy as np
    import sympy

    from bridge._vinet import VINet
    from bridge.commands._common import check_at_least

    check_at_least(args.precision, 1, "--precision")
    check_at_least(args.top, 0, "--top")
    net = VINet.load(args.model, backbone=False)
    cfg = net.config
    counts = net.parameter_counts()
    settings = cfg.get("settings", cfg)  # format 1 files kept the settings at the top
    k = getattr(net.preprocess, "out_features", cfg.get("n_components_out"))
    print(f"{args.model}: {net.kind} model, arch={cfg.get('arch')}, node={cfg.get('node')}, "
          f"pooling={cfg.get('pooling')}, latent width {cfg.get('latent_width')} -> "
          f"{k} components ({settings.get('scaling')} scaling), "
          f"{cfg.get('n_classes')} classes" + (", head sees the latents too" if net.skip else ""))
    print(f"parameters: total {counts['total']:,} (base {counts['base']:,}, prep "
          f"{counts['prep']:,}, poly {counts['poly']:,}, head {counts['head']:,})")
    if not net.has_poly:
        print("no polynomial layer (a linear-head baseline)")
        return 0
    poly = net.poly
    k = poly.in_features
    gens = sympy.symbols(f"z0:{k}")
    print(f"polynomial layer: {poly.out_features} generators over {poly.n_terms} monomials "
          f"in {k} variables z0..z{k - 1}, degree <= {poly.max_degree}; each feature is "
          "|g(z)| (coefficients after fine-tuning)")
    labels = poly.labels.cpu().numpy()
    # The head's last p columns read the generators (the first D, with skip, the latents).
    head = net.head.weight.detach().double()[:, -poly.out_features:]
    weight = head.norm(dim=0).cpu().numpy()  # (p,)
    classes = np.unique(labels)
    sets = net.generators()
    rows = [("class", "generators", "degrees", "nonzero coefficients", "top head weight")]
    for label, polys in zip(classes, sets, strict=True):
        degrees = polys.degrees
        rows.append((str(label), str(len(polys)), f"{degrees.min()}-{degrees.max()}",
                     str(int((polys.coef != 0).sum())),
                     f"{weight[labels == label].max():.3g}"))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.rjust(w) if i else cell.ljust(w)
                        for i, (cell, w) in enumerate(zip(row, widths, strict=True))).rstrip())
    shown_all = args.all or args.top >= int(np.bincount(labels).max())
    if not args.all and args.top == 0:
        return 0
    print("every generator of each class:" if shown_all else
          f"the {args.top} generators of each class the head weighs most "
          "(--all prints every one):")
    for label, polys in zip(classes, sets, strict=True):
        # Generator j of this class is feature idx[j] of the layer.
        idx = np.flatnonzero(labels == label)
        order = np.argsort(-weight[idx], kind="stable")
        if not args.all:
            order = order[: args.top]
        print(f"class {label}:")
        exprs = polys.select(order).to_sympy(gens)
        for j, expr in zip(order, exprs, strict=True):
            text = sympy.sstr(expr.evalf(args.precision), order=polys.order.alias)
            print(f"  g{j} = {text}    # head weight {weight[idx[j]]:.3g}")
        if len(order) < len(polys):
            print(f"  ... {len(polys) - len(order)} more")
    return 0
