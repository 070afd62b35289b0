"""Shared VI-Net fixtures: a tiny untrained digits ResNet and VI-Nets built on it once."""

import pytest
import torch

from bridge import build_vinet, linear_probe
from neural import build_model, load_digits

#: A ResNet small enough that a VI-Net on it builds in a second or two.
TINY_ARCH = "digits_resnet"
# Widths of 8 and more: with 4-channel convolutions, backward on one thread corrupts
# the heap in torch 2.13 CPU (found by the unfrozen-backbone test; 8 is fine).
TINY_KWARGS = {"widths": [8, 16, 16], "blocks": [1, 1, 1]}
TINY_NODE = "relu_4"  # end of layer2: 16 channels at 4x4
#: Fast settings shared by the tests (avg pooling -> 16 latent dims, PCA to 5).
TINY_SETTINGS = {"n_components": 5, "pooling": "avg", "psi": 0.05, "max_degree": 2, "keep": 3,
                 "epochs": 4, "lr": 1e-2, "progress": False, "arch": TINY_ARCH,
                 "arch_kwargs": TINY_KWARGS}


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Run the bridge tests on one torch thread, restoring the count at the end.

    The models here are tiny: a second OpenMP thread gains nothing, and on a shared
    2-core machine whose other core is busy it makes every op wait for it (ten times
    slower).
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_data():
    """400 training and 200 test digits (every class present), as (X, y) tensors."""
    X, y = load_digits("train")
    Xt, yt = load_digits("test")
    return (X[:400], y[:400]), (Xt[:200], yt[:200])


@pytest.fixture(scope="session")
def tiny_model():
    """An untrained tiny digits ResNet in eval mode (random but fixed weights)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        model = build_model(TINY_ARCH, **{k: tuple(v) for k, v in TINY_KWARGS.items()})
    return model.eval()


@pytest.fixture(scope="session")
def tiny_vinet(tiny_model, tiny_data):
    """A VI-Net built on the tiny model with the fast settings."""
    return build_vinet(tiny_model, TINY_NODE, tiny_data[0], **TINY_SETTINGS)


@pytest.fixture(scope="session")
def tiny_probe(tiny_model, tiny_data):
    """The linear-head baseline at the same cut."""
    settings = {k: v for k, v in TINY_SETTINGS.items() if k not in ("psi", "max_degree", "keep")}
    return linear_probe(tiny_model, TINY_NODE, tiny_data[0], **settings)

