"""The baselines reported beside VI-Net, trained with VI-Net's own recipe.

Every baseline shares VI-Net's cut, pooling, projection, inputs (with ``skip``, the
head sees the pooled latents beside the features) and training
(:func:`bridge._build.train_tail`: L-BFGS head, then mini-batch Adam with the same
distillation), so that a difference in accuracy is the polynomial layer's, not the
recipe's:

* :func:`linear_probe`: no feature map, a linear head (the paper's baseline);
* :func:`random_monomial_baseline`: random monomials of the same size as VI-Net's
  layer (VI-Net, Pelleriti et al., ICML 2025, Sec. 5);
* :func:`mlp_head_baseline`: a one-hidden-layer perceptron on ``z`` with as many
  parameters as VI-Net's polynomial layer and head, the alternative a practitioner
  reaches for first.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch import nn

from algebra import random_order_ideal
from bridge._build import Cut, assemble, fit_projection, holdout_split, prepare_cut, train_tail
from bridge._config import VINetConfig, resolve_config
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._training import new_head
from bridge._vinet import VINet

__all__ = ["fit_linear", "fit_mlp_head", "fit_random", "linear_probe", "mlp_head_baseline",
           "random_monomial_baseline"]


def fit_linear(cut: Cut, config: VINetConfig, *, random_state: int, progress: bool | None) -> VINet:
    """The linear probe on a prepared cut (see :func:`linear_probe`)."""
    cut, held = holdout_split(cut, config, random_state)
    # With skip the head reads the pooled latents; without, the projected ones (the
    # paper's probe), so the projection is only kept where it is used.
    proj = None if config.skip else fit_projection(cut.x, config)
    width = cut.x.shape[1] if config.skip else proj.out_features
    head = new_head(width, cut.meta["n_classes"], random_state)
    net = assemble(cut, proj, None, head, config, {**cut.meta, "kind": "linear"})
    net.history_ = train_tail(net, cut, config, random_state=random_state, progress=progress,
                              held=held)
    return net.eval()


def _reference_tail(reference: Any) -> PolynomialLayer:
    if not isinstance(reference, VINet) or not reference.has_poly:
        raise BridgeError(
            "reference must be a VINet with a polynomial layer (from build_vinet); the "
            "baseline copies its size."
        )
    return reference.poly


def fit_random(cut: Cut, reference: VINet, config: VINetConfig, *, random_state: int,
               progress: bool | None) -> VINet:
    """Random monomials the size of ``reference``'s layer, on a prepared cut."""
    ref = _reference_tail(reference)
    cut, held = holdout_split(cut, config, random_state)
    rng = np.random.default_rng(random_state)
    counts = np.bincount(ref.terms.sum(dim=1).numpy()).tolist()
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
    proj = copy.deepcopy(reference.preprocess)
    with torch.no_grad():
        poly.feature_scale_(proj(cut.x))
    width = (cut.x.shape[1] if config.skip else 0) + poly.out_features
    head = new_head(width, cut.meta["n_classes"], random_state)
    net = assemble(cut, proj, poly, head, config, {**cut.meta, "kind": "random"})
    net.history_ = train_tail(net, cut, config, random_state=random_state, progress=progress,
                              held=held)
    return net.eval()


def mlp_hidden_width(budget: int, n_in: int, n_skip: int, n_classes: int) -> int:
    """Hidden units ``h`` of an MLP head whose parameters come closest to ``budget``.

    The MLP head has ``(n_in + 1) h`` hidden-layer parameters and a head of
    ``(n_skip + h + 1) n_classes``; VI-Net's polynomial layer plus head is the budget.

    Parameters
    ----------
    budget : int
        Parameters to match.
    n_in : int
        Width of the hidden layer's input (``k``).
    n_skip : int
        Width of the pooled latents the head also sees (0 without skip).
    n_classes : int
        Outputs.

    Returns
    -------
    int
        At least 1.
    """
    free = budget - (n_skip + 1) * n_classes
    return max(1, round(free / (n_in + 1 + n_classes)))


