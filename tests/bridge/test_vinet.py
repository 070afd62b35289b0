"""VI-Net: the assembled module, training, baselines, save/load and bad configurations."""

import copy

import numpy as np
import pytest
import torch

from bridge import (
    BridgeError,
    PolynomialLayer,
    VINet,
    build_vinet,
    evaluate_model,
    linear_probe,
    random_monomial_baseline,
)
from bridge._compare import acceptance, conv_layers, format_table
from neural import count_parameters, pool, truncate

from .conftest import TINY_NODE, TINY_SETTINGS


def test_forward_is_the_pipeline_recomputed_with_algebra(tiny_vinet, tiny_model, tiny_data):
    X = tiny_data[1][0][:32]
    # Independent recomputation: a fresh cut of the original model, neural's pooling,
    # the fitted projection, algebra's evaluation of the generators, the head on the
    # pooled latents beside them (skip).
    with torch.no_grad():
        latents = pool(truncate(tiny_model, TINY_NODE)(X), "avg")
        z = tiny_vinet.preprocess(latents).double().numpy()
        poly = np.abs(tiny_vinet.poly.to_polynomials().evaluate(z))
        features = np.concatenate([latents.double().numpy(), poly], axis=1)
        W = tiny_vinet.head.weight.double().numpy()
        b = tiny_vinet.head.bias.double().numpy()
        out = tiny_vinet(X).double().numpy()
    np.testing.assert_allclose(out, features @ W.T + b, rtol=1e-4, atol=1e-4)


def test_training_loss_falls_and_backbone_is_frozen(tiny_vinet, tiny_model):
    history = tiny_vinet.history_
    assert len(history) == TINY_SETTINGS["epochs"]
    assert history[-1] < history[0]
    assert all(not p.requires_grad for p in tiny_vinet.backbone.parameters())
    # The backbone's weights are those of the model at the cut, untouched by training.
    ref = dict(tiny_model.named_parameters())
    for name, p in tiny_vinet.backbone.named_parameters():
        assert torch.equal(p, ref[name])


def test_fine_tuning_moves_coefficients_inside_the_fixed_mask(tiny_vinet, tiny_model,
                                                             tiny_data):
    # The same build without fine-tuning: the compiled generators before training.
    before = build_vinet(tiny_model, TINY_NODE, tiny_data[0], **{**TINY_SETTINGS, "epochs": 0})
    assert torch.equal(before.poly.terms, tiny_vinet.poly.terms)
    # The mask is the support of the fitted generators, and fine-tuning keeps it ...
    assert torch.equal(before.poly.masked_coef != 0, before.poly.mask)
    assert torch.equal(tiny_vinet.poly.mask, before.poly.mask)
    assert torch.all(tiny_vinet.poly.masked_coef[~tiny_vinet.poly.mask] == 0)
    # ... while the coefficients inside it are trained.
    moved = (tiny_vinet.poly.masked_coef - before.poly.masked_coef).abs()[tiny_vinet.poly.mask]
    assert moved.max() > 1e-4


def test_unfrozen_backbone_is_fine_tuned_on_a_copy(tiny_model, tiny_data):
    before = {k: v.clone() for k, v in tiny_model.state_dict().items()}
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0],
                      **{**TINY_SETTINGS, "epochs": 2, "freeze_backbone": False,
                         "holdout": 0.0})  # keep the last epoch: it must have moved
    assert len(net.history_) == 2 and net.config["settings"]["freeze_backbone"] is False
    changed = [name for name, p in net.backbone.named_parameters()
               if not torch.equal(p, before[name])]
    assert changed  # the backbone's weights moved ...
    for name, value in tiny_model.state_dict().items():  # ... on a copy of the model
        assert torch.equal(value, before[name])
    # Batch-norm statistics are those of the pretrained network (kept in eval mode).
    for name, value in net.backbone.state_dict().items():
        if "running_" in name:
            assert torch.equal(value, before[name])


