"""CIFAR-style ResNets, a small ResNet for the 8×8 digits, a plain 1-D CNN and an MLP.

The last two are the plain families of VI-Net's evaluation suite
(``benchmarks/vinet_suite.py``, on MNIST-1D).

The CIFAR variant of He et al. (2016, "Deep Residual Learning", Sec. 4.2) replaces the
7×7/stride-2 stem and the max-pool of the ImageNet ResNet by one 3×3/stride-1
convolution, so 32×32 inputs keep their resolution in the first stage. Blocks are
``BasicBlock`` (two 3×3 convolutions) with 1×1 projection shortcuts plus batch norm
when the shape changes (option B of the paper), the variant used by VI-Net
(Pelleriti et al., ICML 2025) and by the widely used ``kuangliu/pytorch-cifar`` code:
ResNet-18 for 10 classes has 11,173,962 parameters.

Module names follow torchvision (``conv1``, ``bn1``, ``layer1`` ... ``avgpool``,
``fc``) so that cut points read like ``layer3.1.bn1``. ReLUs and the residual sums
are functional calls, so they appear as fx nodes ``relu_5`` or ``add_3``.
"""

# No ``from __future__ import annotations`` here: torch.fx copies the forward's
# annotations into traced code, and string annotations make such GraphModules
# (truncated models included) impossible to pickle.
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from neural._errors import NeuralError
from neural._util import suggest