def fit_mlp_head(cut: Cut, reference: VINet, config: VINetConfig, *, random_state: int,
                 progress: bool | None) -> VINet:
    """An MLP head with the parameters of ``reference``'s layer plus head, on a cut."""
    ref = _reference_tail(reference)
    cut, held = holdout_split(cut, config, random_state)
    counts = reference.parameter_counts()
    proj = copy.deepcopy(reference.preprocess)
    n_skip = cut.x.shape[1] if config.skip else 0
    n_classes = cut.meta["n_classes"]
    hidden = mlp_hidden_width(counts["poly"] + counts["head"], ref.in_features, n_skip,
                              n_classes)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        mlp = nn.Sequential(nn.Linear(ref.in_features, hidden), nn.ReLU())
    head = new_head(n_skip + hidden, n_classes, random_state)
    net = assemble(cut, proj, mlp, head, config, {**cut.meta, "kind": "mlp", "hidden": hidden})
    net.history_ = train_tail(net, cut, config, random_state=random_state, progress=progress,
                              held=held)
    return net.eval()


def linear_probe(
    model: nn.Module,
    node: str,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    progress: bool | None = None,
    random_state: int = 0,
    **settings: Any,
) -> VINet:
    """The linear-probe baseline: a linear head at the cut, trained as VI-Net is.

    Same cut, pooling, inputs and training as :func:`build_vinet` with the same
    ``config``, with no polynomial layer: with ``skip`` the head reads the pooled
    latents, without it the projected ones.

    Parameters
    ----------
    model, node, train_data, config, arch, arch_kwargs, progress, random_state, **settings
        As in :func:`build_vinet`.

    Returns
    -------
    VINet
        ``kind == "linear"``: ``(N, *input_shape) -> (N, n_classes)``.
    """
    config = resolve_config(config, settings)
    cut = prepare_cut(model, node, train_data, config, arch=arch, arch_kwargs=arch_kwargs,
                      progress=progress)
    return fit_linear(cut, config, random_state=random_state, progress=progress)


def _baseline_cut(model: nn.Module, reference: VINet, train_data: Any,
                  config: VINetConfig | None, settings: dict[str, Any],
                  progress: bool | None) -> tuple[Cut, VINet, VINetConfig]:
    _reference_tail(reference)
    if config is None:
        config = VINetConfig.from_dict(reference.config.get("settings", {}))
    config = resolve_config(config, settings)
    meta = reference.config
    cut = prepare_cut(model, meta["node"], train_data, config, arch=meta.get("arch"),
                      arch_kwargs=meta.get("arch_kwargs"), progress=progress)
    return cut, reference, config


def random_monomial_baseline(
    model: nn.Module,
    reference: VINet,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    progress: bool | None = None,
    random_state: int = 0,
    **settings: Any,
) -> VINet:
    """The random-feature baseline: random monomials of the same size as a VI-Net.

    Same backbone, projection and inputs as ``reference``; its polynomial layer is
    replaced by one over a random order ideal with the same number of monomials of each
    degree, the same number of outputs, and the same number of nonzero coefficients per
    output (at random positions, random values), then trained exactly as VI-Net's
    (unit-RMS outputs, the same recipe and distillation from ``model``).

    Parameters
    ----------
    model : nn.Module
        The pretrained classifier ``reference`` was cut from (the teacher).
    reference : VINet
        A model from :func:`build_vinet`.
    train_data : tuple (X, y), Dataset or DataLoader
        The training data ``reference`` was built on.
    config : VINetConfig, optional
        The recipe; default: the one ``reference`` was built with.
    progress, random_state, **settings
        As in :func:`build_vinet`.

    Returns
    -------
    VINet
        ``kind == "random"``.
    """
    cut, reference, config = _baseline_cut(model, reference, train_data, config, settings,
                                           progress)
    return fit_random(cut, reference, config, random_state=random_state, progress=progress)


def mlp_head_baseline(
    model: nn.Module,
    reference: VINet,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    progress: bool | None = None,
    random_state: int = 0,
    **settings: Any,
) -> VINet:
    """An MLP head with as many parameters as a VI-Net's polynomial layer and head.

    Same backbone, projection and inputs as ``reference``; its polynomial layer is
    replaced by a hidden layer ``relu(W z + b)`` whose width makes the hidden layer
    plus the head hold as many parameters as ``reference``'s polynomial layer plus
    head (:func:`mlp_hidden_width`), trained with the same recipe.

    Parameters
    ----------
    model, reference, train_data, config, progress, random_state, **settings
        As in :func:`random_monomial_baseline`.

    Returns
    -------
    VINet
        ``kind == "mlp"``; ``config["hidden"]`` is the hidden width.
    """
    cut, reference, config = _baseline_cut(model, reference, train_data, config, settings,
                                           progress)
    return fit_mlp_head(cut, reference, config, random_state=random_state, progress=progress)
