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


@pytest.mark.slow  # trains a small backbone and builds every model at one cut
def test_quick_suite_on_the_digits_writes_every_seed(suite, tmp_path, capsys):
    suite.main(["--quick", "--pairs", "digits / resnet", "--auto-budget", "2"])
    out = json.loads((tmp_path / "results" / "vinet_suite.json").read_text())
    pair = out["pairs"]["digits / resnet"]
    assert list(pair["cuts"]) == ["relu_4"]
    cut = pair["cuts"]["relu_4"]
    assert set(cut) == {"conv_removed", "vinet", "linear", "random", "mlp", "auto"}
    for kind in ("vinet", "linear", "random", "mlp", "auto"):
        entry = cut[kind]
        assert len(entry["test"]["per_seed"]) == 1 and 0 < entry["test"]["mean"] <= 100
        if kind != "vinet":  # paired: VI-Net's per-seed accuracy minus the row's
            assert entry["vinet_minus"]["per_seed"][0] == pytest.approx(
                cut["vinet"]["test"]["per_seed"][0] - entry["test"]["per_seed"][0], abs=2e-3)
    assert cut["random"]["params"] == cut["vinet"]["params"]  # the same size by design
    assert pair["throughput_at_33"]["ratio"] > 0
    assert "VI-Net auto" in capsys.readouterr().out
