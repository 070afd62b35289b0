"""Per-class generators of OAVI, ABM and VCA in the plane (approximate_zero_sets.png).

Two classes of 200 noisy points each, a circle of radius 0.8 and the parabola
``x1 = x0² − 0.6``, fitted per class by :class:`algebra.VanishingIdealTransformer`
(degree ≤ 3, ψ = 0.001) with each method; every panel draws the zero set of every
generator, coloured by the class it was fitted on.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from _common import save_figure

from algebra import VanishingIdealTransformer

rng = np.random.default_rng(0)
angle = rng.uniform(0, 2 * np.pi, 200)
circle = 0.8 * np.column_stack([np.cos(angle), np.sin(angle)])
s = rng.uniform(-1, 1, 200)
parabola = np.column_stack([s, s**2 - 0.6])
X = np.vstack([circle, parabola]) + rng.normal(0, 0.01, (400, 2))
y = np.repeat(["circle", "parabola"], 200)

LIM = 1.15
grid = np.linspace(-LIM, LIM, 241)
gx, gy = np.meshgrid(grid, grid)
plane = np.column_stack([gx.ravel(), gy.ravel()])
colours = {"circle": "tab:blue", "parabola": "tab:orange"}

fig, axes = plt.subplots(1, 3, figsize=(11, 4), layout="constrained")
for ax, (method, psi) in zip(axes, (("oavi", 1e-3), ("abm", 1e-3), ("vca", 1e-3)),
                             strict=True):
    vit = VanishingIdealTransformer(method=method, psi=psi, max_degree=3).fit(X, y)
    for label, gens in zip(vit.classes_, vit.generators_, strict=True):
        ax.scatter(*X[y == label].T, s=3, color=colours[label], alpha=0.35)
        values = gens.evaluate(plane)
        for j in range(len(gens)):
            ax.contour(gx, gy, values[:, j].reshape(gx.shape), levels=[0.0],
                       colors=[colours[label]], linewidths=1.2)
    counts = ", ".join(f"{len(g)} {c}" for c, g in zip(vit.classes_, vit.generators_,
                                                         strict=True))
    ax.set(xlim=(-LIM, LIM), ylim=(-LIM, LIM), aspect="equal", xlabel="$x_0$",
           ylabel="$x_1$", title=f"{method.upper()}, ψ = {psi:g}: {counts}")
save_figure(fig, "approximate_zero_sets")
