"""VI-Net from a folder of latent shards (bridge.build_vinet_from_shards).

The shard pipeline against the in-memory one on the same latents, its PCA against
scikit-learn's, a Dask cluster against the local run, training that never reads all
latents at once, and bad input.
"""

import functools

import numpy as np
import pytest
import torch
from torch import nn

import neural
from bridge import BridgeError, VINet, VINetConfig, build_vinet_from_shards
from bridge import _shards as shards_module
from bridge._build import Cut, fit_projection, fit_vinet
from bridge._vinet import Pool
from tests.bridge.conftest import TINY_NODE, TINY_SETTINGS

#: Fast settings on the synthetic latents (12 dims, PCA to 6).
SETTINGS = {"pooling": "avg", "n_components": 6, "psi": 0.02, "keep": 5, "epochs": 2}


@functools.cache
def _latents(n_classes=4, per_class=150, width=12):
    """Latents with class structure: each class near its own random 3-dim quadric
    variety (points ``c + A u + B (u ⊗ u)``), plus noise; shuffled; teacher logits
    (the true class's logit 4 above the others', plus Gaussian noise)."""
    rng = np.random.default_rng(0)
    parts = []
    for _ in range(n_classes):
        u = rng.uniform(-1, 1, (per_class, 3))
        rows, cols = np.triu_indices(3)
        quad = u[:, rows] * u[:, cols]
        parts.append(rng.normal(size=width) * 2 + u @ rng.normal(size=(3, width))
                     + quad @ rng.normal(size=(6, width)) * 0.5
                     + 0.05 * rng.normal(size=(per_class, width)))
    X = np.concatenate(parts).astype(np.float32)
    y = np.repeat(np.arange(n_classes), per_class)
    order = rng.permutation(y.shape[0])
    X, y = X[order], y[order]
    # A teacher that knows the classes (a random one, distilled, would unteach them).
    teacher = (4 * np.eye(n_classes)[y] + rng.normal(size=(y.shape[0], n_classes))
               ).astype(np.float32)
    return X, y, teacher


def _write(folder, n_shards, X=None, y=None, teacher=None, meta=None):
    if X is None:
        X, y, teacher = _latents()
    for i, part in enumerate(np.array_split(np.arange(X.shape[0]), n_shards)):
        neural.save_shard(folder, X[part], y[part], shard=(i, n_shards),
                          teacher=None if teacher is None else teacher[part], meta=meta)
    return folder


def _in_memory(config, X, y, teacher):
    """The in-memory pipeline (bridge._build.fit_vinet) on the same latents."""
    cut = Cut(nn.Identity(), Pool("avg"), torch.from_numpy(X), torch.from_numpy(y),
              torch.from_numpy(teacher), None,
              {"arch": None, "arch_kwargs": {}, "node": None, "input_shape": [X.shape[1]],
               "n_classes": int(y.max()) + 1, "latent_width": X.shape[1]})
    return fit_vinet(cut, config, n_jobs=1, random_state=0, progress=False, fit_kwargs={})


def _assert_same_model(a, b, rtol, trained=()):
    """Same structure (supports, terms, classes) and values within ``rtol`` of each
    tensor's largest entry; the ``trained`` tensors (fitted by L-BFGS and Adam, which
    amplify rounding differences) only through the logits, within 2 %."""
    sa, sb = a.state_dict(), b.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        if not sa[key].dtype.is_floating_point:
            assert torch.equal(sa[key], sb[key]), key
        elif key not in trained:
            scale = float(sa[key].abs().max())
            assert float((sa[key] - sb[key]).abs().max()) <= rtol * scale, key
    x = torch.from_numpy(_latents()[0]) if isinstance(a.backbone, nn.Identity) else None
    if x is not None:
        with torch.no_grad():
            la, lb = a(x), b(x)
        assert float((la - lb).abs().max()) <= 0.02 * float(la.abs().max())
        assert float((la.argmax(1) == lb.argmax(1)).float().mean()) >= 0.99


TRAINED = ("poly.values", "head.weight", "head.bias")


def test_one_shard_equals_the_in_memory_pipeline(tmp_path):
    # Same projection (up to the PCA's rounding), the same generators and scores, and,
    # with one shard, the same mini-batches: the same model up to float rounding.
    X, y, teacher = _latents()
    folder = _write(tmp_path, 1)
    start = VINetConfig(**{**SETTINGS, "epochs": 0})  # compiled layer, head's start
    _assert_same_model(_in_memory(start, X, y, teacher),
                       build_vinet_from_shards(folder, start, progress=False), rtol=1e-5,
                       trained=("head.weight", "head.bias"))
    config = VINetConfig(**SETTINGS)
    ref = _in_memory(config, X, y, teacher)
    net = build_vinet_from_shards(folder, config, progress=False)
    _assert_same_model(ref, net, rtol=1e-5, trained=TRAINED)
    np.testing.assert_allclose(net.history_, ref.history_, rtol=1e-2)
    assert net.config["n_generators"] == ref.config["n_generators"]
    assert set(net.timings_) >= {"preprocessing", "fits", "pruning", "fine_tuning", "total"}
    # Several shards: other mini-batches, the same generators and accuracy.
    many = build_vinet_from_shards(_write(tmp_path / "three", 3), config, progress=False)
    for key in ("poly.terms", "poly.support", "poly.labels"):
        assert torch.equal(many.state_dict()[key], ref.state_dict()[key])
    with torch.no_grad():
        acc = [float((m(torch.from_numpy(X)).argmax(1).numpy() == y).mean())
               for m in (ref, many)]
    assert acc[0] > 0.95 and acc[1] > 0.95
    # The work folder is gone.
    assert not list(tmp_path.glob(".vinet-work-*"))


