"""neural.extract_latents, pool and the shard helpers."""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from torch.utils.data import DataLoader, TensorDataset

from neural import (
    NeuralError,
    digits_resnet,
    extract_latents,
    load_shards,
    pool,
    save_shard,
    truncate,
)
from neural._extract import shard_range


@pytest.fixture(scope="module")
def backbone():
    torch.manual_seed(0)
    m = digits_resnet()
    with torch.no_grad():
        m.train()
        m(torch.rand(64, 1, 8, 8))
    return truncate(m.eval(), "layer2")


@pytest.fixture(scope="module")
def data():
    g = torch.Generator().manual_seed(0)
    return torch.rand(37, 1, 8, 8, generator=g), torch.randint(0, 10, (37,), generator=g)


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (4, 3, 7), (4, 9), (4, 2, 3, 2, 2)])
def test_pool_matches_manual_reductions(shape):
    t = torch.randn(shape)
    n = shape[0]
    if len(shape) == 2:
        for mode in ("avg", "max", "flatten"):
            assert torch.equal(pool(t, mode), t)
        return
    # Oracle: reduce the spatial dims one at a time / reshape, without pool's code path.
    flat = t.reshape(n, shape[1], -1)
    torch.testing.assert_close(pool(t, "avg"), flat.sum(-1) / flat.shape[-1])
    assert torch.equal(pool(t, "max"), flat.max(-1).values)
    assert torch.equal(pool(t, "flatten"), t.reshape(n, -1))


def test_pool_errors():
    with pytest.raises(
        NeuralError, match=r"pooling='mean' is not one of \('avg', 'max', 'flatten', 'grid'\)"
    ):
        pool(torch.zeros(2, 3), "mean")
    with pytest.raises(NeuralError, match=r"got shape \(5,\)"):
        pool(torch.zeros(5), "avg")


@pytest.mark.parametrize("pooling", ["avg", "max", "flatten", "grid"])
def test_extract_equals_pooled_forward(backbone, data, pooling):
    X, y = data
    with torch.no_grad():
        act = backbone(X)  # (37, 32, 4, 4)
    cells = act.reshape(37, 32, 2, 2, 2, 2).mean((3, 5)).reshape(37, -1)  # 2x2 cells of 2x2
    expected = {"avg": act.mean((2, 3)), "max": act.amax((2, 3)), "flatten": act.reshape(37, -1),
                "grid": cells}[
        pooling
    ]
    latents, labels = extract_latents(
        backbone, (X, y), pooling=pooling, batch_size=10, progress=False
    )
    assert latents.dtype == np.float32 and latents.shape == tuple(expected.shape)
    np.testing.assert_allclose(latents, expected.numpy(), rtol=1e-5, atol=1e-6)
    assert labels.dtype == np.int64
    np.testing.assert_array_equal(labels, y.numpy())