def test_generators_are_labelled_pruned_and_vanish_on_their_class(tiny_model, tiny_data):
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0], **{**TINY_SETTINGS, "epochs": 0})
    labels = net.poly.labels.numpy()
    counts = np.bincount(labels, minlength=10)
    assert counts.max() <= TINY_SETTINGS["keep"] and counts.sum() == net.poly.out_features
    assert net.config["n_generators"] == counts.tolist()
    X, y = tiny_data[0]
    with torch.no_grad():
        z = net.features(X).double().numpy()
    # Before fine-tuning, each class's generators are smaller on their own class than
    # on the rest (they were fitted to vanish there and pruned to be large elsewhere).
    for c, polys in zip(np.unique(labels), net.generators(), strict=True):
        values = np.abs(polys.evaluate(z))
        assert values[y.numpy() == c].mean() < values[y.numpy() != c].mean()


def test_each_class_is_fitted_on_its_own_subsample(tiny_model, tiny_data, monkeypatch, capsys):
    import bridge._build as build

    calls = []
    real = build.fit_vanishing_ideal

    def spy(z, **kwargs):
        calls.append((z.copy(), kwargs))
        return real(z, **kwargs)

    monkeypatch.setattr(build, "fit_vanishing_ideal", spy)
    settings = {**TINY_SETTINGS, "epochs": 1, "max_samples": 15, "progress": True,
                "holdout": 0.1}
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0], random_state=7, **settings)
    X, y = tiny_data[0]
    with torch.no_grad():
        z = net.features(X).double().numpy()
    y = y.numpy()
    assert len(calls) == 10
    # The held-out share (which chooses the epoch) is not fitted on.
    assert sum(len(rows) for rows, _ in calls) == len(y) - round(0.1 * len(y))
    for c, (rows, kwargs) in enumerate(calls):
        # Class c's latents only (recomputed through the built network), capped at 15
        # samples by the algebra's own subsampling, each class with its own seed.
        gap = np.abs(rows[:, None, :] - z[y == c][None]).max(axis=2).min(axis=1)
        assert gap.max() < 1e-5
        assert kwargs["max_samples"] == 15 and kwargs["random_state"] == 7 + c
        assert kwargs["psi"] == TINY_SETTINGS["psi"] and kwargs["method"] == "oavi"
    # With progress=True each step shows its bar (extraction, per-class fits, fine-tuning).
    err = capsys.readouterr().err
    for desc in ("extract", "oavi per class", "fine-tune"):
        assert desc in err


@pytest.mark.slow  # starts joblib's worker processes (numba and torch imported in each)
def test_parallel_class_fits_give_the_same_generators(tiny_model, tiny_data, tiny_vinet):
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0], **{**TINY_SETTINGS, "n_jobs": 2})
    assert torch.equal(net.poly.terms, tiny_vinet.poly.terms)
    assert torch.equal(net.poly.labels, tiny_vinet.poly.labels)
    torch.testing.assert_close(net.poly.coef, tiny_vinet.poly.coef)


def test_parameter_split(tiny_vinet, tiny_probe):
    counts = tiny_vinet.parameter_counts()
    assert counts["base"] == count_parameters(tiny_vinet.backbone).total
    assert counts["poly"] == int(tiny_vinet.poly.mask.sum())
    p = tiny_vinet.poly.out_features
    assert counts["head"] == (16 + p) * 10 + 10  # the head sees x (16) beside |G(z)| (p)
    assert counts["prep"] == 16 * 5 + 5  # PCA 16 -> 5 plus the scaling: D*k + k
    assert counts["total"] == sum(counts[k] for k in ("base", "prep", "poly", "head"))
    probe = tiny_probe.parameter_counts()
    assert probe["poly"] == 0 and probe["prep"] == 0 and tiny_probe.kind == "linear"
    assert probe["head"] == 16 * 10 + 10  # a linear head on the pooled latents


def test_evaluate_model_reports_accuracy_params_and_throughput(tiny_vinet, tiny_data):
    test = tiny_data[1]
    report = evaluate_model(tiny_vinet, test, throughput_repeats=1)
    with torch.no_grad():
        expected = (tiny_vinet(test[0]).argmax(1) == test[1]).float().mean().item()
    assert report["accuracy"] == pytest.approx(expected)
    assert report["params"] == tiny_vinet.parameter_counts()
    assert report["throughput"] > 0


