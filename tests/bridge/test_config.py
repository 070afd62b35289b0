"""VINetConfig (one source of defaults), the recipe's pieces, the one parameter count and
the automatic mode."""

import argparse
import inspect
from dataclasses import fields

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import neural
from bridge import (
    SEARCH_SPACE,
    BridgeError,
    VINetConfig,
    build_vinet,
    mlp_head_baseline,
    tune_vinet,
)
from bridge._auto import paired_gain, sign_test
from bridge._build import _from_standard, _to_standard, fit_projection
from bridge._training import distillation_loss
from bridge.commands import demo, fit
from bridge.commands._common import config_from_args

from .conftest import TINY_NODE, TINY_SETTINGS


def _parse(module, argv):
    parser = argparse.ArgumentParser()
    module.add_arguments(parser)
    return parser.parse_args(argv)


def test_cli_and_demo_defaults_are_the_config_defaults():
    # One source of defaults: the flags of `vinet fit` and `vinet demo` give exactly
    # VINetConfig(), and so does build_vinet's default (config=None).
    base = ["--node", "relu_4", "--digits", "--out", "x.pt"]
    assert config_from_args(_parse(fit, base)) == VINetConfig()
    assert config_from_args(_parse(demo, [])) == VINetConfig()
    assert inspect.signature(build_vinet).parameters["config"].default is None
    # Every field has a flag, and a flag changes its field only.
    args = _parse(fit, [*base, "--psi", "0.02", "--keep", "0.5", "--no-skip",
                        "--n-components", "none"])
    assert config_from_args(args) == VINetConfig(psi=0.02, keep=0.5, skip=False,
                                                 n_components=None)
    names = {f.name for f in fields(VINetConfig)}
    assert names <= set(vars(_parse(demo, [])))


def test_config_validates_and_round_trips():
    c = VINetConfig(psi=0.03, keep=10)
    assert VINetConfig.from_dict(c.to_dict()) == c
    assert VINetConfig.from_dict({**c.to_dict(), "unknown_field": 1}) == c
    with pytest.raises(BridgeError, match=r"\['psy'\] is not a setting of VI-Net"):
        c.replace(psy=0.1)
    with pytest.raises(BridgeError, match=r"distill=1\.5 must be a number in"):
        VINetConfig(distill=1.5)
    with pytest.raises(BridgeError, match="keep=0 must be a positive integer"):
        VINetConfig(keep=0)
    with pytest.raises(BridgeError, match="pooling='mean' is not one of"):
        VINetConfig(pooling="mean")
    with pytest.raises(BridgeError, match=r"holdout=1 must be a number in \[0, 1\)"):
        VINetConfig(holdout=1)
    with pytest.raises(BridgeError, match="warm_start='yes' must be True or False"):
        VINetConfig(warm_start="yes")
    with pytest.raises(BridgeError, match=r"scaling='robust' is not one of \('minmax'"):
        VINetConfig(scaling="robust")
    with pytest.raises(AttributeError):
        c.psi = 0.1  # frozen
    paper = VINetConfig.paper()
    assert (paper.pooling, paper.skip, paper.distill, paper.keep) == ("avg", False, 0.0, None)
    assert (paper.warm_start, paper.holdout) == (False, 0.0)


def test_built_model_stores_its_settings(tiny_vinet):
    settings = VINetConfig.from_dict(tiny_vinet.config["settings"])
    expected = VINetConfig().replace(**{k: v for k, v in TINY_SETTINGS.items()
                                        if k in {f.name for f in fields(VINetConfig)}})
    assert settings == expected


