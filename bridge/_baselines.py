"""The baselines reported beside VI-Net: a linear head and random monomials at the cut.

Both share VI-Net's steps 1, 2 and 6 (:mod:`bridge._build`, :mod:`bridge._training`):
:func:`linear_probe` puts the head on the preprocessed latents with no polynomial
layer; :func:`random_monomial_baseline` replaces VI-Net's generators by random
monomials of the same size (VI-Net, Pelleriti et al., ICML 2025, Sec. 5).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

import neural
from algebra import random_order_ideal
from bridge._build import as_data, prepare_cut
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._training import check_training, fit_head, new_head
from bridge._vinet import VINet

__all__ = ["linear_probe", "random_monomial_baseline"]


def linear_probe(
    model: nn.Module,
    node: str,
    train_data: Any,
    *,
    n_components: int | None = 16,
    pooling: str = "avg",
    scaling: str | None = "minmax",
    epochs: int = 20,
    lr: float = 1e-2,
    batch_size: int = 128,
    weight_decay: float = 0.0,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    random_state: int = 0,
) -> VINet:
    """The linear-probe baseline: a linear head on the preprocessed latents at the cut.

    Same cut, pooling, preprocessing and head training as :func:`build_vinet`, with no
    polynomial layer.

    Parameters
    ----------
    model, node, train_data, n_components, pooling, scaling, epochs, lr, batch_size, \
weight_decay, arch, arch_kwargs, progress, random_state
        As in :func:`build_vinet`.

    Returns
    -------
    VINet
        ``kind == "linear"``: ``(N, *input_shape) -> (N, n_classes)``.
    """
    check_training(epochs, lr, batch_size)
    cut = prepare_cut(model, node, train_data, pooling=pooling, n_components=n_components,
                      scaling=scaling, arch=arch, arch_kwargs=arch_kwargs, progress=progress)
    head = new_head(cut.z.shape[1], cut.config["n_classes"], random_state)
    history = fit_head(None, head, cut.z, cut.y, epochs=epochs, lr=lr, batch_size=batch_size,
                       weight_decay=weight_decay, random_state=random_state,
                       progress=progress)
    config = {**cut.config, "kind": "linear", "epochs": epochs, "lr": lr}
    net = VINet(cut.backbone, cut.preprocess, None, head, pooling=pooling, config=config)
    net.history_ = history
    return net.eval()


def random_monomial_baseline(
    reference: VINet,
    train_data: Any,
    *,
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int = 128,
    weight_decay: float = 0.0,
    progress: bool = True,
    random_state: int = 0,
) -> VINet:
    """The random-feature baseline: random monomials of the same size as a VI-Net.

    Same backbone and preprocessing as ``reference``; its polynomial layer is replaced
    by one over a random order ideal with the same number of monomials of each degree,
    the same number of outputs, and the same number of nonzero coefficients per output
    (at random positions, random values), then trained exactly as VI-Net's
    (unit-RMS outputs, L-BFGS head, fine-tuning).

    Parameters
    ----------
    reference : VINet
        A model from :func:`build_vinet`.
    train_data : tuple (X, y)
        The training data ``reference`` was built on.
    epochs, lr : optional
        Default: those of ``reference``.
    batch_size, weight_decay, progress, random_state
        As in :func:`build_vinet`.

    Returns
    -------
    VINet
        ``kind == "random"``.
    """
    if not isinstance(reference, VINet) or not reference.has_poly:
        raise BridgeError(
            "reference must be a VINet with a polynomial layer (from build_vinet); the "
            "random baseline copies its size."
        )
    epochs = int(reference.config.get("epochs", 20)) if epochs is None else epochs
    lr = float(reference.config.get("lr", 1e-2)) if lr is None else lr
    check_training(epochs, lr, batch_size)
    X, y = as_data(train_data)
    rng = np.random.default_rng(random_state)
    ref = reference.poly
    degrees = ref.terms.sum(dim=1).numpy()
    counts = np.bincount(degrees).tolist()
    terms = random_order_ideal(counts, ref.in_features, random_state=rng)
    # Same number of nonzero coefficients per output as the reference, at positions
    # drawn uniformly among all the monomials: the constant is one of them, drawn like
    # any other (the reference counts its constant only where that coefficient is
    # nonzero, so neither side forces it).
    nnz = ref.mask.sum(dim=0).numpy()
    mask = np.zeros((terms.shape[0], ref.out_features), dtype=bool)
    for j, k in enumerate(nnz):
        k = int(min(k, terms.shape[0]))
        mask[rng.choice(terms.shape[0], size=k, replace=False), j] = True
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        poly = PolynomialLayer(terms, ref.out_features, mask=mask)
    backbone = copy.deepcopy(reference.backbone)
    for p in backbone.parameters():  # the baseline trains its layer and head only
        p.requires_grad_(False)
    preprocess = copy.deepcopy(reference.preprocess)
    frozen = nn.Sequential(backbone, reference.pool, preprocess)
    z, _ = neural.extract_latents(frozen, X, pooling="flatten", progress=progress)
    z = torch.as_tensor(z)
    poly.feature_scale_(z)
    head = new_head(poly.out_features, reference.head.out_features, random_state)
    history = fit_head(poly, head, z, y.numpy(), epochs=epochs, lr=lr, batch_size=batch_size,
                       weight_decay=weight_decay, random_state=random_state,
                       progress=progress)
    config = {**reference.config, "kind": "random", "epochs": epochs, "lr": lr,
              "random_state": random_state}
    net = VINet(backbone, preprocess, poly, head, pooling=reference.pool.mode, config=config)
    net.history_ = history
    return net.eval()