def test_linear_probe_matches_logistic_regression(tiny_probe, tiny_data):
    from sklearn.linear_model import LogisticRegression

    X, y = tiny_data[0]
    with torch.no_grad():
        z = tiny_probe.features(X).numpy()
        ours = tiny_probe(X).argmax(1).numpy()
    # Oracle: scikit-learn's multinomial logistic regression on the same features.
    ref = LogisticRegression(max_iter=2000).fit(z, y.numpy()).predict(z)
    assert np.mean(ours == y.numpy()) >= np.mean(ref == y.numpy()) - 0.05


def test_random_baseline_has_the_same_size(tiny_model, tiny_vinet, tiny_data):
    rand = random_monomial_baseline(tiny_model, tiny_vinet, tiny_data[0], epochs=1,
                                    progress=False)
    ref, new = tiny_vinet.poly, rand.poly
    assert rand.kind == "random"
    assert new.out_features == ref.out_features and new.n_terms == ref.n_terms
    assert torch.equal(torch.bincount(new.terms.sum(1)), torch.bincount(ref.terms.sum(1)))
    assert torch.equal(new.mask.sum(0), ref.mask.sum(0))
    assert rand.parameter_counts() == tiny_vinet.parameter_counts()
    assert not torch.equal(new.terms, ref.terms) or not torch.equal(new.mask, ref.mask)


def test_save_load_reproduces_outputs_exactly(tiny_vinet, tiny_probe, tiny_data, tmp_path):
    X = tiny_data[1][0][:50]
    for net in (tiny_vinet, tiny_probe):
        path = tmp_path / f"{net.kind}.pt"
        net.save(path)
        back = VINet.load(path)
        assert back.config == net.config and back.kind == net.kind
        with torch.no_grad():
            assert torch.equal(back(X), net(X))
        assert back.parameter_counts() == net.parameter_counts()
    # The file is one torch file that loads without unpickling code.
    payload = torch.load(tmp_path / "vinet.pt", weights_only=True)
    assert payload["format_version"] == 2 and payload["config"]["node"] == TINY_NODE


def test_load_errors(tiny_vinet, tmp_path):
    with pytest.raises(BridgeError, match="does not exist"):
        VINet.load(tmp_path / "nope.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x00not a torch file at all")
    with pytest.raises(BridgeError, match=r"could not be read.*corrupt"):
        VINet.load(corrupt)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(BridgeError, match="not a VI-Net file"):
        VINet.load(other)
    good = tmp_path / "good.pt"
    tiny_vinet.save(good)
    payload = torch.load(good, weights_only=True)
    payload["format_version"] = 99
    newer = tmp_path / "newer.pt"
    torch.save(payload, newer)
    with pytest.raises(BridgeError, match=r"format version 99.*reads versions 1 to 2"):
        VINet.load(newer)
    payload = torch.load(good, weights_only=True)
    payload["state_dict"]["head.weight"] = torch.zeros(10, 7)
    broken = tmp_path / "broken.pt"
    torch.save(payload, broken)
    with pytest.raises(BridgeError, match="does not fit its own configuration"):
        VINet.load(broken)
    payload = torch.load(good, weights_only=True)
    payload["config"]["arch"] = "no_such_net"
    unknown = tmp_path / "unknown.pt"
    torch.save(payload, unknown)
    with pytest.raises(BridgeError, match=r"was built on arch='no_such_net', which is not a "
                                          r"registered architecture .* pass model="):
        VINet.load(unknown)
    # A file whose state belongs to another registered architecture names the keys.
    payload = torch.load(good, weights_only=True)
    payload["config"]["arch"], payload["config"]["arch_kwargs"] = "resnet18", {}
    foreign = tmp_path / "foreign.pt"
    torch.save(payload, foreign)
    with pytest.raises(BridgeError, match=r"does not fit its own configuration "
                                          r"\(arch='resnet18'.*Missing key\(s\) in state_dict"):
        VINet.load(foreign)


