"""Run every ``benchmarks/bench_*.py`` and print one summary table (``make bench``).

Each script runs in its own subprocess (so one crash or one library's thread settings
cannot affect the others) with ``--quick`` or ``--full`` passed through when the script
supports that flag.  Afterwards the script's ``benchmarks/results/<name>.json`` is read
(see README.md for the convention) and its ``"summary"`` entries become rows of one
table: benchmark, metric, measured, target, met?.  The table is saved as
``benchmarks/results/summary.json`` (read by the documentation's benchmark page).

Usage::

    python benchmarks/run_all.py                  # every benchmark, default sizes
    python benchmarks/run_all.py --quick          # short runs
    python benchmarks/run_all.py --only layer     # names containing "layer"
    python benchmarks/run_all.py --summary-only   # re-print the table from saved JSON
    python benchmarks/run_all.py --summary-only --save-reference  # snapshot for the docs
    python benchmarks/run_all.py --only layer --save-reference     # re-measure one of them

Exit status 1 if a benchmark failed or wrote no results; unmet targets are reported in
the table but do not fail the run (use ``--strict`` for that).
"""

from __future__ import annotations

import argparse
import datetime
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from _results import RESULTS, machine

HERE = Path(__file__).resolve().parent
SUMMARY = RESULTS / "summary.json"
#: The committed snapshot shown by the documentation's benchmark page.
REFERENCE = HERE / "reference"


def discover(only: list[str] | None = None) -> list[Path]:
    """The benchmark scripts, sorted by name, optionally filtered by substrings."""
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(o in s.stem for o in only)]
    return scripts


def supported_flags(script: Path) -> set[str]:
    """The mode flags a script's argparse declares (read from its source, no import)."""
    text = script.read_text(encoding="utf-8")
    return {flag for flag in ("--quick", "--full") if f'"{flag}"' in text or f"'{flag}'" in text}


def summary_rows(data: dict) -> list[dict]:
    """The summary entries of one results file (a placeholder row when it has none)."""
    if isinstance(data.get("summary"), list):
        return data["summary"]
    return [{"metric": "(no summary list in the results file; see benchmarks/README.md)",
             "value": float("nan"), "unit": "", "target": None, "met": None}]


def run_one(script: Path, mode: str | None, timeout: float) -> dict:
    """Run one benchmark script; return its record for ``summary.json``."""
    name = script.stem
    result_file = RESULTS / f"{name}.json"
    before = result_file.stat().st_mtime if result_file.exists() else None
    flags = [f"--{mode}"] if mode and f"--{mode}" in supported_flags(script) else []
    print(f"\n=== {name} {' '.join(flags)}".rstrip(), flush=True)
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), *flags], cwd=HERE.parent,
                              timeout=timeout, check=False)
        returncode = proc.returncode
    except subprocess.TimeoutExpired:
        returncode = "timeout"
    seconds = time.perf_counter() - t0
    record = {"benchmark": name, "flags": flags, "returncode": returncode,
              "seconds": round(seconds, 2), "results": None, "summary": []}
    fresh = result_file.exists() and result_file.stat().st_mtime != before
    if returncode == 0 and fresh:
        data = json.loads(result_file.read_text(encoding="utf-8"))
        record["results"] = str(result_file.relative_to(HERE.parent))
        record["summary"] = summary_rows(data)
    elif returncode == 0:
        record["error"] = f"exited 0 but wrote no {result_file.name}"
    else:
        record["error"] = f"exit status {returncode}"
    return record


