"""``vinet inspect MODEL.pt``: a saved VI-Net's configuration and its generators in sympy."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "inspect"
HELP = "Print a saved VI-Net's configuration and each class's generators as sympy."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``inspect`` options to ``parser``."""
    parser.add_argument("model", type=Path, metavar="MODEL.pt", help="a file from `vinet fit`")
    parser.add_argument("--digits", type=int, default=4,
                        help="significant digits of the printed coefficients (default: 4)")
    parser.add_argument("--max-per-class", type=int, default=None,
                        help="print at most this many generators per class (default: all)")


def run(args: argparse.Namespace) -> int:
    """Load the file and print the generators of each class."""
    import sympy

    from bridge._vinet import VINet
    from bridge.commands._common import check_at_least

    check_at_least(args.digits, 1, "--digits")
    check_at_least(args.max_per_class, 0, "--max-per-class")  # -1 would drop the last one
    net = VINet.load(args.model)
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
    k = net.poly.in_features
    gens = sympy.symbols(f"z0:{k}")
    print(f"polynomial layer: {net.poly.out_features} generators over {net.poly.n_terms} "
          f"monomials in {k} variables z0..z{k - 1}, degree <= {net.poly.max_degree}; "
          "each feature is |g(z)| (coefficients after fine-tuning)")
    for label, polys in zip(sorted(set(net.poly.labels.tolist())), net.generators(), strict=True):
        exprs = polys.to_sympy(gens)
        shown = exprs if args.max_per_class is None else exprs[: args.max_per_class]
        print(f"class {label}: {len(exprs)} generators")
        for j, expr in enumerate(shown):
            print(f"  g{j} = {sympy.sstr(expr.evalf(args.digits), order=polys.order.alias)}")
        if len(shown) < len(exprs):
            print(f"  ... {len(exprs) - len(shown)} more")
    return 0
