"""``vinet demo``: the main job on the bundled default data.

Until VI-Net is assembled, the demo shows the exact algebra: the O-border basis and
the reduced Gröbner basis of rational points on the unit circle (from Pythagorean
triples), computed by Buchberger–Möller over the rationals and printed as sympy
expressions.
"""

from __future__ import annotations

import argparse

import sympy

from algebra import TERM_ORDERS, PolynomialSet, buchberger_moller, rational_circle_points

NAME = "demo"
HELP = "Run the whole pipeline on the bundled default data."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` options to ``parser``."""
    parser.add_argument(
        "--order", default="deglex", choices=sorted(TERM_ORDERS),
        help="term order of the exact border basis (default: deglex)",
    )
    parser.add_argument(
        "--n-points", type=int, default=8,
        help="number of rational points on the unit circle (default: 8)",
    )


def _print_polys(title: str, polys: PolynomialSet, gens: tuple[sympy.Symbol, ...]) -> None:
    print(f"{title} ({len(polys)} polynomials):")
    for j, expr in enumerate(polys.to_sympy(gens)):
        print(f"  g{j} = {sympy.sstr(expr, order=polys.order.alias)}")


def run(args: argparse.Namespace) -> int:
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
