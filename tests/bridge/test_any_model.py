"""VI-Net on any architecture: torchvision models and a user's own, built, saved, loaded
with their network, evaluated on any torch data, and exported to files that run without
vinet (``torch.export`` programs in a subprocess that imports only torch; ONNX models in
onnxruntime)."""

import re
import subprocess
import sys
import warnings

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from bridge import BridgeError, VINet, build_vinet
from bridge._vinet import EXPORT_TOLERANCE

from .mynets import FunctionalNet, GatedNet

#: Fast settings for the random networks below: 4 PCA components, 2 generators per class.
SETTINGS = {"n_components": 4, "pooling": "avg", "psi": 0.05, "max_degree": 2, "keep": 2,
            "epochs": 1, "progress": False}

#: Run a .pt2 file with torch alone: load it, run the saved input, save the logits, and
#: print the vinet (and torchvision) packages the process imported: none.
RUN_PT2 = """
import sys
import torch
program = torch.export.load(sys.argv[1]).module()
torch.save([program(x).detach() for x in torch.load(sys.argv[2])], sys.argv[3])
print(sorted({m.split(".")[0] for m in sys.modules}
             & {"vinet", "algebra", "neural", "bridge", "torchvision", "sklearn"}))
"""


def images(n, size, seed):
    """``n`` random (3, size, size) images with balanced labels 0..9."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 3, size, size, generator=gen), torch.arange(n) % 10


def run_pt2(path, batches, tmp_path):
    """The logits of the .pt2 file at ``path`` on each of ``batches``, computed in a fresh
    process that imports torch only (isolated mode: no PYTHONPATH, no current folder)."""
    torch.save(list(batches), tmp_path / "x.pt")
    out = subprocess.run(
        [sys.executable, "-I", "-c", RUN_PT2, str(path), str(tmp_path / "x.pt"),
         str(tmp_path / "logits.pt")],
        capture_output=True, text=True, check=True, cwd=tmp_path)
    assert out.stdout.strip() == "[]", out.stdout
    return torch.load(tmp_path / "logits.pt")


def run_onnx(path, x):
    """The logits of the ONNX file at ``path`` on ``x``, computed by onnxruntime."""
    ort = pytest.importorskip("onnxruntime")
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return torch.from_numpy(session.run(None, {"x": x.numpy()})[0])


def assert_logits_close(got, expected):
    """Within EXPORT_TOLERANCE (1e-4, the issue's bound) of the largest logit (at least 1):
    float32 rounding grows with the logits, which reach 10 for random networks."""
    error = float((got - expected).abs().max())
    assert error <= EXPORT_TOLERANCE * max(1.0, float(expected.abs().max())), error


def fresh(factory):
    """A network of the architecture, with its own (seeded) random weights."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(123)
        return factory().eval()


def architectures(torchvision):
    return {
        "resnet18": (lambda: torchvision.models.resnet18(num_classes=10), "layer2", 32),
        "mobilenet_v3_small": (lambda: torchvision.models.mobilenet_v3_small(num_classes=10),
                               "features.3", 32),
        "functional": (FunctionalNet, "add", 16),
    }


@pytest.mark.slow  # three networks; test_cli_any_model exports resnet18 and functional
@pytest.mark.parametrize("name", ["resnet18", "mobilenet_v3_small", "functional"])
def test_any_architecture_builds_saves_and_loads(name, torchvision, tmp_path):
    factory, node, size = architectures(torchvision)[name]
    torch.manual_seed(0)
    model = factory().eval()
    train, test = images(100, size, 0), images(40, size, 1)
    net = build_vinet(model, node, train, **SETTINGS)
    assert net.config["arch"] is None and net.has_poly
    net.save(tmp_path / "vinet.pt")
    # Rebuilt from another network of the same architecture: the file's weights win.
    back = VINet.load(tmp_path / "vinet.pt", model=fresh(factory))
    X = test[0][:8]
    with torch.no_grad():
        expected = net(X)
        assert torch.equal(back(X), expected)
    assert back.parameter_counts() == net.parameter_counts()
    assert back.evaluate(DataLoader(TensorDataset(*test), batch_size=16),
                         throughput_repeats=0) == net.evaluate(test, throughput_repeats=0)
    if name != "mobilenet_v3_small":
        return
    pt2 = back.export(tmp_path / "vinet.pt2")
    # Another batch size than the export's example: the batch dimension is dynamic.
    eight, one = run_pt2(pt2, [X, X[:1]], tmp_path)
    assert_logits_close(eight, expected)
    assert_logits_close(one, expected[:1])
    pytest.importorskip("onnxscript")
    onnx = back.export(tmp_path / "vinet.onnx")
    assert_logits_close(run_onnx(onnx, X[:5]), expected[:5])


def test_an_untraceable_network_is_cut_for_real(tmp_path):
    torch.manual_seed(0)
    model = GatedNet().eval()
    train = images(100, 16, 0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        net = build_vinet(model, "gate", train, **SETTINGS)
    assert any(re.search(r"torch\.fx could not trace GatedNet.*cutting with a forward hook "
                         r"that stops after 'gate' instead, with the 3 module\(s\) that ran "
                         r"only after it", str(w.message)) for w in caught), caught
    # Only conv1 and conv2 run before the gate: tail, conv3 and fc are not in the backbone.
    kept = sum(p.numel() for m in (model.conv1, model.conv2) for p in m.parameters())
    assert net.parameter_counts()["base"] == kept
    net.save(tmp_path / "gated.pt")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the loader does not warn again
        back = VINet.load(tmp_path / "gated.pt", model=fresh(GatedNet))
    with torch.no_grad():
        assert torch.equal(back(train[0][:4]), net(train[0][:4]))
    # torch.export cannot capture the data-dependent gate: a clear refusal.
    with pytest.raises(BridgeError, match=r"torch could not export this VINet as pt2.*no Python "
                                          r"control flow on tensor values"):
        back.export(tmp_path / "gated.pt2")


def test_export_errors(tmp_path):
    torch.manual_seed(0)
    net = build_vinet(FunctionalNet().eval(), "add", images(60, 16, 0), **SETTINGS)
    with pytest.raises(BridgeError, match=r"format='tflite' is not one of \('pt2', 'onnx'\)"):
        net.export(tmp_path / "vinet.tflite")
    net.save(tmp_path / "v.pt")
    light = VINet.load(tmp_path / "v.pt", backbone=False)
    with pytest.raises(BridgeError, match="no backbone or no recorded input shape"):
        light.export(tmp_path / "v.pt2")
