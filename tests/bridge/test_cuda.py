"""PolynomialLayer and VI-Net on a CUDA device (skipped without one)."""

import copy

import numpy as np
import pytest
import torch

from algebra import PolynomialSet, all_monomials
from bridge import PolynomialLayer, VINet

cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def _layer(dtype=torch.float64, device=None):
    rng = np.random.default_rng(0)
    terms = all_monomials(4, 3, "deglex")
    coef = rng.standard_normal((len(terms), 5)) * (rng.random((len(terms), 5)) < 0.5)
    coef[-1] = 1.0
    return PolynomialSet(terms, coef), PolynomialLayer.from_polynomials(
        PolynomialSet(terms, coef), dtype=dtype, device=device)


@cuda
def test_layer_on_cuda_matches_algebra_and_trains():
    polys, layer = _layer(device="cuda")
    assert layer.coef.device.type == "cuda" and layer._levels[0][1].device.type == "cuda"
    z = torch.rand(64, 4, dtype=torch.float64)
    expected = np.abs(polys.evaluate(z.numpy()))
    with torch.no_grad():
        np.testing.assert_allclose(layer(z.cuda()).cpu().numpy(), expected, atol=1e-10)
    zc = z.cuda().requires_grad_(True)
    # index_select's CUDA backward accumulates with atomics: reproducible only to rounding.
    assert torch.autograd.gradcheck(lambda v: layer(v), (zc[:4],), nondet_tol=1e-12)
    # Moving a CPU layer keeps the level indices on the same device as the buffers.
    _, cpu_layer = _layer()
    moved = cpu_layer.to("cuda")
    with torch.no_grad():
        torch.testing.assert_close(moved(z.cuda()).cpu(), torch.from_numpy(expected))


@cuda
def test_vinet_on_cuda_matches_cpu_and_saves(tiny_vinet, tiny_data, tmp_path):
    X = tiny_data[1][0][:64]
    gpu = copy.deepcopy(tiny_vinet).to("cuda")
    with torch.no_grad():
        torch.testing.assert_close(gpu(X.cuda()).cpu(), tiny_vinet(X), rtol=1e-4, atol=1e-4)
    gpu.save(tmp_path / "gpu.pt")
    back = VINet.load(tmp_path / "gpu.pt")
    with torch.no_grad():
        torch.testing.assert_close(back(X), tiny_vinet(X), rtol=1e-4, atol=1e-4)
