"""Shared pytest configuration: deterministic hypothesis profile, offscreen plotting."""

import importlib.util
import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings

# CI machines are slow and shared: no deadline, derandomised so failures reproduce.
settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def torchvision():
    """The torchvision package (a test extra); the test is skipped where it is absent.

    Imported through vinet's own :func:`bridge.commands._common.import_torchvision`,
    which works around torchvision's compiled operators failing to load beside a CPU
    build of torch (see its docstring).
    """
    if importlib.util.find_spec("torchvision") is None:
        pytest.skip("needs torchvision (pip install -e .[test])")
    from bridge.commands._common import import_torchvision

    return import_torchvision()