def test_distillation_loss_against_a_direct_computation():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(6, 4, generator=g, dtype=torch.float64)
    teacher = torch.randn(6, 4, generator=g, dtype=torch.float64)
    y = torch.tensor([0, 1, 2, 3, 0, 1])
    T, a = 3.0, 0.4
    p = np.exp(teacher.numpy() / T)
    p /= p.sum(1, keepdims=True)
    q = np.exp(logits.numpy() / T)
    q /= q.sum(1, keepdims=True)
    kl = np.mean(np.sum(p * (np.log(p) - np.log(q)), axis=1))
    ls = logits.numpy() - np.log(np.exp(logits.numpy()).sum(1, keepdims=True))
    ce = -np.mean(ls[np.arange(6), y.numpy()])
    got = distillation_loss(logits, y, teacher, a, T).item()
    assert got == pytest.approx((1 - a) * ce + a * T * T * kl, rel=1e-12)
    assert distillation_loss(logits, y, teacher, 0.0, T).item() == pytest.approx(ce)
    assert distillation_loss(logits, y, None, a, T).item() == pytest.approx(ce)


def test_projection_is_the_fitted_pca_and_scaling():
    rng = np.random.default_rng(1)
    x = torch.tensor(rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)), dtype=torch.float32)
    cfg = VINetConfig(n_components=3)
    proj = fit_projection(x, cfg)
    prep = neural.make_preprocessing(x, 3, "minmax")
    with torch.no_grad():
        torch.testing.assert_close(proj(x), prep(x).float(), rtol=1e-4, atol=1e-4)
    assert not any(p.requires_grad for p in proj.parameters())
    assert neural.count_parameters(proj).total == 6 * 3 + 3
    # Standardising the input and folding it back are exact inverses.
    lin = torch.nn.Linear(6, 2).double()
    before = lin(x.double())
    mean, std = x.double().mean(0), x.double().std(0)
    _to_standard(lin, mean, std)
    torch.testing.assert_close(lin((x.double() - mean) / std), before)
    _from_standard(lin, mean, std)
    torch.testing.assert_close(lin(x.double()), before)


def test_one_parameter_count_matches_the_modules_and_the_file(tiny_model, tiny_vinet,
                                                              tiny_data, tmp_path):
    counts = tiny_vinet.parameter_counts()
    # The one count: every parameter and floating buffer (batch-norm statistics), the
    # polynomial layer by its nonzero coefficients, the projection's D*k + k.
    params = sum(p.numel() for p in tiny_vinet.parameters())
    float_buffers = sum(b.numel() for name, b in tiny_vinet.named_buffers()
                        if b.is_floating_point() and "running_" in name)
    assert counts["total"] == params + float_buffers == neural.count_parameters(tiny_vinet).total
    assert counts["poly"] == sum(p.numel() for p in tiny_vinet.poly.parameters())
    assert counts["poly"] == int(tiny_vinet.poly.mask.sum()) == tiny_vinet.poly.nnz
    path = tmp_path / "v.pt"
    tiny_vinet.save(path)
    state = torch.load(path, weights_only=True)["state_dict"]
    assert sum(t.numel() for t in state.values() if t.is_floating_point()) == counts["total"]
    # The equal-size MLP head holds as many parameters as the layer plus the head.
    mlp = mlp_head_baseline(tiny_model, tiny_vinet, tiny_data[0], epochs=1, progress=False)
    got = mlp.parameter_counts()
    n_in = tiny_vinet.poly.in_features + 1 + 10
    assert abs(got["poly"] + got["head"] - counts["poly"] - counts["head"]) <= n_in // 2 + 1
    assert mlp.kind == "mlp" and got["base"] == counts["base"]


