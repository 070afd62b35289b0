"""Acceptance of issue 11 on the command line: a torchvision ResNet-18 and a user's own
network each go through ``vinet fit`` -> ``inspect`` -> ``evaluate`` -> ``export`` in
fresh processes, and the exported files run without vinet."""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from bridge import VINet, build_vinet

from .mynets import FunctionalNet
from .test_any_model import assert_logits_close, images, run_onnx, run_pt2

ROOT = Path(__file__).resolve().parents[2]


def vinet(*args):
    """``vinet ARGS`` in a fresh interpreter, from the repository root (where
    ``tests.bridge.mynets`` is importable, as a user's own module would be)."""
    return subprocess.run([sys.executable, "-m", "bridge.cli", *map(str, args)], cwd=ROOT,
                          capture_output=True, text=True)


@pytest.mark.slow  # a dozen fresh processes, each importing torch
@pytest.mark.parametrize(("arch", "node", "size"), [
    ("torchvision.models:resnet18", "layer2", 32),
    ("tests.bridge.mynets:build", "add", 16),
])
def test_fit_inspect_evaluate_export_in_fresh_processes(arch, node, size, request, tmp_path,
                                                       capsys):
    if arch.startswith("torchvision"):
        tv = request.getfixturevalue("torchvision")  # skips without torchvision
        factory = tv.models.resnet18
    else:
        factory = FunctionalNet
    torch.manual_seed(0)
    torch.save(factory(num_classes=10).state_dict(), tmp_path / "w.pt")
    for name, (X, y) in (("train", images(100, size, 0)), ("test", images(40, size, 1))):
        np.savez(tmp_path / f"{name}.npz", X=X.numpy(), y=y.numpy())
    model = tmp_path / "vinet.pt"
    fit = vinet("fit", "--arch", arch, "--num-classes", 10, "--weights", tmp_path / "w.pt",
                "--node", node, "--data", tmp_path / "train.npz", "--n-components", 4,
                "--psi", 0.05, "--keep", 2, "--epochs", 1, "--out", model)
    assert fit.returncode == 0, fit.stderr
    assert f"saved {model}" in fit.stdout
    # inspect needs no network: the file's generators, head and counts suffice.
    inspect = vinet("inspect", model)
    assert inspect.returncode == 0, inspect.stderr
    assert f"arch={arch}, node={node}" in inspect.stdout
    assert "class  generators  degrees" in inspect.stdout
    # The file's architecture is not registered: evaluate and export need --arch again
    # (vinet never imports code a file names), and say so.
    from bridge.cli import main

    assert main(["evaluate", str(model), "--data", str(tmp_path / "test.npz")]) == 1
    refused = capsys.readouterr().err
    assert refused.count("\n") == 1 and f"on the command line: --arch {arch}" in refused
    evaluate = vinet("evaluate", model, "--arch", arch, "--data", tmp_path / "test.npz",
                     "--repeats", 1, "--json")
    assert evaluate.returncode == 0, evaluate.stderr
    net = VINet.load(model, model=factory(num_classes=10))
    X, y = images(40, size, 1)
    with torch.no_grad():
        logits = net(X)
    assert json.loads(evaluate.stdout)["accuracy"] == pytest.approx(
        (logits.argmax(1) == y).double().mean().item())
    for fmt in ("pt2", "onnx"):
        out = vinet("export", model, "--arch", arch, "--format", fmt)
        assert out.returncode == 0, out.stderr
        assert f"wrote {model.with_suffix('.' + fmt)}" in out.stdout
    (from_pt2,) = run_pt2(model.with_suffix(".pt2"), [X], tmp_path)
    assert_logits_close(from_pt2, logits)
    assert_logits_close(run_onnx(model.with_suffix(".onnx"), X), logits)


def write_image_folder(folder, X, y):
    """Save float images in [0, 1] as 8-bit PNGs in torchvision's ImageFolder layout; return
    the images as PNG stores them, in ImageFolder's order (classes, then file names)."""
    from PIL import Image

    stored = []
    for c in sorted(set(y.tolist())):
        (folder / f"class{c}").mkdir(parents=True)
        for i in torch.nonzero(y == c).flatten().tolist():
            pixels = (X[i].permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"class{c}" / f"{i:04d}.png")
            stored.append((c, i, torch.from_numpy(pixels).permute(2, 0, 1).float() / 255))
    stored.sort(key=lambda t: (t[0], f"{t[1]:04d}"))
    return torch.stack([t[2] for t in stored]), torch.tensor([t[0] for t in stored])


def test_data_may_be_an_image_folder(torchvision, tmp_path, capsys):
    from bridge.cli import main
    from bridge.commands._common import image_folder

    torch.manual_seed(0)
    net = build_vinet(FunctionalNet().eval(), "add", images(100, 16, 0),
                      **{"n_components": 4, "psi": 0.05, "keep": 2, "epochs": 1,
                         "progress": False})
    net.save(tmp_path / "v.pt")
    X, y = write_image_folder(tmp_path / "test", *images(30, 16, 1))
    # Oracle: the PNGs read back by PIL, scaled to [0, 1] (ToTensor, no normalisation).
    with torch.no_grad():
        expected = (net(X).argmax(1) == y).double().mean().item()
    assert main(["evaluate", str(tmp_path / "v.pt"), "--arch", "tests.bridge.mynets:build",
                 "--data", str(tmp_path / "test"), "--repeats", "1", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["accuracy"] == pytest.approx(expected)
    assert main(["extract", "--arch", "tests.bridge.mynets:build", "--node", "add",
                 "--data", str(tmp_path / "test"), "--out", str(tmp_path / "lat")]) == 0
    with np.load(tmp_path / "lat" / "shard-00000-of-00001.npz") as z:
        assert z["latents"].shape == (30, 8) and z["labels"].tolist() == y.tolist()
    # vinet fit streams the folder through the network (a factory without --weights:
    # the network as the factory returns it) and reports the time of each phase.
    write_image_folder(tmp_path / "train", *images(100, 16, 0))
    assert main(["fit", "--arch", "tests.bridge.mynets:build", "--node", "add", "--data",
                 str(tmp_path / "train"), "--n-components", "4", "--psi", "0.05", "--keep", "2",
                 "--epochs", "1", "--no-progress", "--out", str(tmp_path / "f.pt")]) == 0
    out = capsys.readouterr().out
    assert re.search(r"time: extraction \d+\.\d s, preprocessing \d+\.\d s, per-class fits "
                     r"\d+\.\d s \(10 classes, slowest \d+\.\d s\), pruning \d+\.\d s, "
                     r"fine-tuning \d+\.\d s; total \d+\.\d s", out), out
    fitted = VINet.load(tmp_path / "f.pt", model=FunctionalNet())
    assert fitted.config["arch"] == "tests.bridge.mynets:build"
    assert fitted.config["input_shape"] == [3, 16, 16]
    # --image-size: shorter side resized to N, centre crop N x N.
    write_image_folder(tmp_path / "big", *images(4, 20, 2))
    folder = image_folder(str(tmp_path / "big"), 12)
    assert tuple(folder[0][0].shape) == (3, 12, 12) and len(folder) == 4
    assert main(["evaluate", str(tmp_path / "v.pt"), "--arch", "tests.bridge.mynets:build",
                 "--data", str(tmp_path / "v.pt") + "x"]) == 1
    (tmp_path / "empty").mkdir()
    assert main(["evaluate", str(tmp_path / "v.pt"), "--arch", "tests.bridge.mynets:build",
                 "--data", str(tmp_path / "empty")]) == 1
    assert "is a folder but not an image folder" in capsys.readouterr().err
