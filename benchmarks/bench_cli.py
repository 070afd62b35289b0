"""Start-up time of the ``vinet`` command against a bare Python interpreter.

Each command runs in a fresh interpreter, as the ``vinet`` script does:
``python -m bridge.cli --help`` (the same imports as the installed script) and
``--version``, timed in turns with ``python -c pass`` so that the load of a shared
machine weighs on both sides alike. Reported: the best of the repeats of each, and
each command's ratio to ``python -c pass``.

Targets (issue 11): ``vinet --help`` and ``vinet --version`` within 0.5 s; as a ratio,
0.5 s is 10 times the 0.05 s a bare interpreter takes to start on an idle machine, so
the ratio target is 10 (on a loaded machine both sides slow down together).

Run ``python benchmarks/bench_cli.py`` (``--quick`` for fewer repeats); prints the table
and writes ``benchmarks/results/bench_cli.json`` (see README.md).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _results import metric, write_results

ROOT = Path(__file__).resolve().parents[1]
#: The commands timed, by label.
COMMANDS = {
    "python -c pass": ["-c", "pass"],
    "vinet --help": ["-m", "bridge.cli", "--help"],
    "vinet --version": ["-m", "bridge.cli", "--version"],
}
#: Seconds the issue allows ``vinet --help`` and ``--version``, and the ratio to a bare
#: interpreter's start-up (about 0.05 s on an idle machine) it stands for.
TARGET_SECONDS = 0.5
TARGET_RATIO = TARGET_SECONDS / 0.05


def run_once(args: list[str]) -> float:
    """Wall time of one fresh interpreter running ``args`` (run from the repository root,
    so ``-m bridge.cli`` imports this checkout)."""
    t0 = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 repeats instead of 20")
    args = parser.parse_args()
    repeats = 5 if args.quick else 20
    for argv in COMMANDS.values():  # warm the file system cache and .pyc files
        run_once(argv)
    times: dict[str, list[float]] = {label: [] for label in COMMANDS}
    for _ in range(repeats):  # in turns, so every command sees the same load
        for label, argv in COMMANDS.items():
            times[label].append(run_once(argv))
    best = {label: min(ts) for label, ts in times.items()}
    base = best["python -c pass"]
    rows = []
    print(f"{'command':<20}{'best s':>9}{'median s':>10}{'ratio':>8}")
    for label, ts in times.items():
        median = sorted(ts)[len(ts) // 2]
        rows.append({"command": label, "best_s": round(best[label], 4),
                     "median_s": round(median, 4), "ratio": round(best[label] / base, 2)})
        print(f"{label:<20}{best[label]:>9.3f}{median:>10.3f}{best[label] / base:>8.1f}")
    summary = []
    for label in ("vinet --help", "vinet --version"):
        summary.append(metric(f"{label}, best of {repeats} (s)", best[label], "s",
                              f"<= {TARGET_SECONDS}"))
        summary.append(metric(f"{label} / python -c pass", best[label] / base, "x",
                              f"<= {TARGET_RATIO:g}"))
    write_results("bench_cli", summary, rows=rows, quick=args.quick,
                  description="Start-up time of the vinet command in a fresh interpreter "
                              "against python -c pass, timed in turns.")


if __name__ == "__main__":
    main()