def test_any_model_saves_and_loads_with_its_network(tiny_model, tiny_data, tmp_path):
    # Built without arch=: saved all the same; load() needs the network, whose weights
    # are replaced by the file's.
    settings = {k: v for k, v in TINY_SETTINGS.items() if k not in ("arch", "arch_kwargs")}
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0], **{**settings, "epochs": 1})
    assert net.config["arch"] is None
    net.save(tmp_path / "x.pt")
    with pytest.raises(BridgeError, match=r"a network of unknown architecture \(arch=None\), so "
                                          r"load\(\) cannot rebuild its backbone: pass model="):
        VINet.load(tmp_path / "x.pt")
    other = copy.deepcopy(tiny_model)
    with torch.no_grad():
        for p in other.parameters():
            p.add_(1.0)  # other weights, same architecture
    before = copy.deepcopy(other.state_dict())
    back = VINet.load(tmp_path / "x.pt", model=other)
    X = tiny_data[1][0][:20]
    with torch.no_grad():
        assert torch.equal(back(X), net(X))
    assert back.parameter_counts() == net.parameter_counts()
    # The network passed is left as it was.
    assert all(torch.equal(v, before[k]) for k, v in other.state_dict().items())
    with pytest.raises(BridgeError, match=r"model must be a torch\.nn\.Module"):
        VINet.load(tmp_path / "x.pt", model="resnet18")


def test_load_keeps_the_backbone_frozen(tiny_vinet, tiny_model, tiny_data, tmp_path):
    def trainable(net):
        return sum(p.numel() for p in net.parameters() if p.requires_grad)

    tiny_vinet.save(tmp_path / "frozen.pt")
    back = VINet.load(tmp_path / "frozen.pt")
    assert back.config["settings"]["freeze_backbone"] is True
    # Trainable: the polynomial coefficients and the head, not the backbone.
    assert not any(p.requires_grad for p in back.backbone.parameters())
    assert all(p.requires_grad for m in (back.poly, back.head) for p in m.parameters())
    assert trainable(back) == trainable(tiny_vinet) < sum(p.numel() for p in back.parameters())
    unfrozen = build_vinet(tiny_model, TINY_NODE, tiny_data[0],
                           **{**TINY_SETTINGS, "epochs": 1, "freeze_backbone": False})
    unfrozen.save(tmp_path / "unfrozen.pt")
    again = VINet.load(tmp_path / "unfrozen.pt")
    assert all(p.requires_grad for p in again.backbone.parameters())
    assert trainable(again) == trainable(unfrozen) > trainable(back)


def test_load_without_the_backbone_reads_generators_and_counts(tiny_vinet, tmp_path):
    tiny_vinet.save(tmp_path / "v.pt")
    light = VINet.load(tmp_path / "v.pt", backbone=False)
    assert light.parameter_counts() == tiny_vinet.parameter_counts()
    for a, b in zip(light.generators(), tiny_vinet.generators(), strict=True):
        assert a == b
    assert torch.equal(light.head.weight, tiny_vinet.head.weight)
    with pytest.raises(BridgeError, match="loaded with backbone=False and cannot run"):
        light(torch.zeros(1, 1, 8, 8))
    with pytest.raises(BridgeError, match="no backbone to save"):
        light.save(tmp_path / "again.pt")


