"""neural models and the bundled digits: exact parameter counts, shapes, the fixed split."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits as sk_load_digits

from neural import MODELS, NeuralError, build_model, digits_resnet, load_digits, resnet18, resnet34


def basic_resnet_params(blocks, widths, in_channels, num_classes):
    """Parameter count of a CIFAR ResNet with BasicBlocks, derived by hand.

    conv k×k: c_in·c_out·k², batch norm: 2·c (weight and bias), linear: (d + 1)·classes;
    a 1×1 projection with batch norm wherever the shape changes.
    """
    conv = lambda ci, co, k: ci * co * k * k  # noqa: E731
    total = conv(in_channels, widths[0], 3) + 2 * widths[0]
    c = widths[0]
    for stage, (count, width) in enumerate(zip(blocks, widths, strict=False)):
        for j in range(count):
            stride = 2 if stage > 0 and j == 0 else 1
            total += conv(c, width, 3) + 2 * width + conv(width, width, 3) + 2 * width
            if stride != 1 or c != width:
                total += conv(c, width, 1) + 2 * width
            c = width
    return total + (c + 1) * num_classes


def n_params(model):
    return sum(p.numel() for p in model.parameters())


def test_resnet18_has_the_published_parameter_count():
    # 11,173,962: the CIFAR ResNet-18 count quoted in the issue and the VI-Net paper.
    assert n_params(resnet18()) == 11_173_962
    assert basic_resnet_params((2, 2, 2, 2), (64, 128, 256, 512), 3, 10) == 11_173_962


@pytest.mark.parametrize(
    "factory, blocks, widths, cin, classes",
    [
        (lambda: resnet34(num_classes=100), (3, 4, 6, 3), (64, 128, 256, 512), 3, 100),
        (lambda: resnet18(in_channels=1, num_classes=7), (2, 2, 2, 2), (64, 128, 256, 512), 1, 7),
        (digits_resnet, (1, 1, 1), (16, 32, 64), 1, 10),
    ],
)
def test_parameter_counts_match_the_hand_derivation(factory, blocks, widths, cin, classes):
    assert n_params(factory()) == basic_resnet_params(blocks, widths, cin, classes)


def test_cifar_stem_has_no_maxpool_and_keeps_resolution():
    model = resnet18().eval()
    assert not any(isinstance(m, torch.nn.MaxPool2d) for m in model.modules())
    assert model.conv1.kernel_size == (3, 3) and model.conv1.stride == (1, 1)
    acts = {}
    model.layer1.register_forward_hook(lambda m, i, o: acts.__setitem__("layer1", o.shape))
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 32, 32)).shape == (2, 10)
    assert acts["layer1"] == (2, 64, 32, 32)


def test_digits_resnet_shapes_and_conv_count():
    model = digits_resnet()
    assert model(torch.zeros(4, 1, 8, 8)).shape == (4, 10)
    # 1 stem + 2 per block + 2 projections: nine convolutions to cut between.
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 9


def test_build_model_registry():
    assert set(MODELS) == {"resnet18", "resnet34", "digits_resnet", "cnn1d", "mlp"}
    assert n_params(build_model("digits_resnet", num_classes=3)) == basic_resnet_params(
        (1, 1, 1), (16, 32, 64), 1, 3
    )
    with pytest.raises(
        NeuralError,
        match=r"arch='resnet19' is not a registered architecture\. Did you mean 'resnet18'",
    ):
        build_model("resnet19")
    with pytest.raises(
        NeuralError, match=r"arch='resnet18' does not accept the options \['depth'\]"
    ):
        build_model("resnet18", depth=3)
    with pytest.raises(NeuralError, match=r"blocks=\(1, 1\) and widths=\(16,\) must be"):
        build_model("digits_resnet", blocks=(1, 1), widths=(16,))


def test_load_digits_fixed_stratified_split():
    X_tr, y_tr = load_digits("train")
    X_te, y_te = load_digits("test")
    X_all, y_all = load_digits("all")
    assert X_tr.shape == (1347, 1, 8, 8) and X_te.shape == (450, 1, 8, 8)
    assert X_tr.dtype == torch.float32 and y_tr.dtype == torch.int64
    assert float(X_all.min()) == 0.0 and float(X_all.max()) == 1.0
    # Same images as scikit-learn's, scaled by 1/16, as a multiset of (image, label) rows.
    sk = sk_load_digits()
    ours = np.concatenate([X_all.reshape(-1, 64).numpy() * 16, y_all.numpy()[:, None]], axis=1)
    theirs = np.concatenate([sk.data, sk.target[:, None]], axis=1)
    np.testing.assert_array_equal(ours[np.lexsort(ours.T)], theirs[np.lexsort(theirs.T)])
    # Stratified: each class's test share is within one sample of 25 %.
    counts = np.bincount(y_all.numpy())
    assert np.all(np.abs(np.bincount(y_te.numpy(), minlength=10) - 0.25 * counts) <= 1)
    # Fixed: a second call gives the same split, and returns copies.
    X_tr2, _ = load_digits("train")
    assert torch.equal(X_tr, X_tr2)
    X_tr2 += 1
    assert torch.equal(load_digits("train")[0], X_tr)
    with pytest.raises(NeuralError, match=r"split='val' is not one of \('train', 'test', 'all'\)"):
        load_digits("val")
