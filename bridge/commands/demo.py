"""``vinet demo``: VI-Net on the bundled digits, the paper's table and plot.

Trains (or loads from the cache) the baseline digits ResNet, builds VI-Net at three
cut depths together with the two baselines (a linear head and random monomials at
the same cut), prints a table like the paper's (parameters, accuracy, throughput),
and writes it as JSON and a PNG plot of accuracy against the share of convolution
layers removed. ``vinet demo --algebra`` prints the exact border basis of rational
points on the circle instead (the algebra behind the generators).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import sympy

from algebra import TERM_ORDERS, PolynomialSet, buchberger_moller, rational_circle_points

NAME = "demo"
HELP = "Run the whole pipeline on the bundled default data."

#: Cut points of the digits ResNet: the ends of layer1 and layer2 and the first ReLU
#: of layer3 (6, 3 and 2 of its 9 convolutions removed).
DEFAULT_NODES = ("relu_2", "relu_4", "relu_5")
#: The settings of the documented run (docs/guide/vinet.md); --quick shrinks them.
DEFAULTS = {"n_components": 16, "pooling": "flatten", "method": "oavi", "psi": 0.01,
            "max_degree": 2, "keep": 20, "epochs": 10, "lr": 3e-3}
QUICK = {"keep": 5, "epochs": 2, "max_samples": 60}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` options to ``parser``."""
    parser.add_argument("--out", default="vinet-demo", type=Path,
                        help="folder for demo.json and demo.png (default: ./vinet-demo)")
    parser.add_argument("--nodes", default=",".join(DEFAULT_NODES),
                        help=f"comma-separated cut points (default: {','.join(DEFAULT_NODES)})")
    parser.add_argument("--quick", action="store_true",
                        help="small settings (one cut, few epochs): a smoke test in seconds")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for training and throughput (default: 1, "
                             "which measures throughput reliably on a busy machine)")
    parser.add_argument("--n-components", type=int, default=DEFAULTS["n_components"],
                        help="PCA dimension of the latents (default: 16)")
    parser.add_argument("--psi", type=float, default=DEFAULTS["psi"],
                        help="vanishing tolerance (default: 0.01)")
    parser.add_argument("--keep", type=int, default=DEFAULTS["keep"],
                        help="generators kept per class (default: 20)")
    parser.add_argument("--epochs", type=int, default=DEFAULTS["epochs"],
                        help="fine-tuning epochs (default: 10)")
    parser.add_argument("--fresh", action="store_true",
                        help="retrain the cached baseline digits network")
    parser.add_argument("--no-progress", action="store_true",
                        help="hide the progress bar (shown only when stderr is a terminal)")
    algebra = parser.add_argument_group("exact algebra (--algebra)")
    algebra.add_argument("--algebra", action="store_true",
                         help="print the exact border basis of rational circle points instead")
    algebra.add_argument("--order", default="deglex", choices=sorted(TERM_ORDERS),
                         help="term order of the exact border basis (default: deglex)")
    algebra.add_argument("--n-points", type=int, default=8,
                         help="number of rational points on the unit circle (default: 8)")


def _print_polys(title: str, polys: PolynomialSet, gens: tuple[sympy.Symbol, ...]) -> None:
    print(f"{title} ({len(polys)} polynomials):")
    for j, expr in enumerate(polys.to_sympy(gens)):
        print(f"  g{j} = {sympy.sstr(expr, order=polys.order.alias)}")


def run_algebra(args: argparse.Namespace) -> int:
    """Print the exact border basis and reduced Gröbner basis of circle points."""
    points = rational_circle_points(args.n_points)
    bb = buchberger_moller(points, args.order)
    gens = sympy.symbols("x0 x1")
    print(f"vinet demo: the exact vanishing ideal of {len(points)} rational points on the "
          f"unit circle (Buchberger-Moller over Q, term order {bb.order.name}).")
    print("points: " + ", ".join(f"({a}, {b})" for a, b in points))
    O = [sympy.Mul(*(g ** int(e) for g, e in zip(gens, row, strict=True)))
         for row in bb.order_ideal.tolist()]
    print(f"order ideal O ({len(O)} terms): " + ", ".join(map(str, O)))
    _print_polys("border basis", bb.polynomials, gens)
    _print_polys("reduced Groebner basis", bb.groebner_basis(), gens)
    print(f"multiplication matrices commute: {bb.commutes()}")
    return 0


