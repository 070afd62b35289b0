"""The benchmark suite's runner and results convention (benchmarks/run_all.py, _results.py).

The benchmarks themselves are not run here (they measure speed; tests never time
anything): fake ``bench_*.py`` scripts in a temporary folder stand in for them.
"""

from __future__ import annotations

import json
import operator
import sys
import textwrap
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def suite(monkeypatch):
    """The run_all and _results modules, imported as the scripts import them."""
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    for name in ("run_all", "_results"):
        sys.modules.pop(name, None)
    import _results
    import run_all

    return run_all, _results


@pytest.mark.parametrize("op", [">=", "<=", ">", "<"])
@pytest.mark.parametrize("value", [0.25, 0.5, 0.75, float("inf")])
def test_target_met_agrees_with_the_operator(suite, op, value):
    _, results = suite
    python_op = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}[op]
    expected = python_op(value, 0.5) if value != float("inf") else False
    assert results.target_met(value, f"{op} 0.5") is expected
    assert results.target_met(value, None) is None


def test_bad_target_is_rejected(suite):
    _, results = suite
    with pytest.raises(ValueError, match=r"target='at least 0\.5'.*'>= 0\.5'"):
        results.metric("ratio", 0.7, "x", "at least 0.5")


def test_write_results_follows_the_convention(suite, tmp_path):
    _, results = suite
    path = results.write_results(
        "bench_x", [results.metric("fit time", 1.2, "s", "<= 1.5")],
        rows=[{"m": 10, "seconds": 1.2}], quick=True, out=tmp_path / "bench_x.json",
    )
    data = json.loads(path.read_text())
    assert data["benchmark"] == "bench_x" and data["quick"] is True
    assert data["summary"] == [{"metric": "fit time", "value": 1.2, "unit": "s",
                                "target": "<= 1.5", "met": True}]
    assert data["rows"] == [{"m": 10, "seconds": 1.2}]
    assert data["machine"]["cpu_count"] >= 1
    with pytest.raises(ValueError, match="lacks"):
        results.write_results("bench_x", [{"metric": "m", "value": 1.0}],
                              out=tmp_path / "bad.json")


FAKE_OK = """
import json, sys
from pathlib import Path
# argparse-declared flags are detected from the source: "--quick"
out = Path(__file__).parent / "results" / "bench_a.json"
out.parent.mkdir(exist_ok=True)
out.write_text(json.dumps({"benchmark": "bench_a", "argv": sys.argv[1:], "summary": [
    {"metric": "speed-up", "value": 3.0, "unit": "x", "target": ">= 2", "met": True},
    {"metric": "memory", "value": 900.0, "unit": "MB", "target": "<= 500", "met": False}]}))
"""
FAKE_NO_SUMMARY = """
import json
from pathlib import Path
out = Path(__file__).parent / "results" / "bench_b.json"
out.parent.mkdir(exist_ok=True)
out.write_text(json.dumps({"rows": [{"ratio": 0.8}]}))
"""
FAKE_CRASH = "raise SystemExit(3)\n"
FAKE_SILENT = "print('forgot to write results')\n"


def make_suite(run_all, monkeypatch, folder: Path, scripts: dict[str, str]) -> None:
    for name, source in scripts.items():
        (folder / f"{name}.py").write_text(textwrap.dedent(source))
    monkeypatch.setattr(run_all, "HERE", folder)
    monkeypatch.setattr(run_all, "RESULTS", folder / "results")
    monkeypatch.setattr(run_all, "SUMMARY", folder / "results" / "summary.json")
    monkeypatch.setattr(run_all, "REFERENCE", folder / "reference")


def test_run_all_collects_one_summary(suite, tmp_path, monkeypatch, capsys):
    run_all, _ = suite
    make_suite(run_all, monkeypatch, tmp_path, {
        "bench_a": FAKE_OK, "bench_b": FAKE_NO_SUMMARY, "bench_c": FAKE_CRASH,
        "bench_d": FAKE_SILENT, "helper": "raise SystemExit(9)\n",  # not bench_*: not run
    })
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "other.json").write_text("{}")  # e.g. a GPU result: kept
    assert run_all.main(["--quick", "--save-reference"]) == 1  # bench_c and bench_d fail

    summary = json.loads((tmp_path / "results" / "summary.json").read_text())
    records = {r["benchmark"]: r for r in summary["benchmarks"]}
    assert sorted(records) == ["bench_a", "bench_b", "bench_c", "bench_d"]
    assert summary["mode"] == "quick"
    # --quick reached the script that declares it, and only that one.
    assert records["bench_a"]["flags"] == ["--quick"] and records["bench_b"]["flags"] == []
    a = json.loads((tmp_path / "results" / "bench_a.json").read_text())
    assert a["argv"] == ["--quick"]
    assert [e["met"] for e in records["bench_a"]["summary"]] == [True, False]
    # A results file without a summary list shows up as a placeholder row, not a crash.
    (placeholder,) = records["bench_b"]["summary"]
    assert "no summary list" in placeholder["metric"] and placeholder["met"] is None
    assert records["bench_c"]["error"] == "exit status 3"
    assert "wrote no bench_d.json" in records["bench_d"]["error"]

    table = capsys.readouterr().out.split("met?")[-1]  # after the header row
    assert "speed-up" in table and "3 x" in table and "NO" in table
    assert "FAILED: exit status 3" in table
    # The reference snapshot gets the successful results and their records; other files stay.
    reference = tmp_path / "reference"
    assert sorted(p.name for p in reference.iterdir()) == [
        "bench_a.json", "bench_b.json", "other.json", "summary.json"]
    saved = json.loads((reference / "summary.json").read_text())["benchmarks"]
    assert [r["benchmark"] for r in saved] == ["bench_a", "bench_b"]
    assert tmp_path.parent / saved[0]["results"] == reference / "bench_a.json"

    # Unmet targets alone fail only with --strict; --summary-only re-prints without running.
    assert run_all.main(["--only", "bench_a"]) == 0
    assert run_all.main(["--only", "bench_a", "--strict"]) == 1
    capsys.readouterr()
    assert run_all.main(["--summary-only"]) == 0
    assert "speed-up" in capsys.readouterr().out

    # Re-measuring one benchmark replaces its reference record only.
    (tmp_path / "bench_b.py").write_text(FAKE_OK.replace("bench_a", "bench_b"))
    assert run_all.main(["--only", "bench_b", "--save-reference"]) == 0
    saved = {r["benchmark"]: r for r in
             json.loads((reference / "summary.json").read_text())["benchmarks"]}
    assert sorted(saved) == ["bench_a", "bench_b"]
    assert [e["metric"] for e in saved["bench_b"]["summary"]] == ["speed-up", "memory"]
    assert json.loads((reference / "bench_b.json").read_text())["benchmark"] == "bench_b"