@pytest.mark.parametrize("scaling", ["minmax", "standard", "tanh", None])
@pytest.mark.parametrize("n_components", [4, None])
def test_streamed_projection_matches_the_in_memory_one(tmp_path, scaling, n_components):
    X, y, _ = _latents()
    config = VINetConfig(pooling="avg", n_components=n_components, scaling=scaling)
    source = shards_module.open_source(_write(tmp_path, 3, X, y))
    proj, mean, std = shards_module.fit_projection_streamed(source, config, n_jobs=1)
    ref = fit_projection(torch.from_numpy(X), config)
    x = torch.from_numpy(X)
    with torch.no_grad():
        np.testing.assert_allclose(proj(x), ref(x), atol=1e-4 * float(ref(x).abs().max()))
    np.testing.assert_allclose(mean, x.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(std, x.std(0), rtol=1e-4)


def test_a_dask_cluster_gives_the_local_result(tmp_path):
    distributed = pytest.importorskip("distributed")
    import joblib

    folder = _write(tmp_path, 3)
    config = VINetConfig(**{**SETTINGS, "epochs": 1})
    local = build_vinet_from_shards(folder, config, progress=False)
    with (distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                   dashboard_address=None) as cluster,
          distributed.Client(cluster) as client,
          distributed.get_task_stream(client) as stream,
          joblib.parallel_config(backend="dask")):
        remote = build_vinet_from_shards(folder, config, progress=False)
    assert len(stream.data) >= 4 + 3  # the per-class fits and the maps ran on the cluster
    _assert_same_model(local, remote, rtol=0.0)


class _Guarded:
    """An array that refuses to be read whole, or more than ``limit`` rows at once."""

    def __init__(self, array, limit, reads):
        self.array, self.limit, self.reads = array, limit, reads
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, idx):
        out = self.array[idx]
        if out.shape[0] > self.limit:
            raise AssertionError(f"{out.shape[0]} rows read at once (limit {self.limit})")
        self.reads.append(out.shape[0])
        return out

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole array was read")


def test_training_never_reads_all_latents(tmp_path, monkeypatch):
    X, y, _ = _latents()
    folder = _write(tmp_path, 2)
    limit, reads = X.shape[0] // 4, []

    def guard(shard):
        return neural.Shard(shard.path, _Guarded(shard.latents, limit, reads), shard.labels,
                            _Guarded(shard.teacher, limit, reads), shard.meta)

    opened = neural.open_shards
    reopen = neural.Shard.reopen
    monkeypatch.setattr(neural, "open_shards", lambda d: [guard(s) for s in opened(d)])
    monkeypatch.setattr(neural.Shard, "reopen", lambda self: guard(reopen(self)))
    monkeypatch.setattr(shards_module, "CHUNK_ROWS", 64)
    config = VINetConfig(**SETTINGS, batch_size=32)
    net = build_vinet_from_shards(folder, config, head_samples=100, progress=False)
    assert max(reads) <= limit and sum(reads) > 4 * X.shape[0]  # passes + 2 epochs
    with torch.no_grad():
        assert (net(torch.from_numpy(X)).argmax(1).numpy() == y).mean() > 0.9
    # The guard does fire on a whole read.
    with pytest.raises(AssertionError, match="rows read at once"):
        build_vinet_from_shards(folder, config, head_samples=None, progress=False)


def test_the_full_vinet_from_a_model_equals_build_vinet(tmp_path, tiny_model, tiny_data,
                                                        tiny_vinet):
    (X, y), (Xt, _) = tiny_data
    backbone = neural.truncate(tiny_model, TINY_NODE, example_input=X[:1])
    latents, labels = neural.extract_latents(backbone, (X, y), pooling="avg", progress=False)
    logits, _ = neural.extract_latents(tiny_model, X, pooling="flatten", progress=False)
    meta = {"node": TINY_NODE, "pooling": "avg", "input_shape": list(X.shape[1:])}
    neural.save_shard(tmp_path, latents, labels, shard=(0, 1), teacher=logits, meta=meta)
    settings = {k: v for k, v in TINY_SETTINGS.items() if k != "pooling"}
    net = build_vinet_from_shards(tmp_path, model=tiny_model, **settings)
    _assert_same_model(tiny_vinet, net, rtol=1e-5, trained=TRAINED)
    with torch.no_grad():
        agree = (net(Xt).argmax(1) == tiny_vinet(Xt).argmax(1)).float().mean()
    assert agree >= 0.98
    path = tmp_path / "net.pt"
    net.save(path)
    with torch.no_grad():
        assert torch.equal(VINet.load(path)(Xt), net(Xt))


