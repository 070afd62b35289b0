"""``vinet demo``: VI-Net on the bundled digits, the paper's table and plot, over seeds.

Trains (or loads from the cache) the digits ResNet once per seed (five by default),
builds VI-Net at three cut depths with the defaults of :class:`bridge.VINetConfig`
together with its baselines (a linear head, random monomials and an MLP head of the
same size, trained with the same recipe), prints a table like the paper's (parameters,
accuracy as mean ± std over the seeds, the paired difference to VI-Net, throughput)
with a verdict per acceptance check that does not hinge on the last bits of the CPU's
arithmetic, and writes the per-seed numbers as JSON and a PNG plot of accuracy against
the share of convolution layers removed. ``vinet demo --algebra`` prints the exact
border basis of rational points on the circle instead (the algebra behind the generators).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import sympy

from algebra import TERM_ORDERS, PolynomialSet, buchberger_moller, rational_circle_points

#: Cut points of the digits ResNet: the end of layer1, the first ReLU of layer2 and the
#: end of layer2 (6, 5 and 3 of its 9 convolutions removed), the suite's digits cuts.
DEFAULT_NODES = ("relu_2", "relu_3", "relu_4")
#: Backbones (and builds) averaged over: one digit of the 450 test images is 0.22
#: points, so a single run's verdict would flip with the CPU's rounding.
DEFAULT_SEEDS = 5
#: --quick: a smoke test in seconds (its numbers mean nothing).
QUICK = {"keep": 5, "epochs": 2, "max_samples": 60}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` options to ``parser``."""
    from bridge.commands._common import add_config_arguments

    parser.add_argument("--out", default="vinet-demo", type=Path,
                        help="folder for demo.json and demo.png (default: ./vinet-demo)")
    parser.add_argument("--nodes", default=",".join(DEFAULT_NODES),
                        help=f"comma-separated cut points (default: {','.join(DEFAULT_NODES)})")
    parser.add_argument("--quick", action="store_true",
                        help="small settings (one cut, few epochs): a smoke test in seconds")
    parser.add_argument("--threads", type=int, default=1,
                        help="torch CPU threads for training and throughput (default: 1, "
                             "which measures throughput reliably on a busy machine)")
    parser.add_argument("--seeds", type=int, default=DEFAULT_SEEDS,
                        help=f"backbones trained with seeds 0..N-1 and averaged over "
                             f"(default: {DEFAULT_SEEDS})")
    settings = parser.add_argument_group("VI-Net settings (bridge.VINetConfig)")
    add_config_arguments(settings)
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


#: What each acceptance check says (keys of :func:`bridge._compare.acceptance`).
_CHECKS = {"within_tolerance": "within 1 point of the full network",
           "fewer_params": "fewer parameters than the full network",
           "faster": "at least 1.2x the full network's throughput (per-round ratio)",
           "beats_linear": "at least as accurate as the linear head",
           "beats_random": "at least as accurate as random monomials"}


def _run_vinet(args: argparse.Namespace) -> int:
    from bridge._compare import acceptance, compare_cuts, format_table, plot_comparison
    from bridge.commands._common import check_at_least, config_from_args, show_progress
    from neural import DIGITS_RECIPE, load_digits, pretrained_digits_model

    start = time.perf_counter()
    progress = show_progress(args.no_progress)
    check_at_least(args.seeds, 1, "--seeds")
    nodes = [n.strip() for n in args.nodes.split(",") if n.strip()]
    config = config_from_args(args)
    seeds = list(range(args.seeds))
    repeats = 40
    if args.quick:
        nodes = nodes[-1:] if args.nodes == ",".join(DEFAULT_NODES) else nodes
        config = config.replace(**QUICK)
        seeds = seeds[:2]
        repeats = 2
    print(f"vinet demo: VI-Net on scikit-learn's handwritten digits (8x8, 1347 train / 450 "
          f"test images), {len(seeds)} seed(s)")
    models = [pretrained_digits_model(fresh=args.fresh, progress=progress, seed=s)
              for s in seeds]
    print(f"building VI-Net, a linear head, random monomials and an MLP head at "
          f"{len(nodes)} cut(s) ({', '.join(nodes)}) of each seed's ResNet, then timing "
          "the first seed's models ...", flush=True)
    result = compare_cuts(models, nodes, load_digits("train"), load_digits("test"), config,
                          seeds=seeds, arch=DIGITS_RECIPE["arch"],
                          arch_kwargs=dict(DIGITS_RECIPE["model"]),
                          throughput_repeats=repeats, progress=progress)
    rows = result["rows"]
    print(f"\n{format_table(rows)}\n")
    print(f"rm = share of the convolution layers removed by the cut; parameters are the one "
          f"count (docs/concepts.md):\nprep = the projection (D*k + k), poly = nonzero "
          f"coefficients; acc = mean ± std over {len(seeds)} seed(s); VI-Net - row = the "
          f"paired\ndifference ± its standard error; img/s at batch 256 on {args.threads} "
          f"thread(s), best of {repeats} passes timed in turns.\n")
    checks = acceptance(rows)
    print("acceptance at each cut removing >= 30% of the convolutions ('within noise': the "
          "margin is under two\nstandard errors of the paired differences over the seeds, or "
          "of the per-round speed\nratios, so more seeds or timing rounds would be needed to "
          "decide it):")
    for c in checks:
        print(f"  {c['node']} ({c['conv_removed']:.0f}% removed, mean accuracy drop "
              f"{c['accuracy_drop']:.2f} points): {c['verdict'].upper()}")
        for key, check in c["checks"].items():
            print(f"    {_CHECKS[key]}: {check['verdict']} (margin {check['margin']:+.2f}"
                  + (f" ± {check['sem']:.2f}" if check["sem"] else "") + ")")
    for r in rows:
        if r["kind"] == "mlp" and r["diff_vinet"]["mean"] < 0:
            print(f"  note: at {r['node']} the MLP head of the same size beats VI-Net by "
                  f"{-r['diff_vinet']['mean']:.2f} ± {r['diff_vinet']['sem']:.2f} points.")
    if not checks:
        print("  no cut removes 30% of the convolutions; pass deeper --nodes.")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    payload = {"rows": rows, "acceptance": checks, "seeds": seeds,
               "settings": {**result["settings"], "quick": bool(args.quick),
                            "throughput_repeats": repeats},
               "seconds": round(time.perf_counter() - start, 1)}
    (out / "demo.json").write_text(json.dumps(payload, indent=2))
    plot_comparison(rows, out / "demo.png")
    print(f"\nwrote {out / 'demo.json'} (the table, every seed's numbers) and "
          f"{out / 'demo.png'} (accuracy against the share of convolutions removed) in "
          f"{payload['seconds']:.0f} s")
    return 0
