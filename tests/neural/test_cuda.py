"""CUDA paths of neural (skipped on machines without CUDA)."""

import numpy as np
import pytest
import torch

from neural import digits_resnet, extract_latents, load_digits, resnet18, throughput, truncate

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")


def test_truncate_keeps_cuda_device_and_matches_cpu():
    torch.manual_seed(0)
    model = resnet18().eval()
    x = torch.rand(4, 3, 32, 32)
    with torch.no_grad():
        ref = truncate(model, "layer3.1.bn1")(x)
    cut = truncate(model.cuda(), "layer3.1.bn1")
    assert all(p.is_cuda for p in cut.parameters())
    with torch.no_grad():
        out = cut(x.cuda()).cpu()
    torch.testing.assert_close(out, ref, rtol=1e-3, atol=1e-3)  # cuDNN vs CPU kernels


def test_extract_on_cuda_with_autocast_restores_device():
    torch.manual_seed(0)
    model = digits_resnet().eval()
    data = load_digits("test")
    ref, labels = extract_latents(truncate(model, "layer2"), data, progress=False)
    cut = truncate(model, "layer2")
    out, out_labels = extract_latents(cut, data, device="cuda", autocast=True, progress=False)
    assert next(cut.parameters()).device.type == "cpu"
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, ref, rtol=0.02, atol=0.02)  # float16 autocast
    np.testing.assert_array_equal(out_labels, labels)


def test_throughput_on_cuda():
    result = throughput(resnet18(), (3, 32, 32), batch_size=256, warmup=3, repeats=5, device="cuda")
    assert result.device == "cuda" and result.median > 0
    print(f"resnet18 CUDA throughput: {result.median:.0f} img/s (IQR {result.iqr:.0f})")