def test_bad_configurations(tiny_model, tiny_data):
    train = tiny_data[0]
    with pytest.raises(BridgeError, match="node='fc' is at or after the classifier 'fc'"):
        build_vinet(tiny_model, "fc", train, **TINY_SETTINGS)
    with pytest.raises(BridgeError,
                       match="n_components=17 is larger than the pooled latent width 16"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "n_components": 17})
    X, y = train
    keep = y != 3
    with pytest.raises(BridgeError, match=r"class\(es\) \[3\] are absent"):
        build_vinet(tiny_model, TINY_NODE, (X[keep], y[keep]), **TINY_SETTINGS)
    with pytest.raises(BridgeError, match="no_such_node"):
        build_vinet(tiny_model, "no_such_node", train, **TINY_SETTINGS)
    with pytest.raises(BridgeError, match="n_components=0 must be a positive integer"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "n_components": 0})
    with pytest.raises(BridgeError, match="pooling='mean' is not one of"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "pooling": "mean"})
    with pytest.raises(BridgeError, match="scaling='robust' is not one of"):
        linear_probe(tiny_model, TINY_NODE, train, scaling="robust", progress=False)
    with pytest.raises(BridgeError, match="method='vca' is not one of"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "method": "vca"})
    with pytest.raises(BridgeError, match="epochs=-1 must be an integer >= 0"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "epochs": -1})
    with pytest.raises(BridgeError, match=r"train_data must be a pair \(X, y\)"):
        build_vinet(tiny_model, TINY_NODE, X, **TINY_SETTINGS)
    with pytest.raises(BridgeError, match="No class has a generator"):
        build_vinet(tiny_model, TINY_NODE, train, **{**TINY_SETTINGS, "psi": 1e-12,
                                                      "max_degree": 1})


def test_flatten_cut_before_classifier_is_accepted(tiny_model, tiny_data):
    # 'flatten' (the pooled 16-vector just before fc) is a valid cut: the check is about
    # the classifier, not about the last layers.
    net = build_vinet(tiny_model, "flatten", tiny_data[0], **{**TINY_SETTINGS, "epochs": 0})
    assert conv_layers(net.backbone) == conv_layers(tiny_model)


def test_acceptance_and_table_logic():
    def row(kind, node, removed, per_seed, total, speed, full=None):
        per_seed = np.asarray(per_seed, dtype=float)
        r = {"model": kind, "kind": kind, "node": node, "conv_removed": removed,
             "params_total": total, "params_base": 1, "params_prep": 0, "params_poly": 0,
             "params_head": 0, "accuracy": per_seed.mean(),
             "accuracy_std": per_seed.std(ddof=1), "accuracy_per_seed": list(per_seed),
             "throughput": speed}
        return r

    def paired(a, b):
        d = np.subtract(a, b)
        return {"mean": d.mean(), "sem": d.std(ddof=1) / np.sqrt(d.size),
                "per_seed": list(d)}

    full = [99.0, 99.2, 98.8]
    vi_a, lin_a, rnd_a = [98.5, 98.7, 98.3], [98.0, 98.1, 97.9], [98.5, 98.6, 98.35]
    vi_b, lin_b = [97.5, 97.7, 97.3], [97.0, 97.1, 96.9]
    rows = [row("full", "-", 0, full, 1000, 100.0)]
    for node, removed, vi, lin, rnd in (("a", 50, vi_a, lin_a, rnd_a),
                                        ("b", 40, vi_b, lin_b, lin_b),
                                        ("c", 10, vi_b, lin_b, lin_b)):
        v = row("vinet", node, removed, vi, 500, 130.0)
        v["drop_vs_full"] = paired(full, vi)
        rows.append(v)
        for kind, acc in (("linear", lin), ("random", rnd)):
            r = row(kind, node, removed, acc, 500, 150.0)
            r["diff_vinet"] = paired(vi, acc)
            rows.append(r)
    checks = {c["node"]: c for c in acceptance(rows)}
    assert set(checks) == {"a", "b"}  # c removes < 30 %
    a, b = checks["a"], checks["b"]
    assert a["accuracy_drop"] == pytest.approx(0.5)
    assert a["checks"]["within_tolerance"]["verdict"] == "met"  # margin 0.5, sem 0
    assert a["checks"]["faster"]["verdict"] == "met"  # 1.3x >= 1.2x
    assert a["checks"]["beats_linear"]["verdict"] == "met"
    # +0.0167 mean with a paired sem of 0.0167: under two standard errors.
    assert a["checks"]["beats_random"]["verdict"] == "within noise"
    assert a["verdict"] == "within noise"
    assert b["checks"]["within_tolerance"]["verdict"] == "not met"  # drop 1.5
    assert b["verdict"] == "not met"
    table = format_table(rows).splitlines()
    assert len(table) == 2 + len(rows) and "98.50 ± 0.20" in table[3]
    assert "+0.50 ± 0.06" in table[4]  # VI-Net minus the linear head at a, paired
    # With per-round speeds the speed-up is the mean per-round ratio with its error.
    full_row, vi_row = rows[0], next(r for r in rows if r["kind"] == "vinet")
    full_row["throughput_rounds"] = [100.0, 100.0, 100.0, 100.0]
    vi_row["throughput_rounds"] = [118.0, 126.0, 119.0, 125.0]  # ratios: mean 1.22
    faster = acceptance(rows)[0]["checks"]["faster"]
    sem = np.std([1.18, 1.26, 1.19, 1.25], ddof=1) / 2
    assert faster["margin"] == pytest.approx(0.02, abs=1e-3)
    assert faster["sem"] == pytest.approx(sem, abs=1e-3)
    assert faster["verdict"] == "within noise"  # 0.02 < 2 x 0.02
    vi_row["throughput_rounds"] = [110.0, 112.0, 111.0, 113.0]  # clearly under 1.2
    assert acceptance(rows)[0]["checks"]["faster"]["verdict"] == "not met"


