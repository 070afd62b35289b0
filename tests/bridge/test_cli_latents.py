"""``vinet extract --teacher`` then ``vinet fit --latents``: the VI-Net from shards."""

import numpy as np
import pytest
import torch

from bridge import VINet
from bridge.cli import main
from neural import digits_resnet, load_digits, open_shards
from tests.bridge.conftest import TINY_NODE

FAST = ["--n-components", "5", "--psi", "0.05", "--keep", "3", "--epochs", "1",
        "--no-progress"]


@pytest.fixture
def shards(tmp_path):
    """A random digits ResNet's weights, digits data, and two shards of its latents."""
    torch.manual_seed(0)
    weights = tmp_path / "w.pt"
    torch.save(digits_resnet().eval().state_dict(), weights)
    X, y = load_digits("train")
    np.savez(tmp_path / "d.npz", X=X[:300].numpy(), y=y[:300].numpy())
    model_flags = ["--arch", "digits_resnet", "--weights", str(weights)]
    for i in range(2):
        assert main(["extract", *model_flags, "--node", TINY_NODE, "--data",
                     str(tmp_path / "d.npz"), "--shard", f"{i}/2", "--teacher", "--out",
                     str(tmp_path / "lat"), "--no-progress"]) == 0
    return tmp_path, model_flags


def test_fit_from_latents_builds_the_full_vinet(shards, capsys):
    tmp_path, model_flags = shards
    first = open_shards(tmp_path / "lat")[0]
    assert first.teacher.shape == (150, 10)
    assert first.meta["node"] == TINY_NODE and first.meta["n_classes"] == 10
    assert first.meta["input_shape"] == [1, 8, 8] and first.meta["pooling"] == "avg"
    capsys.readouterr()
    assert main(["fit", *model_flags, "--latents", str(tmp_path / "lat"), *FAST, "--out",
                 str(tmp_path / "v.pt")]) == 0
    out = capsys.readouterr().out
    assert f"VI-Net at {TINY_NODE}:" in out and "saved" in out
    X, _ = load_digits("test")
    net = VINet.load(tmp_path / "v.pt")  # the shards recorded the architecture
    with torch.no_grad():
        assert net(X[:5]).shape == (5, 10)
    # Without --arch: a VI-Net of pooled latents.
    assert main(["fit", "--latents", str(tmp_path / "lat"), *FAST, "--out",
                 str(tmp_path / "t.pt")]) == 0
    assert "VI-Net of pooled latents:" in capsys.readouterr().out
    tail = VINet.load(tmp_path / "t.pt")
    with torch.no_grad():
        np.testing.assert_allclose(tail(torch.from_numpy(np.array(first.latents[:5]))).shape,
                                   (5, 10))


def test_fit_from_latents_on_a_dask_scheduler(shards, capsys):
    distributed = pytest.importorskip("distributed")
    tmp_path, _ = shards
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        assert main(["fit", "--latents", str(tmp_path / "lat"), *FAST, "--scheduler",
                     cluster.scheduler_address, "--work-dir", str(tmp_path / "work"),
                     "--out", str(tmp_path / "d.pt")]) == 0
    assert "saved" in capsys.readouterr().out
    assert (tmp_path / "work" / "z.npy").is_file()  # a given work folder is kept


def test_fit_from_latents_errors(shards, capsys):
    tmp_path, _ = shards
    base = ["fit", "--latents", str(tmp_path / "lat"), "--out", str(tmp_path / "x.pt"),
            "--no-progress"]
    assert main([*base, "--auto"]) == 1
    assert "--auto needs the images" in capsys.readouterr().err
    assert main([*base, "--distill", "0.5", "--latents", str(tmp_path / "nowhere")]) == 1
    assert "does not exist" in capsys.readouterr().err
    assert main(["fit", "--digits", "--out", str(tmp_path / "x.pt")]) == 1
    assert "fit needs --node" in capsys.readouterr().err
