"""The VI-Net comparison table and acceptance lines (vinet_table.md) for docs/guide/vinet.md.

Rendered from the VI-Net benchmark's JSON (``benchmarks/results/bench_vinet.json`` of a
local run, else the committed ``benchmarks/reference/bench_vinet.json``), whose rows are
those ``vinet demo`` prints (``bridge._compare.compare_cuts``). Nothing is trained here.
"""

from __future__ import annotations

from _common import load_results, write_text

NAME = "vinet_table.md"
COLUMNS = [("model", "model"), ("node", "cut"), ("conv_removed", "conv. removed (%)"),
           ("params_total", "total params"), ("params_base", "base"), ("params_prep", "prep"),
           ("params_poly", "poly"), ("params_head", "head"), ("accuracy", "test acc. (%)"),
           ("throughput", "images/s")]


def cell(key: str, value) -> str:
    if key.startswith("params") or key == "throughput":
        return f"{value:,.0f}"
    if key in ("accuracy", "conv_removed"):
        return f"{value:.2f}" if key == "accuracy" else f"{value:.0f}"
    return str(value)


data = load_results("bench_vinet")
if not data or not data.get("rows"):
    write_text(NAME, "*No VI-Net benchmark results yet: run `python benchmarks/bench_vinet.py` "
                     "(or `make bench`) and rebuild the documentation.*\n")
else:
    lines = ["| " + " | ".join(title for _, title in COLUMNS) + " |",
             "|" + "|".join("---" for _ in COLUMNS) + "|"]
    for row in data["rows"]:
        lines.append("| " + " | ".join(cell(k, row[k]) for k, _ in COLUMNS) + " |")
    machine = data.get("machine", {})
    settings = data.get("settings", {})
    lines += ["", f"Measured {data.get('date', '?')} on {machine.get('processor', '?')} "
              f"({machine.get('cpu_count', '?')} cores), {settings.get('threads', 1)} torch "
              f"thread(s), source `{data['_source']}`"
              + (" (a `--quick` run)" if data.get("quick") else "") + "."]
    for check in data.get("acceptance", []):
        verdict = "**met**" if check["met"] else "**not met**"
        lines += ["", f"- Acceptance at `{check['node']}` ({check['conv_removed']:.0f}% of the "
                  f"convolutions removed): {verdict}: accuracy drop "
                  f"{check['accuracy_drop']:.2f} points (≤ 1), fewer parameters "
                  f"{check['fewer_params']}, faster {check['faster']}, beats the linear head "
                  f"{check['beats_linear']}, beats random monomials {check['beats_random']}."]
    write_text(NAME, "\n".join(lines) + "\n")