def test_auto_mode_chooses_on_a_split_of_the_training_data(tiny_model, tiny_data,
                                                          monkeypatch):
    train = tiny_data[0]
    seen = []
    real = neural.extract_latents

    def spy(model, data, **kwargs):
        seen.append(data[0] if isinstance(data, tuple) else data)
        return real(model, data, **kwargs)

    monkeypatch.setattr(neural, "extract_latents", spy)
    settings = {k: v for k, v in TINY_SETTINGS.items() if k not in ("progress", "arch",
                                                                     "arch_kwargs")}
    config, trials = tune_vinet(tiny_model, TINY_NODE, train, time_budget=5.0,
                                **{**settings, "epochs": 1})
    # It reads only the training images it was given (no test data is passed at all).
    train_rows = {tuple(r.flatten().tolist()) for r in train[0]}
    for X in seen:
        assert all(tuple(r.flatten().tolist()) in train_rows for r in torch.as_tensor(X))
    assert trials[0]["settings"] == {} and trials[0]["chosen"]
    assert isinstance(config, VINetConfig)
    best = max(t["val_accuracy"] or 0 for t in trials)
    chosen = [t for t in trials if t["chosen"]]
    # The choice is the last accepted candidate, and accepting needs a strict gain.
    scores = [t["val_accuracy"] for t in chosen]
    assert scores == sorted(scores) and scores[-1] <= best
    for t in trials[1:]:
        assert set(t["settings"]) <= set(SEARCH_SPACE) | set(settings)
        # A switch needs a Bonferroni-corrected exact sign test at level 0.05.
        level = 0.05 / sum(len(v) - 1 for v in SEARCH_SPACE.values())
        if t["p_value"] is not None:
            assert t["chosen"] == (t["p_value"] < level)
    with pytest.raises(BridgeError, match="time_budget=0 must be a positive number"):
        tune_vinet(tiny_model, TINY_NODE, train, time_budget=0)
    with pytest.raises(BridgeError, match=r"alpha=1 must be a number in \(0, 1\)"):
        tune_vinet(tiny_model, TINY_NODE, train, alpha=1)


def test_paired_gain_against_a_direct_computation():
    new = np.array([1, 1, 0, 1, 0, 1], dtype=bool)
    old = np.array([1, 0, 0, 1, 1, 0], dtype=bool)
    gain, sem = paired_gain(new, old)
    d = [0, 1, 0, 0, -1, 1]
    assert gain == pytest.approx(np.mean(d))
    assert sem == pytest.approx(np.std(d, ddof=1) / np.sqrt(6))
    assert paired_gain(new, new) == (0.0, 0.0)  # identical: no gain, no noise


def test_sign_test_is_the_exact_binomial_tail():
    from math import comb

    # 9 samples won by the new model, 2 by the old, 89 right or wrong for both.
    new = np.r_[np.ones(9, bool), np.zeros(2, bool), np.ones(60, bool), np.zeros(29, bool)]
    old = np.r_[np.zeros(9, bool), np.ones(2, bool), np.ones(60, bool), np.zeros(29, bool)]
    expected = sum(comb(11, k) for k in range(9, 12)) / 2**11
    assert sign_test(new, old) == pytest.approx(expected, rel=1e-12)
    assert sign_test(old, new) == pytest.approx(1 - sum(comb(11, k) for k in range(0, 2))
                                                / 2**11, rel=1e-12)
    assert sign_test(new, new) == 1.0  # never disagree: no evidence


def test_build_vinet_refuses_a_config_that_is_not_one(tiny_model, tiny_data):
    with pytest.raises(BridgeError, match=r"config must be a VINetConfig.*bridge.tune_vinet"):
        build_vinet(tiny_model, TINY_NODE, tiny_data[0], "auto", **TINY_SETTINGS)


def test_grid_pooling_keeps_a_coarse_layout():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    got = neural.pool(x, "grid", 2)
    ref = F.avg_pool2d(x, 2).flatten(1)  # 4x4 in 2x2 cells of 2x2
    torch.testing.assert_close(got, ref)
    assert neural.pool(torch.ones(2, 5, 9), "grid", 3).shape == (2, 15)
    # The global average is the mean of the cells: no information lost against "avg".
    torch.testing.assert_close(got.reshape(2, 3, 4).mean(2), neural.pool(x, "avg"))
    with pytest.raises(neural.NeuralError, match="grid=0 must be an integer >= 1"):
        neural.pool(x, "grid", 0)
