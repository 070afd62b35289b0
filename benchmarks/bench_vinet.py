"""VI-Net against the full network on the digits: accuracy, parameters, CPU throughput.

The comparison of ``vinet demo`` (the same function, :func:`bridge.compare_cuts`,
and the same settings, the defaults of :class:`bridge.VINetConfig`) on the cached digits
ResNet of seed 0: VI-Net at three cut depths, and at each cut its baselines (a linear
head, random monomials and an MLP head of the same size). One seed here: the
multi-seed, multi-data-set evaluation is ``benchmarks/vinet_suite.py``. The summary
holds the issue's acceptance test at every cut that removes at least 30% of the
convolutions: accuracy within 1 point of the full network, fewer parameters, at least
1.2x the throughput, and at least the accuracy of both baselines.

Run ``python benchmarks/bench_vinet.py`` (``--quick``: one cut, small settings); prints
the table and writes ``benchmarks/results/bench_vinet.json`` (see README.md). Torch runs
on one thread (``--threads``), as in ``vinet demo``.
"""

from __future__ import annotations

import argparse
import time

import torch
from _results import metric, write_results

from bridge import VINetConfig, acceptance, compare_cuts, format_table
from bridge.commands.demo import DEFAULT_NODES, QUICK
from neural import DIGITS_RECIPE, load_digits, pretrained_digits_model


def main(argv: list[str] | None = None) -> None:
    """Run the comparison, print the table and write the JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one cut, small settings")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    nodes = list(DEFAULT_NODES[-1:] if args.quick else DEFAULT_NODES)
    config = VINetConfig().replace(**(QUICK if args.quick else {}))
    repeats = 3 if args.quick else 20
    start = time.perf_counter()
    model = pretrained_digits_model()
    result = compare_cuts(model, nodes, load_digits("train"), load_digits("test"),
                          arch=DIGITS_RECIPE["arch"], arch_kwargs=dict(DIGITS_RECIPE["model"]),
                          throughput_repeats=repeats, progress=False, config=config)
    rows = result["rows"]
    print(format_table(rows))
    full = rows[0]
    summary = []
    checks = acceptance(rows)
    for c in checks:
        at = {r["kind"]: r for r in rows if r["node"] == c["node"]}
        vi = at["vinet"]
        where = f"at {c['node']} ({c['conv_removed']:.0f}% conv removed)"
        summary += [
            metric(f"VI-Net {where}: accuracy drop vs full network", c["accuracy_drop"],
                   "points", "<= 1"),
            metric(f"VI-Net {where}: parameters / full network",
                   vi["params_total"] / full["params_total"], "x", "< 1"),
            metric(f"VI-Net {where}: throughput / full network",
                   vi["throughput"] / full["throughput"], "x", ">= 1.2"),
            metric(f"VI-Net {where}: accuracy minus linear head",
                   vi["accuracy"] - at["linear"]["accuracy"], "points", ">= 0"),
            metric(f"VI-Net {where}: accuracy minus random monomials",
                   vi["accuracy"] - at["random"]["accuracy"], "points", ">= 0"),
            metric(f"VI-Net {where}: accuracy minus the same-size MLP head",
                   vi["accuracy"] - at["mlp"]["accuracy"], "points", None),
        ]
        print(f"acceptance {where}: {c['verdict']}")
    write_results(
        "bench_vinet",
        summary,
        rows=rows,
        quick=args.quick,
        description="VI-Net and its baselines (linear head, random monomials, same-size MLP "
                    "head) at several cuts of the digits ResNet (seed 0) against the full "
                    "network: test accuracy (%), parameters, images/s at batch 256 on one "
                    "CPU thread.",
        settings={**result["settings"], "throughput_repeats": repeats},
        acceptance=checks,
        seconds=round(time.perf_counter() - start, 1),
    )


if __name__ == "__main__":
    main()