def test_a_vinet_of_pooled_latents_saves_and_loads(tmp_path):
    X, _, _ = _latents()
    net = build_vinet_from_shards(_write(tmp_path, 2), distill=0.0, epochs=0, progress=False,
                                  **{k: v for k, v in SETTINGS.items() if k != "epochs"})
    assert isinstance(net.backbone, nn.Identity) and net.config["node"] is None
    net.save(tmp_path / "tail.pt")
    with torch.no_grad():
        x = torch.from_numpy(X)
        assert torch.equal(VINet.load(tmp_path / "tail.pt")(x), net(x))


def test_score_samples_subsample_each_class(tmp_path, monkeypatch):
    import bridge._shards as shards

    folder = _write(tmp_path, 2)
    config = VINetConfig(**{**SETTINGS, "epochs": 0})
    full = build_vinet_from_shards(folder, config, score_samples=None, progress=False)
    same = build_vinet_from_shards(folder, config, score_samples=150, progress=False)
    _assert_same_model(full, same, rtol=0.0)  # 150 = every sample of each class
    # "auto" (the default) scores every row when no class has more than its share.
    _assert_same_model(full, build_vinet_from_shards(folder, config, progress=False),
                       rtol=0.0)
    few = build_vinet_from_shards(folder, config, score_samples=40, progress=False)
    assert few.config["n_generators"] == full.config["n_generators"]
    # With a smaller total budget, "auto" is max(SCORE_MIN, SCORE_ROWS // K) per class.
    n_classes = len(full.config["n_generators"])
    monkeypatch.setattr(shards, "SCORE_ROWS", 40 * n_classes)
    monkeypatch.setattr(shards, "SCORE_MIN", 2)
    _assert_same_model(few, build_vinet_from_shards(folder, config, progress=False),
                       rtol=0.0)
    X, y, _ = _latents()
    with torch.no_grad():
        assert (few(torch.from_numpy(X)).argmax(1).numpy() == y).mean() > 0.95


def test_bad_input_gives_clear_errors(tmp_path):
    X, y, teacher = _latents()
    with pytest.raises(BridgeError, match=r"misses shards \[1\] of 3"):
        neural.save_shard(tmp_path / "gap", X[:10], y[:10], shard=(0, 3))
        neural.save_shard(tmp_path / "gap", X[10:20], y[10:20], shard=(2, 3))
        build_vinet_from_shards(tmp_path / "gap")
    with pytest.raises(BridgeError, match="different latent widths D=\\[5, 12\\]"):
        neural.save_shard(tmp_path / "wide", X[:10], y[:10], shard=(0, 2))
        neural.save_shard(tmp_path / "wide", X[10:20, :5], y[10:20], shard=(1, 2))
        build_vinet_from_shards(tmp_path / "wide")
    with pytest.raises(BridgeError, match=r"class\(es\) \[3\] are absent"):
        keep = y != 3
        build_vinet_from_shards(_write(tmp_path / "three", 2, X[keep], y[keep], teacher[keep],
                                       meta={"n_classes": 4}))
    with pytest.raises(BridgeError, match="carry no labels"):
        neural.save_shard(tmp_path / "bare", X, shard=(0, 1))
        build_vinet_from_shards(tmp_path / "bare")
    plain = _write(tmp_path / "plain", 2, X, y)
    with pytest.raises(BridgeError, match=r"distill=0.5 needs the full network's logits.*"
                                          r"--teacher\) or pass distill=0"):
        build_vinet_from_shards(plain)
    with pytest.raises(BridgeError, match="freeze_backbone=False needs the images"):
        build_vinet_from_shards(plain, freeze_backbone=False)
    with pytest.raises(BridgeError, match=r"score_samples=1 must be an integer >= 2, \"auto\" "
                                          r"or None"):
        build_vinet_from_shards(plain, score_samples=1)
    with pytest.raises(BridgeError, match="does not exist"):
        build_vinet_from_shards(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(BridgeError, match=r"holds no shard-i-of-n\.npy/\.npz files; run "
                                          r"the extraction first"):
        build_vinet_from_shards(tmp_path / "empty")
    with pytest.raises(BridgeError, match=r"holdout=0\.2 is not supported from latent "
                                          r"shards"):
        build_vinet_from_shards(plain, holdout=0.2, distill=0.0)
    recorded = _write(tmp_path / "rec", 1, X, y, meta={"pooling": "avg"})
    with pytest.raises(BridgeError, match="pooling='max' differs from the shards' "
                                          "pooling='avg'"):
        build_vinet_from_shards(recorded, pooling="max", distill=0.0)