def save_reference(records: list[dict]) -> None:
    """Copy the results of ``records`` into benchmarks/reference/ and merge their records
    into its summary.json.

    Only the benchmarks of ``records`` that succeeded are replaced: the reference keeps
    the other benchmarks' files and records (and any other file in the folder), so one
    benchmark can be re-measured without touching the rest.
    """
    REFERENCE.mkdir(exist_ok=True)
    target = REFERENCE / SUMMARY.name
    merged = {}
    if target.exists():
        merged = {r["benchmark"]: r
                  for r in json.loads(target.read_text(encoding="utf-8"))["benchmarks"]}
    saved = []
    for rec in records:
        if rec.get("results") and "error" not in rec:
            source = HERE.parent / rec["results"]
            shutil.copy2(source, REFERENCE / source.name)
            merged[rec["benchmark"]] = {
                **rec, "results": str((REFERENCE / source.name).relative_to(HERE.parent))}
            saved.append(rec["benchmark"])
    payload = json.loads(SUMMARY.read_text(encoding="utf-8"))
    payload["benchmarks"] = [merged[name] for name in sorted(merged)]
    target.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"saved {', '.join(saved) or 'nothing'} in the reference snapshot {REFERENCE}")


def format_value(value: float, unit: str) -> str:
    if value != value:  # NaN
        return "n/a"
    text = f"{value:.3g}" if abs(value) < 1e5 else f"{value:.3e}"
    return f"{text} {unit}".strip()


def print_table(records: list[dict]) -> None:
    """The one summary table: benchmark, metric, measured, target, met?."""
    rows = [("benchmark", "metric", "measured", "target", "met?")]
    for rec in records:
        if "error" in rec:
            rows.append((rec["benchmark"], f"FAILED: {rec['error']}", "", "", "no"))
        for entry in rec["summary"]:
            met = {True: "yes", False: "NO", None: ""}[entry.get("met")]
            rows.append((rec["benchmark"], entry["metric"],
                         format_value(entry["value"], entry.get("unit", "")),
                         entry.get("target") or "", met))
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    line = "  ".join("-" * w for w in widths)
    print("\n" + line)
    for i, row in enumerate(rows):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip())
        if i == 0:
            print(line)
    print(line)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="pass --quick to each script")
    mode.add_argument("--full", action="store_true", help="pass --full to each script")
    parser.add_argument("--only", nargs="+", help="run the scripts whose name contains these")
    parser.add_argument("--timeout", type=float, default=3600.0,
                        help="seconds allowed per script (default 3600)")
    parser.add_argument("--summary-only", action="store_true",
                        help="run nothing; re-print the table from the saved summary.json")
    parser.add_argument("--strict", action="store_true",
                        help="exit 1 when a target is not met as well")
    parser.add_argument("--save-reference", action="store_true",
                        help="copy the JSON of each benchmark run (or, with "
                             "--summary-only, of the last run) to benchmarks/reference/ and "
                             "merge it into its summary.json (the numbers the docs show)")
    args = parser.parse_args(argv)

    if args.summary_only:
        if not SUMMARY.exists():
            print(f"{SUMMARY} does not exist; run python benchmarks/run_all.py first.")
            return 1
        records = json.loads(SUMMARY.read_text(encoding="utf-8"))["benchmarks"]
        if args.only:
            records = [r for r in records if any(o in r["benchmark"] for o in args.only)]
    else:
        scripts = discover(args.only)
        if not scripts:
            print(f"no benchmarks/bench_*.py matches --only {args.only}")
            return 1
        run_mode = "quick" if args.quick else "full" if args.full else None
        records = [run_one(s, run_mode, args.timeout) for s in scripts]
        SUMMARY.parent.mkdir(parents=True, exist_ok=True)
        SUMMARY.write_text(json.dumps({
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "mode": run_mode or "default",
            "machine": machine(),
            "benchmarks": records,
        }, indent=2) + "\n", encoding="utf-8")
    print_table(records)
    if not args.summary_only:
        print(f"saved {SUMMARY}")
    if args.save_reference:
        save_reference(records)
    failed = any("error" in r for r in records)
    unmet = any(e.get("met") is False for r in records for e in r["summary"])
    return 1 if failed or (args.strict and unmet) else 0


if __name__ == "__main__":
    sys.exit(main())
