"""The measured benchmark tables of docs/benchmarks.md (generated/benchmark_tables.md).

Reads ``benchmarks/results/summary.json`` (a local ``make bench``) or else the committed
snapshot ``benchmarks/reference/summary.json``, and renders the summary table plus the
full table(s) of every benchmark named in it as Markdown. Without either, the fragment
says how to produce the numbers.
"""

from __future__ import annotations

import json
import math

from _common import REPO, write_text

OUT = "benchmark_tables.md"


def fmt(value) -> str:
    """A table cell: numbers to 4 significant digits, everything else as text."""
    if isinstance(value, bool) or value is None:
        return {True: "yes", False: "**no**", None: ""}[value]
    if isinstance(value, float):
        if math.isnan(value):
            return "n/a"
        return f"{value:.4g}"
    return str(value).replace("|", "\\|")


def markdown_table(rows: list[dict]) -> str:
    """A Markdown pipe table; the columns are every key, in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns += [k for k in row if k not in columns]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(info: dict) -> str:
    keys = ("processor", "cpu_count", "python", "numpy", "numba", "torch")
    return ", ".join(f"{k.replace('_', ' ')} {info[k]}" for k in keys if k in info)


def render(summary: dict, folder: str) -> str:
    """The page fragment. Each benchmark's own JSON is the source of its numbers (its
    summary, tables, date and load); summary.json names the benchmarks and failures."""
    results = {}
    for rec in summary["benchmarks"]:
        path = REPO / "benchmarks" / folder / f"{rec['benchmark']}.json"
        if path.exists():
            results[rec["benchmark"]] = json.loads(path.read_text(encoding="utf-8"))
    parts = [
        f"Machine: {machine_line(summary.get('machine', {}))}. Source: "
        f"`benchmarks/{folder}/`; each benchmark below names when it ran and how busy the "
        "machine was (1-minute load average; the machine has "
        f"{summary.get('machine', {}).get('cpu_count', '?')} cores).",
        "",
        "## Summary",
        "",
    ]
    rows = []
    for rec in summary["benchmarks"]:
        name = rec["benchmark"]
        if "error" in rec:
            rows.append({"benchmark": name, "metric": f"failed: {rec['error']}",
                         "measured": "", "target": "", "met?": False})
        for e in results.get(name, rec).get("summary", []):
            rows.append({"benchmark": name, "metric": e["metric"],
                         "measured": f"{fmt(e['value'])} {e.get('unit', '')}".strip(),
                         "target": e.get("target") or "", "met?": e.get("met")})
    parts.append(markdown_table(rows))
    for name, data in results.items():
        parts += ["", f"## `{name}`", ""]
        when = f"Measured {data.get('date', '?')}"
        if data.get("quick"):
            when += " (`--quick` run)"
        load = data.get("machine", {}).get("load_average_1min")
        if load is not None:
            when += f", load average {load}"
        parts += [when + ".", ""]
        if data.get("description"):
            parts += [data["description"], ""]
        tables = data.get("tables") or (
            [{"title": "", "rows": data["rows"]}] if data.get("rows") else [])
        for table in tables:
            if table.get("title"):
                parts += [f"**{table['title']}**", ""]
            parts += [markdown_table(table["rows"]), ""]
    return "\n".join(parts) + "\n"


def main() -> None:
    for folder in ("results", "reference"):
        path = REPO / "benchmarks" / folder / "summary.json"
        if path.exists():
            text = render(json.loads(path.read_text(encoding="utf-8")), folder)
            break
    else:
        text = ("No benchmark results yet: run `make bench` (or "
                "`python benchmarks/run_all.py --quick`) and rebuild the docs.\n")
    write_text(OUT, text)


if __name__ == "__main__":
    main()
