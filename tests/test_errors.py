"""One error hierarchy: every package's error is a ``vinet.VinetError`` (a ValueError)."""

import subprocess
import sys

import numpy as np
import pytest
import torch

import algebra
import bridge
import neural
import vinet


def test_importing_vinet_imports_no_numerical_library():
    # The base class lives outside the packages so that algebra (no torch) and neural
    # (no algebra) can share it; it must stay free of heavy imports.
    code = ("import sys, vinet; heavy = {'numpy', 'torch', 'algebra', 'neural', 'bridge'}; "
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


@pytest.mark.parametrize(
    ("package", "error", "fails", "message"),
    [
        (algebra, algebra.AlgebraError, lambda: algebra.fit_oavi(np.zeros((5, 2)), psi=-1.0),
         r"psi=-1\.0 must be a finite number > 0"),
        (neural, neural.NeuralError, lambda: neural.pool(torch.zeros(2, 3), "median"),
         r"pooling='median' is not one of"),
        (bridge, bridge.BridgeError, lambda: bridge.PolynomialLayer([[0, 0]], 0),
         r"out_features must be a positive integer, got 0"),
    ],
)
def test_except_vinet_error_catches_each_package_error(package, error, fails, message):
    assert package.VinetError is vinet.VinetError
    assert issubclass(error, vinet.VinetError) and issubclass(error, ValueError)
    with pytest.raises(vinet.VinetError, match=message) as info:  # one class catches all
        fails()
    assert type(info.value) is error  # raised as the package's own class


def test_version_is_one_string_everywhere():
    assert algebra.__version__ is vinet.__version__
    assert isinstance(vinet.__version__, str) and vinet.__version__.count(".") == 2
