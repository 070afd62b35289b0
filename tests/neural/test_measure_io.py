"""count_parameters, throughput, load_model and load_module."""

import numpy as np
import pytest
import torch
from torch import nn

from neural import (
    NeuralError,
    ParameterCount,
    Throughput,
    count_parameters,
    digits_resnet,
    load_model,
    load_module,
    resnet18,
    throughput,
)


def test_count_parameters_total_trainable_and_blocks():
    model = resnet18()
    count = count_parameters(model)
    assert isinstance(count, ParameterCount)
    # The one count: every parameter plus the batch-norm running means and variances
    # (two floats per channel, needed at inference); num_batches_tracked (an int) is not
    # a value. ResNet-18 has 4,800 batch-norm channels.
    bn_channels = sum(m.num_features for m in model.modules()
                      if isinstance(m, torch.nn.BatchNorm2d))
    assert bn_channels == 4_800
    assert count.trainable == 11_173_962
    assert count.total == 11_173_962 + 2 * bn_channels
    # Per block: an independent sum over the state dict's float tensors by first path part.
    expected = {}
    for name, t in model.state_dict().items():
        if t.is_floating_point():
            expected[name.split(".")[0]] = expected.get(name.split(".")[0], 0) + t.numel()
    assert count.per_block == {k: expected.get(k, 0) for k, _ in model.named_children()}
    assert list(count.per_block) == [
        "conv1",
        "bn1",
        "layer1",
        "layer2",
        "layer3",
        "layer4",
        "avgpool",
        "fc",
    ]
    for p in model.layer4.parameters():
        p.requires_grad_(False)
    layer4 = sum(p.numel() for p in model.layer4.parameters())
    assert count_parameters(model).trainable == 11_173_962 - layer4


def test_count_parameters_shared_and_own():
    class Tied(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.ones(3))
            self.enc = nn.Linear(4, 3, bias=False)
            self.dec = nn.Linear(3, 4, bias=False)
            self.dec.weight = nn.Parameter(self.enc.weight.T.detach().clone())
            self.tied = self.enc  # the same module twice: counted once in the total

    count = count_parameters(Tied())
    assert count.total == 3 + 12 + 12
    # A module registered twice is one block, listed under its first name.
    assert count.per_block == {"(own)": 3, "enc": 12, "dec": 12}


class _Counting(nn.Module):
    """Counts forward calls; the clock below decides how long each one takes."""

    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 2)
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return self.lin(x)


def test_throughput_statistics_of_the_timed_passes(monkeypatch):
    # A fake clock: the k-th timed pass takes durations[k] seconds, so the rates
    # (batch / duration) and their median, IQR, min and max are known exactly.
    durations = [0.5, 0.1, 0.25, 1.0, 0.2]
    ends = np.cumsum(durations)
    ticks = iter([t for end, d in zip(ends, durations, strict=True) for t in (end - d, end)])
    monkeypatch.setattr("neural._measure.time.perf_counter", lambda: float(next(ticks)))
    model = _Counting().train()
    result = throughput(model, (4,), batch_size=16, warmup=3, repeats=5)
    rates = 16 / np.array(durations)
    assert isinstance(result, Throughput)
    assert result.median == pytest.approx(np.median(rates))
    q25, q75 = np.percentile(rates, [25, 75])
    assert result.iqr == pytest.approx(q75 - q25)
    assert (result.min, result.max) == (pytest.approx(16.0), pytest.approx(160.0))
    assert result.repeats == 5 and result.batch_size == 16 and result.device == "cpu"
    assert model.calls == 3 + 5  # warm-up passes are run but not timed
    assert model.training  # state restored


def test_throughput_errors():
    model = digits_resnet()
    with pytest.raises(
        NeuralError,
        match=r"input batch of shape \(4, 16, 1, 8, 8\) does not fit.*"
        r"input_shape is the shape of one sample, without the batch dimension",
    ):
        throughput(model, (16, 1, 8, 8), batch_size=4)
    with pytest.raises(NeuralError, match=r"input_shape=\[\] must be a non-empty tuple"):
        throughput(model, [])
    with pytest.raises(NeuralError, match=r"repeats=0 must be an integer >= 1"):
        throughput(model, (1, 8, 8), repeats=0)
    with pytest.raises(NeuralError, match=r"input_shape=3 must be a non-empty tuple"):
        throughput(model, 3)
    with pytest.raises(NeuralError, match=r"model must be a torch\.nn\.Module, got str"):
        count_parameters("resnet18")
    # numpy integers (a shape taken from an array) are integers too
    result = throughput(model, np.array([1, 8, 8]), batch_size=np.int64(2), warmup=0, repeats=1)
    assert result.batch_size == 2 and isinstance(result.batch_size, int)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_throughput_cuda_without_cuda():
    with pytest.raises(NeuralError, match=r"device='cuda' was requested but CUDA is not available"):
        throughput(digits_resnet(), (1, 8, 8), device="cuda")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_throughput_on_cuda_restores_device():
    model = digits_resnet()
    result = throughput(model, (1, 8, 8), batch_size=64, repeats=3, device="cuda")
    assert result.device.startswith("cuda") and result.median > 0
    assert next(model.parameters()).device.type == "cpu"


def test_load_model_round_trip_and_errors(tmp_path):
    torch.manual_seed(0)
    model = digits_resnet().eval()
    path = tmp_path / "w.pt"
    torch.save(model.state_dict(), path)
    loaded = load_model("digits_resnet", path)
    x = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    torch.save({"state_dict": model.state_dict(), "arch": "digits_resnet"}, tmp_path / "c.pt")
    assert torch.equal(load_model("digits_resnet", tmp_path / "c.pt").fc.weight, model.fc.weight)
    with pytest.raises(NeuralError, match=r"arch='resnet81' is not a registered architecture"):
        load_model("resnet81", path)
    with pytest.raises(NeuralError, match=r"weights='.*nope\.pt' is not a file"):
        load_model("digits_resnet", tmp_path / "nope.pt")
    with pytest.raises(
        NeuralError,
        match=r"mis-shaped 'fc\.weight' \(file \(10, 64\) vs model \(5, 64\)\).*"
        r"Pass the architecture and options",
    ):
        load_model("digits_resnet", path, num_classes=5)
    with pytest.raises(
        NeuralError,
        match=r"do not fit arch='resnet18'.*missing 'layer1\.1\.bn1\.bias'.*and 61 more; "
        r"mis-shaped 'conv1\.weight'",
    ):
        load_model("resnet18", path)
    (tmp_path / "junk.pt").write_bytes(b"not a torch file")
    with pytest.raises(NeuralError, match=r"could not be read as a state_dict"):
        load_model("digits_resnet", tmp_path / "junk.pt")


def test_load_module_warns_and_round_trips(tmp_path):
    torch.manual_seed(0)
    model = digits_resnet().eval()
    torch.save(model, tmp_path / "m.pt")
    with pytest.warns(UserWarning, match=r"can run arbitrary code: only load files you trust"):
        loaded = load_module(tmp_path / "m.pt")
    x = torch.rand(2, 1, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), model(x), rtol=0, atol=0)
    torch.save({"a": 1}, tmp_path / "d.pt")
    with (
        pytest.warns(UserWarning),
        pytest.raises(NeuralError, match=r"holds a dict, not an nn\.Module"),
    ):
        load_module(tmp_path / "d.pt")
    with pytest.raises(NeuralError, match=r"path='.*none\.pt' is not a file"):
        load_module(tmp_path / "none.pt")
