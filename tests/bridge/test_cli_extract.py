"""``vinet extract``: shards written by the CLI equal the in-process extraction."""

import numpy as np
import pytest
import torch

import neural
from bridge.cli import main
from neural import digits_resnet, extract_latents, load_digits, load_shards, truncate


def extract_argv(weights, data, out, *options, node="conv1"):
    """``vinet extract`` of the digits ResNet with these weights, data and output folder."""
    return ["extract", "--arch", "digits_resnet", "--weights", str(weights), "--node", node,
            "--data", str(data), "--out", str(out), *options]


@pytest.fixture
def weights(tmp_path):
    torch.manual_seed(0)
    model = digits_resnet().eval()
    path = tmp_path / "w.pt"
    torch.save(model.state_dict(), path)
    return model, path


@pytest.fixture
def npz(tmp_path):
    X, y = load_digits("test")
    path = tmp_path / "data.npz"
    np.savez(path, X=X[:50].numpy(), y=y[:50].numpy())
    return X[:50], y[:50], path


@pytest.mark.parametrize("pooling", ["avg", "flatten"])
def test_sharded_cli_extraction_equals_unsharded(tmp_path, weights, npz, pooling, capsys):
    model, wpath = weights
    X, y, dpath = npz
    out = tmp_path / "latents"
    for i in range(3):
        argv = extract_argv(wpath, dpath, out, "--pooling", pooling, "--shard", f"{i}/3",
                            "--no-progress", "--batch-size", "7", node="layer3.0.bn1")
        assert main(argv) == 0
    printed = capsys.readouterr().out
    # Contiguous parts [i * 50 // 3, (i + 1) * 50 // 3): 16, 17 and 17 samples.
    for i, size in enumerate((16, 17, 17)):
        assert f"shard {i}/3: {size} samples" in printed
    latents, labels = load_shards(out)
    ref, ref_y = extract_latents(
        truncate(model, "layer3.0.bn1"), (X, y), pooling=pooling, progress=False
    )
    np.testing.assert_allclose(latents, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, ref_y)


def test_digits_uses_the_cached_model(tmp_path, monkeypatch, capsys):
    torch.manual_seed(1)
    stand_in = digits_resnet().eval()
    calls = []
    monkeypatch.setattr(
        neural, "pretrained_digits_model", lambda **kw: calls.append(kw) or stand_in
    )
    out = tmp_path / "d"
    assert (
        main(
            [
                "extract",
                "--digits",
                "--split",
                "test",
                "--node",
                "layer2",
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    assert len(calls) == 1
    latents, labels = load_shards(out)
    ref, ref_y = extract_latents(truncate(stand_in, "layer2"), load_digits("test"), progress=False)
    np.testing.assert_allclose(latents, ref, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(labels, ref_y)
    capsys.readouterr()
    assert main(["extract", "--digits", "--list-nodes", "--no-progress"]) == 0
    listing = capsys.readouterr().out
    assert (
        "layer3.0.bn1" in listing
        and "(1, 64, 2, 2)" in listing
        and "(= layer2.0, layer2)" in listing
    )


def test_unlabelled_data_writes_npy(tmp_path, weights):
    _, wpath = weights
    np.savez(tmp_path / "x.npz", X=np.zeros((4, 1, 8, 8), np.float32))
    out = tmp_path / "o"
    assert main(extract_argv(wpath, tmp_path / "x.npz", out, "--no-progress")) == 0
    assert [p.name for p in out.iterdir()] == ["shard-00000-of-00001.npy"]
    latents, labels = load_shards(out)
    assert latents.shape == (4, 16) and labels is None


def test_extract_errors(tmp_path, weights, npz, capsys):
    _, wpath = weights
    _, _, dpath = npz
    base = ["extract", "--data", str(dpath), "--out", str(tmp_path / "o"), "--no-progress"]
    assert main([*base, "--node", "conv1"]) == 1
    assert "--data needs --arch and --weights" in capsys.readouterr().err
    assert main([*base, "--arch", "digits_resnet", "--node", "conv1"]) == 1
    assert "--arch digits_resnet needs --weights" in capsys.readouterr().err
    assert (
        main([*base, "--arch", "digits_resnet", "--weights", str(wpath), "--node", "layer9"]) == 1
    )
    assert "--node layer9 is not a node of the traced model" in capsys.readouterr().err
    assert main([*base, "--arch", "resnet81", "--weights", str(wpath), "--node", "conv1"]) == 1
    assert ("--arch resnet81 is neither a registered architecture nor of the form "
            "package.module:factory") in capsys.readouterr().err
    np.savez(tmp_path / "bad.npz", images=np.zeros((2, 1, 8, 8)))
    assert main(extract_argv(wpath, tmp_path / "bad.npz", tmp_path / "o")) == 1
    assert "has arrays ['images'] but no 'X'" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--shard", "3/3"])
    assert "--shard '3/3' needs 0 <= i < n" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main([*base, "--shard", "one"])
    assert "is not of the form i/n" in capsys.readouterr().err
