"""The results convention shared by every ``benchmarks/bench_*.py`` (see README.md).

A benchmark script imports this module (``from _results import metric, write_results``;
the script's own folder is on ``sys.path`` when it runs as ``python benchmarks/bench_x.py``)
and ends with one :func:`write_results` call, which writes
``benchmarks/results/<name>.json``: a top-level ``"summary"`` list of headline metrics
(read by ``benchmarks/run_all.py`` for its summary table and by the docs' benchmark page)
and the full table(s) of the run.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"

_TARGET = re.compile(r"^\s*(>=|<=|>|<)\s*([-+0-9.eE]+)\s*$")
_OPS = {
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def target_met(value: float, target: str | None) -> bool | None:
    """Whether ``value`` meets ``target`` (``">= 0.5"``, ``"<= 1.5"``, ...); None if no target.

    Parameters
    ----------
    value : float
        The measured value.
    target : str or None
        An operator (``>=``, ``<=``, ``>``, ``<``) and a number, e.g. ``">= 0.5"``.

    Returns
    -------
    bool or None
    """
    if target is None:
        return None
    match = _TARGET.match(target)
    if match is None:
        raise ValueError(
            f"target={target!r} is not '<op> <number>' with op one of >=, <=, >, <; "
            f"write e.g. '>= 0.5'."
        )
    if not math.isfinite(value):
        return False
    return bool(_OPS[match.group(1)](value, float(match.group(2))))


def metric(name: str, value: float, unit: str = "", target: str | None = None) -> dict:
    """One entry of the ``"summary"`` list: ``{"metric", "value", "unit", "target", "met"}``.

    Parameters
    ----------
    name : str
        What is measured, self-explanatory in a table row, e.g.
        ``"layer / nn.Linear throughput, min over shapes"``.
    value : float
        The measured value.
    unit : str, default ""
        ``"s"``, ``"x"`` (a ratio), ``"%"``, ``"samples/s"``, ...
    target : str, optional
        The goal from the issue, e.g. ``">= 0.5"``; ``met`` is computed from it.

    Returns
    -------
    dict
    """
    value = float(value)
    return {"metric": name, "value": value, "unit": unit, "target": target,
            "met": target_met(value, target)}


def machine() -> dict:
    """Where the numbers were measured: CPU, core count, Python and library versions."""
    info = {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }
    if hasattr(os, "getloadavg"):
        # Other processes on the machine distort every timing: record how busy it was.
        info["load_average_1min"] = round(os.getloadavg()[0], 2)
    for mod in ("numpy", "numba", "torch"):
        if mod in sys.modules:
            info[mod] = getattr(sys.modules[mod], "__version__", "?")
    return info


def write_results(
    name: str,
    summary: Sequence[dict],
    rows: Sequence[dict] | None = None,
    *,
    tables: Sequence[dict] | None = None,
    quick: bool = False,
    description: str = "",
    out: str | os.PathLike[str] | None = None,
    **extra: Any,
) -> Path:
    """Write ``benchmarks/results/<name>.json`` following the convention.

    Parameters
    ----------
    name : str
        The script's stem, e.g. ``"bench_monomials"``.
    summary : sequence of dict
        Headline metrics, each made by :func:`metric`.
    rows : sequence of dict, optional
        The full table: one flat dict per row, the same keys in every row.
    tables : sequence of dict, optional
        Several tables instead of ``rows``: ``{"title": str, "rows": [...]}`` each.
    quick : bool, default False
        Whether the run was a ``--quick`` one.
    description : str, default ""
        One sentence on what is compared, shown above the tables in the docs.
    out : path, optional
        Where to write; ``benchmarks/results/<name>.json`` by default.
    **extra
        Any further JSON-serialisable fields.

    Returns
    -------
    pathlib.Path
        The file written.
    """
    for entry in summary:
        missing = {"metric", "value", "unit", "target", "met"} - set(entry)
        if missing:
            raise ValueError(f"summary entry {entry!r} lacks {sorted(missing)}; build it "
                             f"with metric(...).")
    payload = {
        "benchmark": name,
        "description": description,
        "quick": quick,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": machine(),
        "summary": list(summary),
        **({"rows": list(rows)} if rows is not None else {}),
        **({"tables": list(tables)} if tables is not None else {}),
        **extra,
    }
    path = Path(out) if out is not None else RESULTS / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=float) + "\n", encoding="utf-8")
    print(f"wrote {path}")
    return path