def run(args: argparse.Namespace) -> int:
    """Build VI-Net at several cuts on the digits; print, save and plot the comparison."""
    if args.algebra:
        return run_algebra(args)
    from bridge.commands._common import torch_threads

    with torch_threads(args.threads):
        return _run_vinet(args)


#: What each acceptance check says when it fails (keys of :func:`bridge._compare.acceptance`).
_FAILED = {"within_tolerance": "more than 1 point below the full network",
           "fewer_params": "not fewer parameters than the full network",
           "faster": "not faster than the full network",
           "beats_linear": "not more accurate than the linear head",
           "beats_random": "not more accurate than random monomials"}


def _run_vinet(args: argparse.Namespace) -> int:
    from bridge._compare import acceptance, compare_cuts, format_table, plot_comparison
    from bridge.commands._common import show_progress
    from neural import DIGITS_RECIPE, load_digits, pretrained_digits_model

    start = time.perf_counter()
    progress = show_progress(args.no_progress)
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    settings = {**DEFAULTS, "n_components": args.n_components, "psi": args.psi,
                "keep": args.keep, "epochs": args.epochs}
    repeats = 10
    if args.quick:
        nodes = nodes[1:2] if args.nodes == ",".join(DEFAULT_NODES) else nodes
        settings = {**settings, **QUICK}
        repeats = 2
    print("vinet demo: VI-Net on scikit-learn's handwritten digits (8x8, 1347 train / "
          "450 test images)")
    model = pretrained_digits_model(fresh=args.fresh, progress=progress)
    print(f"building VI-Net, a linear head and random monomials at {len(nodes)} cut(s) "
          f"({', '.join(nodes)}) of the pretrained ResNet, then timing all "
          f"{3 * len(nodes) + 1} models ...", flush=True)
    arch_kwargs = dict(DIGITS_RECIPE["model"])
    result = compare_cuts(model, nodes, load_digits("train"), load_digits("test"),
                          arch=DIGITS_RECIPE["arch"], arch_kwargs=arch_kwargs,
                          throughput_repeats=repeats, progress=progress, **settings)
    rows = result["rows"]
    print(f"\n{format_table(rows)}\n")
    print(f"conv rm = share of the convolution layers removed by the cut; prep = the PCA "
          f"and scaling map (D*k + k);\npoly = nonzero polynomial coefficients; img/s = "
          f"images/s at batch 256 on {args.threads} CPU thread(s), best of {repeats} "
          "passes timed in turns.\n")
    checks = acceptance(rows)
    print("acceptance (at a cut removing >= 30% of the convolutions, VI-Net is within 1 "
          "point of the full\nnetwork, has fewer parameters, is faster, and beats both "
          "baselines):")
    for c in checks:
        failed = [why for key, why in _FAILED.items() if not c[key]]
        verdict = "MET" if c["met"] else "NOT met: " + "; ".join(failed)
        print(f"  acceptance at {c['node']} ({c['conv_removed']:.0f}% removed, accuracy drop "
              f"{c['accuracy_drop']:.2f} points): {verdict}")
    if not checks:
        print("  no cut removes 30% of the convolutions; pass deeper --nodes.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"rows": rows, "acceptance": checks,
               "settings": {**result["settings"], "quick": bool(args.quick),
                            "throughput_repeats": repeats},
               "seconds": round(time.perf_counter() - start, 1)}
    (out / "demo.json").write_text(json.dumps(payload, indent=2))
    plot_comparison(rows, out / "demo.png")
    print(f"\nwrote {out / 'demo.json'} (the table) and {out / 'demo.png'} (accuracy "
          f"against the share of convolutions removed) in {payload['seconds']:.0f} s")
    return 0
