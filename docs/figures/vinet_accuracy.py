"""VI-Net accuracy against the share of convolution layers removed (vinet_accuracy.png).

The numbers come from the VI-Net benchmark's JSON (``benchmarks/results/bench_vinet.json``
of a local ``make bench``, else the committed ``benchmarks/reference/bench_vinet.json``):
its rows are those of ``bridge._compare.compare_cuts`` (``kind``, ``conv_removed``,
``accuracy``, ...), drawn by the same ``plot_comparison`` that ``vinet demo`` uses. No
network is trained here. Without results the figure says how to produce them.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
from _common import GENERATED, load_results, save_figure

NAME = "vinet_accuracy"
COLUMNS = {"kind", "conv_removed", "accuracy"}


def comparison_rows(data: dict) -> list[dict] | None:
    """The compare_cuts rows in a results file: ``rows`` or one of its ``tables``."""
    candidates = [data.get("rows") or []] + [t.get("rows") or [] for t in data.get("tables", [])]
    for rows in candidates:
        if rows and all(COLUMNS <= set(r) for r in rows):
            return rows
    return None


data = load_results("bench_vinet")
rows = comparison_rows(data) if data else None
if rows:
    from bridge._compare import plot_comparison

    plot_comparison(rows, GENERATED / f"{NAME}.png")
else:
    fig, ax = plt.subplots(figsize=(5.5, 1.6))
    ax.axis("off")
    ax.text(0.5, 0.5, "No VI-Net benchmark results yet:\nrun `make bench` "
            "(benchmarks/bench_vinet.py) and rebuild the docs.",
            ha="center", va="center", fontsize=10)
    save_figure(fig, NAME)
