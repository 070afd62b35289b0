"""A user's own networks, importable as ``--arch tests.bridge.mynets:build`` (and friends).

``FunctionalNet`` computes with functional ops (``F.relu``, ``+``, ``F.avg_pool2d``,
``torch.flatten``) between its modules, as hand-written networks do; ``GatedNet`` has
Python control flow on tensor values, which torch.fx cannot trace.
"""

import torch
import torch.nn.functional as F
from torch import nn


class FunctionalNet(nn.Module):
    """A small residual CNN for ``(N, 3, 16, 16)`` images; cut points ``add``, ``conv2``..."""

    def __init__(self, num_classes: int = 10, width: int = 8) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, width, 3, padding=1)
        self.conv2 = nn.Conv2d(width, width, 3, padding=1)
        self.conv3 = nn.Conv2d(width, 2 * width, 3, padding=1, stride=2)
        self.fc = nn.Linear(2 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x)) + x  # a residual connection
        x = F.avg_pool2d(x, 2)
        x = F.relu(self.conv3(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


class Gate(nn.Module):
    """Data-dependent control flow: torch.fx cannot trace it."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x if bool(x.mean() > -1e9) else -x


class GatedNet(FunctionalNet):
    """:class:`FunctionalNet` with a :class:`Gate` after the residual block."""

    def __init__(self, num_classes: int = 10, width: int = 8) -> None:
        super().__init__(num_classes, width)
        self.gate = Gate()
        self.tail = nn.Conv2d(width, width, 1)  # runs after the gate: dropped by a cut there

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = self.gate(F.relu(self.conv2(x)) + x)
        x = F.avg_pool2d(self.tail(x), 2)
        x = F.relu(self.conv3(x))
        return self.fc(torch.flatten(F.adaptive_avg_pool2d(x, 1), 1))


def build(num_classes: int = 10) -> FunctionalNet:
    """The factory ``--arch tests.bridge.mynets:build`` names."""
    return FunctionalNet(num_classes)