def test_layer_from_vinet_generators_round_trip(tiny_vinet):
    polys = tiny_vinet.poly.to_polynomials()
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    z = torch.rand(7, tiny_vinet.poly.in_features, dtype=torch.float64)
    ref = copy.deepcopy(tiny_vinet.poly).double()
    torch.testing.assert_close(layer(z), ref(z))


def test_build_takes_a_dataset_and_a_shuffling_dataloader(tiny_model, tiny_data):
    from torch.utils.data import DataLoader, TensorDataset

    from bridge._build import prepare_cut
    from bridge._config import VINetConfig

    X, y = tiny_data[0]
    settings = {**TINY_SETTINGS, "epochs": 1}
    config = VINetConfig(pooling="avg", n_components=5, distill=0.5)
    # A map-style Dataset is streamed in its order: the inputs of the tensors' build
    # (to float32 rounding: the batches are stacked by the DataLoader), images not kept.
    ref = prepare_cut(tiny_model, TINY_NODE, (X, y), config, arch=None, arch_kwargs=None,
                      progress=False)
    cut = prepare_cut(tiny_model, TINY_NODE, TensorDataset(X, y), config, arch=None,
                      arch_kwargs=None, progress=False)
    assert torch.equal(cut.y, ref.y) and cut.meta == ref.meta and cut.images is None
    torch.testing.assert_close(cut.x, ref.x, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(cut.teacher, ref.teacher, rtol=1e-5, atol=1e-6)
    net = build_vinet(tiny_model, TINY_NODE, TensorDataset(X, y), **settings)
    assert net.has_poly and net.config["input_shape"] == [1, 8, 8]
    # A shuffling DataLoader gives another order on every pass: the latents, labels and
    # teacher logits of one row must still belong to one image (found by its latents).
    loader = DataLoader(TensorDataset(X, y), batch_size=64, shuffle=True,
                        generator=torch.Generator().manual_seed(0))
    cut = prepare_cut(tiny_model, TINY_NODE, loader, config, arch=None, arch_kwargs=None,
                      progress=False)
    with torch.no_grad():
        latents = pool(truncate(tiny_model, TINY_NODE)(X), "avg")
        logits = tiny_model(X)
    match = torch.cdist(cut.x, latents).argmin(dim=1)
    assert not torch.equal(match, torch.arange(len(y)))  # shuffled ...
    assert sorted(match.tolist()) == list(range(len(y)))  # ... each image once
    assert torch.equal(cut.y, y[match])
    torch.testing.assert_close(cut.teacher, logits[match], rtol=1e-5, atol=1e-5)
    assert cut.images is None  # streamed: the images are not kept
    probe = linear_probe(tiny_model, TINY_NODE, loader,
                         **{k: v for k, v in settings.items()
                            if k not in ("psi", "max_degree", "keep")})
    assert probe.kind == "linear"
    # Fine-tuning the backbone needs the images: a Dataset is read into memory first.
    cut = prepare_cut(tiny_model, TINY_NODE, TensorDataset(X, y),
                      config.replace(freeze_backbone=False), arch=None, arch_kwargs=None,
                      progress=False)
    assert torch.equal(cut.images, X) and torch.equal(cut.y, y)
    net = build_vinet(tiny_model, TINY_NODE, TensorDataset(X, y),
                      **{**settings, "freeze_backbone": False})
    assert all(p.requires_grad for p in net.backbone.parameters()) and len(net.history_) == 1
    with pytest.raises(BridgeError, match=r"yields images without labels"):
        build_vinet(tiny_model, TINY_NODE, TensorDataset(X), **settings)


def test_evaluate_takes_a_dataloader(tiny_vinet, tiny_data):
    from torch.utils.data import DataLoader, TensorDataset

    test = tiny_data[1]
    loader = DataLoader(TensorDataset(*test), batch_size=32, shuffle=True)
    assert tiny_vinet.evaluate(loader, throughput_repeats=0) == tiny_vinet.evaluate(
        test, throughput_repeats=0)
    with pytest.raises(BridgeError, match=r"images of data have shape \(1, 4, 4\) but this "
                                          r"VINet was fitted on \(1, 8, 8\)"):
        tiny_vinet.evaluate(TensorDataset(test[0][:, :, :4, :4], test[1]))


def test_build_records_the_time_of_each_phase(tiny_vinet):
    from bridge._build import PHASES

    timings = tiny_vinet.timings_
    assert all(timings[k] >= 0 for k in PHASES)
    assert timings["total"] == pytest.approx(sum(timings[k] for k in PHASES))
    assert len(timings["fits_per_class"]) == 10
    # Classes fitted one after the other (n_jobs=1): their own times fit in the wall time.
    assert sum(timings["fits_per_class"]) <= timings["fits"]


def test_max_generators_caps_the_total_with_each_class_keeping_its_best():
    from algebra import PolynomialSet, all_monomials
    from bridge import VINetConfig
    from bridge._build import kept_generators

    terms = all_monomials(2, 2, "deglex")
    rng = np.random.default_rng(0)
    # Three classes of five generators; scores distinct, so the choice is unique.
    sets = [PolynomialSet(terms, rng.standard_normal((len(terms), 5))) for _ in range(3)]
    scores = [rng.permutation(5).astype(float) for _ in range(3)]
    top3 = [np.sort(np.argsort(-s)[:3]) for s in scores]
    uncapped = kept_generators(sets, scores, VINetConfig(keep=3, max_generators=None))
    assert [k.tolist() for k in uncapped] == [t.tolist() for t in top3]
    # 9 <= 9: the cap does not bind.
    same = kept_generators(sets, scores, VINetConfig(keep=3, max_generators=9))
    assert [k.tolist() for k in same] == [t.tolist() for t in top3]
    # 9 > 7: each class keeps max(1, 7 // 3) = 2, its two best.
    capped = kept_generators(sets, scores, VINetConfig(keep=3, max_generators=7))
    assert [k.tolist() for k in capped] == [np.sort(np.argsort(-s)[:2]).tolist()
                                            for s in scores]
    # Fewer generators than classes in the budget: one each, never none.
    one = kept_generators(sets, scores, VINetConfig(keep=3, max_generators=2))
    assert [k.tolist() for k in one] == [[int(np.argmax(s))] for s in scores]
    with pytest.raises(BridgeError, match="max_generators=0 must be a positive integer"):
        VINetConfig(max_generators=0)


def test_build_vinet_applies_max_generators(tiny_model, tiny_data):
    settings = {**TINY_SETTINGS, "epochs": 0, "max_generators": 10}
    net = build_vinet(tiny_model, TINY_NODE, tiny_data[0], **settings)
    counts = np.bincount(net.poly.labels.numpy(), minlength=10)
    # Ten classes, a budget of ten: at most one generator each (keep=3 alone gives more).
    assert counts.max() == 1 and counts.sum() == net.poly.out_features <= 10
