"""Smoke test of the VI-Net evaluation suite (benchmarks/vinet_suite.py): it runs, it
writes every per-seed number, and its MNIST-1D is generated locally."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def suite(monkeypatch, tmp_path):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    monkeypatch.setenv("VINET_CACHE_DIR", str(tmp_path / "cache"))
    for name in ("vinet_suite", "_results"):
        sys.modules.pop(name, None)
    import _results
    import vinet_suite

    monkeypatch.setattr(_results, "RESULTS", tmp_path / "results")
    return vinet_suite


def test_mnist1d_is_generated_offline_with_disjoint_splits(suite):
    pytest.importorskip("mnist1d")
    data = suite.mnist1d_splits(1_000)
    sizes = {k: len(v[1]) for k, v in data.items()}
    assert sizes == {"train": 640, "val": 160, "test": 200}
    assert data["train"][0].shape[1:] == (1, 40)
    train = {tuple(r) for r in data["train"][0][:, 0].numpy().round(6).tolist()}
    assert not train & {tuple(r) for r in data["val"][0][:, 0].numpy().round(6).tolist()}
    again = suite.mnist1d_splits(1_000)  # cached: the same arrays
    assert np.array_equal(again["test"][0].numpy(), data["test"][0].numpy())


def test_digits_draw_one_stratified_split_per_seed(suite):
    a, b = suite.digits_splits(0), suite.digits_splits(1)
    assert {k: len(v[1]) for k, v in a.items()} == {"train": 1077, "val": 270, "test": 450}
    rows = {k: {tuple(r) for r in v[0].flatten(1).numpy().round(4).tolist()}
            for k, v in a.items()}
    assert not rows["train"] & rows["test"] and not rows["val"] & rows["test"]
    everything = np.concatenate([v[1].numpy() for v in a.values()])
    expected = 450 * np.bincount(everything) / len(everything)  # stratified: each class's share
    assert np.abs(np.bincount(a["test"][1].numpy()) - expected).max() <= 1
    assert not np.array_equal(a["test"][1].numpy(), b["test"][1].numpy())


@pytest.mark.slow  # trains a small backbone and builds every model at one cut
def test_quick_suite_on_the_digits_writes_every_seed(suite, tmp_path, capsys):
    suite.main(["--quick", "--pairs", "digits / resnet", "--auto-budget", "2"])
    out = json.loads((tmp_path / "results" / "vinet_suite.json").read_text())
    pair = out["pairs"]["digits / resnet"]
    rows = {(r["kind"], r["node"]): r for r in pair["rows"]}
    assert set(rows) == {("full", "-"), *((k, "relu_4") for k in ("vinet", "linear",
                                                                     "random", "mlp"))}
    vi = rows[("vinet", "relu_4")]
    for kind in ("linear", "random", "mlp"):
        entry = rows[(kind, "relu_4")]
        assert len(entry["accuracy_per_seed"]) == 1 and 0 < entry["accuracy"] <= 100
        # paired: VI-Net's per-seed accuracy minus the row's
        assert entry["diff_vinet"]["per_seed"][0] == pytest.approx(
            vi["accuracy_per_seed"][0] - entry["accuracy_per_seed"][0], abs=2e-3)
    assert rows[("random", "relu_4")]["params_total"] == vi["params_total"]  # by design
    assert vi["throughput"] > 0 and rows[("full", "-")]["throughput"] > 0
    auto = pair["auto"]["relu_4"]
    assert len(auto["per_seed"]) == 1 and auto["minus_defaults"]["per_seed"][0] == \
        pytest.approx(auto["per_seed"][0] - vi["accuracy_per_seed"][0], abs=2e-3)
    assert [c["node"] for c in pair["acceptance"]] == ["relu_4"]
    assert "VI-Net auto at relu_4" in capsys.readouterr().out
