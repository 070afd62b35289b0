"""The shared training recipe: the warm start from the linear read-out and the epoch
chosen on held-out training samples."""

import numpy as np
import pytest
import torch

from bridge import VINetConfig, build_vinet, linear_probe
from bridge._build import holdout_split, prepare_cut

from .conftest import TINY_NODE, TINY_SETTINGS


def _logits(net, X):
    with torch.no_grad():
        return net(X)


def test_warm_start_begins_exactly_at_the_linear_probe(tiny_model, tiny_data):
    train, (X, _) = tiny_data
    settings = {**TINY_SETTINGS, "epochs": 0}
    vinet = build_vinet(tiny_model, TINY_NODE, train, **settings)
    probe = linear_probe(tiny_model, TINY_NODE, train, **settings)
    d = vinet.config["latent_width"]
    # The polynomial features enter the head at zero weight ...
    assert torch.count_nonzero(vinet.head.weight[:, d:]) == 0
    # ... and the latents' block is the probe's head: the same logits.
    torch.testing.assert_close(vinet.head.weight[:, :d], probe.head.weight, rtol=0, atol=1e-6)
    torch.testing.assert_close(_logits(vinet, X), _logits(probe, X), rtol=0, atol=1e-4)
    # Without the warm start the head is fitted on all its inputs: the features get weight,
    # and the logits differ from the probe's by far more than rounding.
    cold = build_vinet(tiny_model, TINY_NODE, train, **{**settings, "warm_start": False})
    assert torch.count_nonzero(cold.head.weight[:, d:]) > 0
    assert (_logits(cold, X) - _logits(probe, X)).abs().max() > 1e-2


def test_fine_tuning_from_the_warm_start_gives_the_features_weight(tiny_model, tiny_data):
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0],
                      **{**TINY_SETTINGS, "epochs": 2, "holdout": 0.0})
    d = net.config["latent_width"]
    assert net.config["training"] == {"epoch": 2}  # no held-out part: the last epoch
    assert net.head.weight[:, d:].abs().max() > 1e-4


def _held_out_accuracy(net, model, train, config, seed):
    cut = prepare_cut(model, TINY_NODE, train, config, arch=None, arch_kwargs=None,
                      progress=False)
    fit, held = holdout_split(cut, config, seed)
    with torch.no_grad():
        pred = net.head(net.head_input(held.x)).argmax(1)
    return fit, held, float((pred == held.y).float().mean())


@pytest.mark.parametrize("seed", [0, 3])
def test_the_kept_epoch_is_the_one_scored_on_the_held_out_samples(tiny_model, tiny_data,
                                                                   seed):
    train = tiny_data[0]
    settings = {**TINY_SETTINGS, "epochs": 3, "holdout": 0.2}
    net = build_vinet(tiny_model, TINY_NODE, train, random_state=seed, **settings)
    info = net.config["training"]
    assert 0 <= info["epoch"] <= 3 and info["holdout_samples"] == 80
    config = VINetConfig.from_dict(net.config["settings"])
    fit, held, accuracy = _held_out_accuracy(net, tiny_model, train, config, seed)
    # The restored state is the scored one: its accuracy on the held-out samples.
    assert accuracy == pytest.approx(info["holdout_accuracy"], abs=1e-6)
    # A stratified split: disjoint, covering, every class on both sides.
    assert len(fit.y) + len(held.y) == len(train[1])
    assert set(held.y.tolist()) == set(fit.y.tolist()) == set(range(10))
    rows = {tuple(r) for r in fit.x.numpy().round(5).tolist()}
    assert not rows & {tuple(r) for r in held.x.numpy().round(5).tolist()}


def test_no_held_out_part_when_a_class_could_not_spare_a_sample(tiny_model, tiny_data):
    X, y = tiny_data[0]
    keep = np.concatenate([np.flatnonzero(y.numpy() == c)[:3] for c in range(10)])
    small = (X[keep], y[keep])  # 30 samples: 10 % would hold out 3, fewer than 10 classes
    config = VINetConfig(holdout=0.1, **{k: v for k, v in TINY_SETTINGS.items()
                                         if k not in ("progress", "arch", "arch_kwargs")})
    cut = prepare_cut(tiny_model, TINY_NODE, small, config, arch=None, arch_kwargs=None,
                      progress=False)
    fit, held = holdout_split(cut, config, 0)
    assert held is None and fit is cut
    assert holdout_split(cut, config.replace(holdout=0.5), 0)[1] is not None
    assert holdout_split(cut, config.replace(holdout=0.0), 0)[1] is None  # the default
