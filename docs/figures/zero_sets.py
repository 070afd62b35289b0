"""Zero sets of generators in the plane: exact border basis vs fitted ones (zero_sets.png).

Left: the reduced Gröbner basis of the ideal of the eight rational circle points
(exact Buchberger–Möller); the common zeros of its three polynomials are exactly the
eight points. Middle and right: the generators that OAVI and ABM fit to 300 noisy
samples of a circle of radius 0.9; both find one degree-2 generator, the circle.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import save_figure

from algebra import buchberger_moller, fit_abm, fit_oavi, rational_circle_points

LIM = 1.3
grid = np.linspace(-LIM, LIM, 301)
gx, gy = np.meshgrid(grid, grid)
plane = np.column_stack([gx.ravel(), gy.ravel()])


def draw(ax, polys, points, title):
    """Each polynomial's zero set as a contour at level 0, over the sample points."""
    values = polys.astype(float).evaluate(plane)
    colours = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    few = len(points) < 50  # a few exact points on top, a noisy cloud underneath
    ax.scatter(points[:, 0], points[:, 1], s=28 if few else 5, color="black" if few else "0.45",
               zorder=3 if few else 1)
    for j, expr in enumerate(polys.to_sympy()):
        c = colours[j % len(colours)]
        ax.contour(gx, gy, values[:, j].reshape(gx.shape), levels=[0.0], colors=[c],
                   linewidths=1.6, zorder=2)
        ax.plot([], [], color=c, label=f"${_latex(expr)}$")
    ax.set(xlim=(-LIM, LIM), ylim=(-LIM, LIM), aspect="equal", title=title,
           xlabel="$x_0$", ylabel="$x_1$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), fontsize=7, frameon=False)


def _latex(expr) -> str:
    """LaTeX with float coefficients rounded to 3 significant digits (exact ones kept)."""
    import sympy

    rounded = expr.xreplace({f: sympy.Float(f, 3) for f in expr.atoms(sympy.Float)})
    return sympy.latex(rounded)


exact_points = rational_circle_points(8)
basis = buchberger_moller(exact_points, order="deglex")

rng = np.random.default_rng(0)
angle = rng.uniform(0, 2 * np.pi, 300)
noisy = 0.9 * np.column_stack([np.cos(angle), np.sin(angle)]) + rng.normal(0, 0.01, (300, 2))

fig, axes = plt.subplots(1, 3, figsize=(11, 4.8), layout="constrained")
draw(axes[0], basis.groebner_basis(), exact_points.astype(float),
     "exact: reduced Gröbner basis\nof 8 rational points")
draw(axes[1], fit_oavi(noisy, psi=0.001, max_degree=4), noisy,
     "OAVI, ψ = 0.001\n300 noisy points")
draw(axes[2], fit_abm(noisy, psi=0.001, max_degree=4), noisy,
     "ABM, ψ = 0.001\n300 noisy points")
save_figure(fig, "zero_sets")