def test_every_data_form_gives_the_same_latents(backbone, data):
    X, y = data
    ref, ref_y = extract_latents(backbone, (X, y), batch_size=8, progress=False)
    forms = [
        (X.numpy(), y.numpy()),
        TensorDataset(X, y),
        DataLoader(TensorDataset(X, y), batch_size=5),
    ]
    for form in forms:
        lat, lab = extract_latents(backbone, form, batch_size=8, progress=False)
        np.testing.assert_allclose(lat, ref, rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(lab, ref_y)
    lat, lab = extract_latents(backbone, X, progress=False)
    assert lab is None
    np.testing.assert_allclose(lat, ref, rtol=1e-5, atol=1e-6)
    lat, lab = extract_latents(backbone, DataLoader(TensorDataset(X), batch_size=4), progress=False)
    assert lab is None and lat.shape == ref.shape


def test_train_state_is_restored_and_statistics_untouched(data):
    model = digits_resnet().train()
    model.layer1.eval()
    stats = model.bn1.running_mean.clone()
    extract_latents(model, data[0], progress=False)
    assert model.training and model.layer2.training and not model.layer1.training
    assert torch.equal(model.bn1.running_mean, stats)  # eval mode: no BN update


def test_autocast_stays_close_to_float32(backbone, data):
    ref, _ = extract_latents(backbone, data[0], progress=False)
    amp, _ = extract_latents(backbone, data[0], progress=False, autocast=torch.bfloat16)
    assert amp.dtype == np.float32
    np.testing.assert_allclose(amp, ref, rtol=0.05, atol=0.05)


def test_progress_bar_can_be_shown(backbone, data, capsys):
    extract_latents(backbone, data[0], progress=True, batch_size=16)
    assert "extract" in capsys.readouterr().err


def test_progress_by_default_only_on_a_terminal(backbone, data, monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    for stream, shown in ((io.StringIO(), False), (Terminal(), True)):  # a pipe, a terminal
        monkeypatch.setattr(sys, "stderr", stream)
        extract_latents(backbone, data[0], batch_size=16)  # progress=None
        assert ("extract" in stream.getvalue()) is shown
        stream.truncate(0)
        extract_latents(backbone, data[0], batch_size=16, progress=False)
        assert stream.getvalue() == ""


@pytest.mark.parametrize("n", [1, 3, 5])
def test_shards_concatenate_to_the_unsharded_extraction(backbone, data, tmp_path, n):
    ref, ref_y = extract_latents(backbone, data, progress=False)
    for i in range(n):
        lat, lab = extract_latents(
            backbone, TensorDataset(*data), shard=(i, n), batch_size=4, progress=False
        )
        save_shard(tmp_path, lat, lab, shard=(i, n))
    lat, lab = load_shards(tmp_path)
    np.testing.assert_allclose(lat, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lab, ref_y)


def test_shards_without_labels_and_errors(tmp_path):
    a, b = np.ones((2, 3), np.float32), np.zeros((3, 3), np.float32)
    assert save_shard(tmp_path, a, shard=(0, 2)).name == "shard-00000-of-00002.npy"
    with pytest.raises(NeuralError, match=r"misses shards \[1\] of 2"):
        load_shards(tmp_path)
    save_shard(tmp_path, b, shard=(1, 2))
    lat, lab = load_shards(tmp_path)
    assert lab is None
    np.testing.assert_array_equal(lat, np.concatenate([a, b]))
    with pytest.raises(
        NeuralError, match=r"shard=\(2, 2\) must be a pair \(i, n\) of integers with 0 <= i < n"
    ):
        save_shard(tmp_path, a, shard=(2, 2))
    for bad in [(True, 2), (0.0, 2), (0, 2, 1), "0/2"]:
        with pytest.raises(NeuralError, match=r"must be a pair \(i, n\) of integers"):
            save_shard(tmp_path, a, shard=bad)
    assert save_shard(tmp_path / "np", a, shard=(np.int64(0), np.int64(1))).name == (
        "shard-00000-of-00001.npy"
    )
    (tmp_path / "empty").mkdir()
    with pytest.raises(NeuralError, match=r"holds no shard-i-of-n"):
        load_shards(tmp_path / "empty")
    with pytest.raises(NeuralError, match=r"does not exist"):
        load_shards(tmp_path / "nowhere")
    save_shard(tmp_path, a, shard=(2, 3))
    with pytest.raises(NeuralError, match=r"mixes shards of different counts n=\[2, 3\]"):
        load_shards(tmp_path)


def test_bad_data_and_shapes(backbone, data):
    X, y = data
    with pytest.raises(
        NeuralError,
        match=r"a batch of data of shape \(37, 3, 8, 8\) does not fit the model: "
        r"the model expects input of shape \(N, 1, H, W\)",
    ):
        extract_latents(backbone, torch.zeros(37, 3, 8, 8), progress=False)
    with pytest.raises(NeuralError, match=r"X has 37 samples but y has shape \(36,\)"):
        extract_latents(backbone, (X, y[:-1]), progress=False)
    with pytest.raises(NeuralError, match=r"data of type str is not supported"):
        extract_latents(backbone, "images.npz", progress=False)
    with pytest.raises(NeuralError, match=r"batch_size=0 must be a positive integer"):
        extract_latents(backbone, X, batch_size=0, progress=False)
    with pytest.raises(NeuralError, match=r"pooling='sum' is not one of"):
        extract_latents(backbone, X, pooling="sum", progress=False)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_cuda_request_without_cuda(backbone, data):
    with pytest.raises(
        NeuralError,
        match=r"device='cuda' was requested but CUDA is not available.*pass device='cpu'",
    ):
        extract_latents(backbone, data[0], device="cuda", progress=False)


def test_iterable_dataset_and_drop_last(backbone, data):
    X, y = data
    ref, ref_y = extract_latents(backbone, (X, y), progress=False)

    class Stream(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter(zip(X, y, strict=True))

    lat, lab = extract_latents(backbone, DataLoader(Stream(), batch_size=6), progress=False)
    np.testing.assert_allclose(lat, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lab, ref_y)
    with pytest.raises(NeuralError, match=r"shard= needs a data set of known length"):
        extract_latents(backbone, DataLoader(Stream(), batch_size=6), shard=(0, 2), progress=False)
    # drop_last: 37 samples in batches of 10 -> 30 rows, no uninitialised tail.
    lat, lab = extract_latents(
        backbone, DataLoader(TensorDataset(X, y), batch_size=10, drop_last=True), progress=False
    )
    np.testing.assert_allclose(lat, ref[:30], rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(lab, ref_y[:30])
    with pytest.raises(NeuralError, match=r"data is empty"):
        extract_latents(backbone, X[:0], progress=False)


@given(st.integers(0, 500), st.integers(1, 40))
def test_shards_partition_the_samples_in_order(n_samples, n_shards):
    parts = [shard_range(n_samples, (i, n_shards)) for i in range(n_shards)]
    assert [j for part in parts for j in part] == list(range(n_samples))
    sizes = [len(part) for part in parts]
    assert max(sizes) - min(sizes) <= 1


def test_float64_input_is_cast_and_bad_dtypes_and_models_are_named(backbone, data):
    X = data[0]
    ref, _ = extract_latents(backbone, X, progress=False)
    lat, _ = extract_latents(backbone, X.double().numpy(), batch_size=np.int64(8), progress=False)
    np.testing.assert_allclose(lat, ref, rtol=1e-5, atol=1e-6)
    with pytest.raises(
        NeuralError,
        match=r"a batch of data of dtype torch\.uint8 does not fit the model's torch\.float32 "
        r"weights; convert it to floating point first",
    ):
        extract_latents(backbone, (X * 255).to(torch.uint8), progress=False)
    with pytest.raises(NeuralError, match=r"model must be a torch\.nn\.Module, got str"):
        extract_latents("backbone.pt", X, progress=False)
