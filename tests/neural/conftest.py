"""Fixtures shared by the neural tests."""

import pytest


@pytest.fixture(scope="session")
def digits_cache(tmp_path_factory):
    """A private cache folder, so the tests never read or write the user's cache."""
    return tmp_path_factory.mktemp("vinet-cache")


@pytest.fixture(scope="session")
def digits_model(digits_cache):
    """The pretrained digits ResNet, trained once per session into the private cache."""
    from neural import pretrained_digits_model

    return pretrained_digits_model(cache_dir=digits_cache)


@pytest.fixture(autouse=True, scope="session")
def _one_torch_thread():
    """Run the neural tests on one torch thread.

    The models here are tiny (8×8 inputs): intra-op threads buy nothing, and on shared
    CI cores two threads per process wait on each other (measured 10× slower).
    """
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