class BasicBlock(nn.Module):
    """Two 3×3 convolutions with batch norm and an identity or 1×1 projection shortcut.

    Parameters
    ----------
    in_planes, planes : int
        Input and output channels.
    stride : int, default=1
        Stride of the first convolution (and of the projection shortcut).

    Notes
    -----
    Input ``(N, in_planes, H, W)``, output ``(N, planes, H / stride, W / stride)``.
    """

    expansion = 1

    def __init__(self, in_planes: int, planes: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    """A ResNet with a 3×3 stem and no max-pool (the CIFAR variant).

    Parameters
    ----------
    blocks : sequence of int
        Number of :class:`BasicBlock` per stage, e.g. ``(2, 2, 2, 2)`` for ResNet-18.
    widths : sequence of int
        Channels per stage; stage ``i > 0`` halves the resolution with stride 2.
    num_classes : int, default=10
        Outputs of the final linear layer.
    in_channels : int, default=3
        Channels of the input images.

    Notes
    -----
    Input ``(N, in_channels, H, W)``, output logits ``(N, num_classes)``.
    """

    def __init__(
        self,
        blocks: Sequence[int],
        widths: Sequence[int],
        num_classes: int = 10,
        in_channels: int = 3,
    ) -> None:
        super().__init__()
        if len(blocks) != len(widths) or not blocks:
            raise NeuralError(
                f"blocks={tuple(blocks)} and widths={tuple(widths)} must be non-empty and of "
                "equal length (one entry per stage); pass one width per stage."
            )
        if num_classes < 1 or in_channels < 1:
            raise NeuralError(
                f"num_classes={num_classes} and in_channels={in_channels} must both be "
                "positive; pass positive integers."
            )
        self.conv1 = nn.Conv2d(in_channels, widths[0], 3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        in_planes = widths[0]
        for i, (count, width) in enumerate(zip(blocks, widths, strict=False)):
            stride = 1 if i == 0 else 2
            layers = []
            for j in range(count):
                layers.append(BasicBlock(in_planes, width, stride if j == 0 else 1))
                in_planes = width
            self.add_module(f"layer{i + 1}", nn.Sequential(*layers))
        self.n_stages = len(blocks)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(in_planes, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = F.relu(self.bn1(self.conv1(x)))
        for i in range(self.n_stages):
            out = getattr(self, f"layer{i + 1}")(out)
        out = torch.flatten(self.avgpool(out), 1)
        return self.fc(out)


def resnet18(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """CIFAR-style ResNet-18: BasicBlocks ``[2, 2, 2, 2]``, widths 64-512.

    Parameters
    ----------
    num_classes : int, default=10
        Outputs of the final linear layer ``fc`` (the logits).
    in_channels : int, default=3
        Channels of the input images (3 for RGB).

    Returns
    -------
    ResNet
        Input ``(N, in_channels, 32, 32)`` (any size ≥ 8 works), output ``(N, num_classes)``;
        11,173,962 parameters for 10 classes and 3 channels.
    """
    return ResNet((2, 2, 2, 2), (64, 128, 256, 512), num_classes, in_channels)


def resnet34(num_classes: int = 10, in_channels: int = 3) -> ResNet:
    """CIFAR-style ResNet-34: BasicBlocks ``[3, 4, 6, 3]``, widths 64-512.

    Parameters
    ----------
    num_classes, in_channels : int, default=10, 3
        As in :func:`resnet18`.

    Returns
    -------
    ResNet
        Input ``(N, in_channels, 32, 32)``, output ``(N, num_classes)``.
    """
    return ResNet((3, 4, 6, 3), (64, 128, 256, 512), num_classes, in_channels)


def digits_resnet(
    num_classes: int = 10,
    in_channels: int = 1,
    widths: Sequence[int] = (16, 32, 64),
    blocks: Sequence[int] = (1, 1, 1),
) -> ResNet:
    """A small ResNet for the 8×8 handwritten digits (:func:`neural.load_digits`).

    A 3×3 stem and three stages of one BasicBlock each at 8×8, 4×4 and 2×2: nine
    convolutions, so cuts after ``layer1``, ``layer2`` or inside ``layer3`` remove
    very different shares of the network.

    Parameters
    ----------
    num_classes : int, default=10
        Outputs of the final linear layer ``fc`` (the logits).
    in_channels : int, default=1
        Channels of the input images (1 for the grey-scale digits).
    widths : sequence of int, default=(16, 32, 64)
        Channels of each stage; the stages downsample by 2 after the first.
    blocks : sequence of int, default=(1, 1, 1)
        BasicBlocks per stage (the same length as ``widths``).

    Returns
    -------
    ResNet
        Input ``(N, 1, 8, 8)``, output ``(N, num_classes)``.
    """
    return ResNet(tuple(blocks), tuple(widths), num_classes, in_channels)


class CNN1d(nn.Module):
    """A plain 1-D CNN: convolution, batch norm and ReLU blocks, global average pooling.

    The first convolution has kernel 5, the others 3 (``same`` padding); a stride of 2
    halves the length. No shortcuts: the plain family of the evaluation suite
    (``benchmarks/vinet_suite.py``, MNIST-1D signals of length 40).

    Parameters
    ----------
    num_classes : int, default=10
        Outputs of the classifier.
    in_channels : int, default=1
        Channels of the input signals.
    widths : sequence of int, default=(32, 32, 64, 64, 64, 64)
        Output channels of each convolution.
    strides : sequence of int, default=(1, 1, 2, 1, 2, 1)
        Stride of each convolution.

    Notes
    -----
    Input ``(N, in_channels, L)``, output ``(N, num_classes)``. The ReLUs are
    functional, so the cut points are ``relu``, ``relu_1``, ... (one per convolution).
    """

    def __init__(self, num_classes: int = 10, in_channels: int = 1,
                 widths: Sequence[int] = (32, 32, 64, 64, 64, 64),
                 strides: Sequence[int] = (1, 1, 2, 1, 2, 1)) -> None:
        super().__init__()
        if len(widths) != len(strides) or not widths:
            raise NeuralError(
                f"widths={tuple(widths)} and strides={tuple(strides)} must be non-empty and "
                "of equal length (one entry per convolution); pass one stride per width."
            )
        channels = in_channels
        for i, (width, stride) in enumerate(zip(widths, strides, strict=True)):
            kernel = 5 if i == 0 else 3
            self.add_module(f"conv{i + 1}", nn.Conv1d(channels, width, kernel, stride=stride,
                                                      padding=kernel // 2, bias=False))
            self.add_module(f"bn{i + 1}", nn.BatchNorm1d(width))
            channels = width
        self.depth = len(widths)
        self.fc = nn.Linear(channels, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(self.depth):
            x = F.relu(getattr(self, f"bn{i + 1}")(getattr(self, f"conv{i + 1}")(x)))
        return self.fc(x.mean(dim=2))


class MLP(nn.Module):
    """A plain multilayer perceptron: ``depth`` hidden Linear-ReLU layers and a classifier.

    Parameters
    ----------
    in_features : int, default=40
        Width of the (flattened) input.
    num_classes : int, default=10
        Outputs of the classifier.
    width : int, default=128
        Units of each hidden layer.
    depth : int, default=6
        Hidden layers.

    Notes
    -----
    Input ``(N, ...)`` flattened to ``(N, in_features)``, output ``(N, num_classes)``;
    cut points ``relu``, ``relu_1``, ... (one per hidden layer).
    """

    def __init__(self, in_features: int = 40, num_classes: int = 10, width: int = 128,
                 depth: int = 6) -> None:
        super().__init__()
        if min(in_features, num_classes, width, depth) < 1:
            raise NeuralError(
                f"in_features={in_features}, num_classes={num_classes}, width={width} and "
                f"depth={depth} must all be positive; pass positive integers."
            )
        d = in_features
        for i in range(depth):
            self.add_module(f"fc{i + 1}", nn.Linear(d, width))
            d = width
        self.depth = depth
        self.out = nn.Linear(d, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.flatten(x, 1)
        for i in range(self.depth):
            x = F.relu(getattr(self, f"fc{i + 1}")(x))
        return self.out(x)

def cnn1d(num_classes: int = 10, in_channels: int = 1,
          widths: Sequence[int] = (32, 32, 64, 64, 64, 64),
          strides: Sequence[int] = (1, 1, 2, 1, 2, 1)) -> CNN1d:
    """The plain 1-D CNN of the evaluation suite (MNIST-1D), see :class:`CNN1d`.

    Parameters
    ----------
    num_classes, in_channels, widths, strides
        As in :class:`CNN1d`.

    Returns
    -------
    CNN1d
        Input ``(N, in_channels, L)``, output ``(N, num_classes)``; 47,530 parameters
        with the defaults.
    """
    return CNN1d(num_classes, in_channels, tuple(widths), tuple(strides))


def mlp(in_features: int = 40, num_classes: int = 10, width: int = 128, depth: int = 6) -> MLP:
    """The plain MLP of the evaluation suite (MNIST-1D), see :class:`MLP`.

    Parameters
    ----------
    in_features, num_classes, width, depth
        As in :class:`MLP`.

    Returns
    -------
    MLP
        Input ``(N, ...)`` with ``in_features`` values per sample, output
        ``(N, num_classes)``.
    """
    return MLP(in_features, num_classes, width, depth)


#: Registry of architecture names -> constructors, used by :func:`build_model` and
#: :func:`neural.load_model`.
MODELS: dict[str, Callable[..., nn.Module]] = {
    "resnet18": resnet18,
    "resnet34": resnet34,
    "digits_resnet": digits_resnet,
    "cnn1d": cnn1d,
    "mlp": mlp,
}


def build_model(name: str, **kwargs) -> nn.Module:
    """Build the architecture registered as ``name`` in :data:`MODELS`.

    Parameters
    ----------
    name : str
        A key of :data:`MODELS`, e.g. ``"resnet18"``.
    **kwargs
        Passed to the constructor (``num_classes``, ``in_channels``, ...).

    Returns
    -------
    nn.Module
        A freshly initialised model.

    Raises
    ------
    NeuralError
        If ``name`` is not registered.
    """
    if name not in MODELS:
        raise NeuralError(
            f"arch={name!r} is not a registered architecture. " + suggest(name, sorted(MODELS))
        )
    try:
        return MODELS[name](**kwargs)
    except TypeError as exc:
        raise NeuralError(
            f"arch={name!r} does not accept the options {sorted(kwargs)}: {exc}; see the "
            "constructor's signature."
        ) from exc
