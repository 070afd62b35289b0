"""Helpers shared by the figure scripts (skipped by the runner: the name starts with ``_``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

#: The repository root and the folder every script writes into (docs/generated/).
REPO = Path(__file__).resolve().parents[2]
GENERATED = Path(os.environ.get("VINET_DOCS_GENERATED", REPO / "docs" / "generated"))


def save_figure(fig, name: str) -> Path:
    """Save ``fig`` as ``docs/generated/<name>.png`` (small, 110 dpi) and close it."""
    import matplotlib.pyplot as plt

    GENERATED.mkdir(parents=True, exist_ok=True)
    path = GENERATED / f"{name}.png"
    fig.savefig(path, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def write_text(name: str, text: str) -> Path:
    """Write ``docs/generated/<name>`` (a Markdown or reST fragment for ``{include}``)."""
    GENERATED.mkdir(parents=True, exist_ok=True)
    path = GENERATED / name
    path.write_text(text, encoding="utf-8")
    return path


def load_results(stem: str) -> dict | None:
    """``benchmarks/results/<stem>.json`` if a local run wrote it, else the committed
    ``benchmarks/reference/<stem>.json``, else None."""
    for folder in ("results", "reference"):
        path = REPO / "benchmarks" / folder / f"{stem}.json"
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            data["_source"] = f"benchmarks/{folder}/{stem}.json"
            return data
    return None
