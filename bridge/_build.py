"""The VI-Net pipeline: from a pretrained model, a cut node and training data to a VINet.

The pipeline of VI-Net (Pelleriti, Zimmer, Wirth, Pokutta, ICML 2025, arXiv
2502.15051, Sec. 3-4; ``docs/design.md``):

1. cut the network (:func:`neural.truncate`), extract pooled latents once;
2. fit the preprocessing (PCA to ``n_components``, scaling to ``[-1, 1]``);
3. fit the generators of each class's approximate vanishing ideal (OAVI or ABM,
   subsampled per class, classes in parallel through joblib);
4. keep the most discriminative generators (:func:`algebra.prune_generators`);
5. compile them into a :class:`~bridge.PolynomialLayer` (outputs scaled to unit RMS);
6. fit the linear head on the cached features ``|G(z)|`` (full-batch L-BFGS), then
   fine-tune the coefficients (sparsity mask fixed) and the head with cross-entropy,
   the backbone frozen.

Steps 1-2 (:func:`prepare_cut`) are shared with the baselines of
:mod:`bridge._baselines`, step 6 lives in :mod:`bridge._training`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed
from torch import nn
from tqdm.auto import tqdm

import neural
from algebra import PolynomialSet, fit_vanishing_ideal, prune_generators
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._training import check_training, fit_head, new_head
from bridge._vinet import Pool, VINet

__all__ = ["VINET_METHODS", "Cut", "as_data", "build_vinet", "check_cut", "prepare_cut"]

#: The generator algorithms of VI-Net: the border-loop methods, whose generators have a
#: leading term and bounded coefficients (VCA's expansion can have very large ones).
VINET_METHODS: tuple[str, ...] = ("oavi", "abm")


@dataclass
class Cut:
    """The frozen part of a VI-Net and the cached preprocessed training latents."""

    backbone: nn.Module
    preprocess: nn.Sequential
    z: torch.Tensor  # (N, k) float32 preprocessed latents of the training images
    y: np.ndarray  # (N,) int64 labels
    config: dict[str, Any]
    images: torch.Tensor  # (N, *input_shape) the training images


def as_data(data: Any, name: str = "train_data") -> tuple[torch.Tensor, torch.Tensor]:
    """Validate ``(X, y)`` and return float32 images and int64 labels as tensors."""
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise BridgeError(
            f"{name} must be a pair (X, y) of images (N, ...) and labels (N,), got "
            f"{type(data).__name__}; e.g. neural.load_digits('train')."
        )
    X = torch.as_tensor(np.asarray(data[0]) if not isinstance(data[0], torch.Tensor) else data[0])
    y = torch.as_tensor(np.asarray(data[1]) if not isinstance(data[1], torch.Tensor) else data[1])
    if X.ndim < 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise BridgeError(
            f"{name} must hold N >= 1 images X of shape (N, ...) and N labels y of shape "
            f"(N,), got X {tuple(X.shape)} and y {tuple(y.shape)}."
        )
    if y.dtype.is_floating_point or y.dtype == torch.bool:
        raise BridgeError(f"{name} labels must be integers 0..C-1, got dtype {y.dtype}.")
    return X.float(), y.long()


def check_cut(model: nn.Module, node: str, example: torch.Tensor) -> tuple[int, int]:
    """Check that ``node`` lies before the classifier; return (node index, n_classes).

    The classifier is the last node that holds parameters (``fc`` of a ResNet): a cut
    at or after it leaves nothing for the polynomial layer to replace.
    """
    nodes = neural.list_nodes(model, example)
    names = [n.name for n in nodes]
    index = next((i for i, n in enumerate(nodes) if node == n.name or node in n.ends), None)
    if index is None:
        try:  # neural's message names the closest and the valid cut points
            neural.truncate(model, node)
        except neural.NeuralError as exc:
            raise BridgeError(str(exc)) from exc
        raise BridgeError(f"node={node!r} is not a cut point of this model.")
    modules = dict(model.named_modules())
    with_params = [
        i for i, n in enumerate(nodes)
        if n.op == "module" and n.name in modules
        and any(True for _ in modules[n.name].parameters(recurse=False))
    ]
    classifier = with_params[-1] if with_params else len(nodes) - 1
    if index >= classifier:
        before = names[classifier - 1] if classifier > 0 else names[0]
        raise BridgeError(
            f"node={node!r} is at or after the classifier {names[classifier]!r}, so nothing "
            f"would be left for the polynomial layer to replace; cut earlier, e.g. at "
            f"{before!r}."
        )
    with torch.no_grad():
        was = model.training
        model.eval()
        out = model(example)
        model.train(was)
    return index, int(out.shape[-1])


def prepare_cut(
    model: nn.Module,
    node: str,
    train_data: Any,
    *,
    pooling: str,
    n_components: int | None,
    scaling: str | None,
    arch: str | None,
    arch_kwargs: dict[str, Any] | None,
    progress: bool,
    freeze_backbone: bool = True,
) -> Cut:
    """Steps 1-2: cut, extract latents once, fit the preprocessing."""
    if pooling not in neural.POOLINGS:
        raise BridgeError(
            f"pooling={pooling!r} is not one of {neural.POOLINGS}; pass one of them."
        )
    if scaling not in neural.SCALINGS:
        raise BridgeError(
            f"scaling={scaling!r} is not one of {neural.SCALINGS}; pass one of them."
        )
    if n_components is not None and (
        isinstance(n_components, bool) or not isinstance(n_components, int) or n_components < 1
    ):
        raise BridgeError(
            f"n_components={n_components!r} must be a positive integer (the PCA dimension) "
            "or None to skip the PCA."
        )
    X, y = as_data(train_data)
    _, n_classes = check_cut(model, node, X[:1])
    labels = y.numpy()
    missing = sorted(set(range(n_classes)) - set(np.unique(labels).tolist()))
    if missing or labels.min() < 0 or labels.max() >= n_classes:
        raise BridgeError(
            f"train_data must contain every class 0..{n_classes - 1} of the model's "
            f"{n_classes} outputs (a class without samples has no vanishing ideal), but "
            f"class(es) {missing or sorted(set(labels.tolist()) - set(range(n_classes)))} "
            "are absent or out of range; add samples of every class."
        )
    backbone = neural.truncate(model, node).eval()
    for p in backbone.parameters():
        p.requires_grad_(not freeze_backbone)
    latents, _ = neural.extract_latents(backbone, X, pooling=pooling, progress=progress)
    width = latents.shape[1]
    if n_components is not None and not 1 <= n_components <= min(width, latents.shape[0]):
        raise BridgeError(
            f"n_components={n_components} is larger than the latent width {width} at "
            f"node={node!r} (pooling={pooling!r}) or the {latents.shape[0]} samples; pass "
            f"n_components <= {min(width, latents.shape[0])}, pooling='flatten' for wider "
            "latents, or None to skip the PCA."
        )
    preprocess = neural.make_preprocessing(latents, n_components, scaling)
    with torch.no_grad():
        z = preprocess(torch.as_tensor(latents)).float()
    config = {
        "arch": arch,
        "arch_kwargs": dict(arch_kwargs or {}),
        "node": node,
        "pooling": pooling,
        "input_shape": list(X.shape[1:]),
        "n_classes": n_classes,
        "latent_width": int(width),
        "n_components": n_components,
        "n_components_out": int(z.shape[1]),
        "scaling": scaling,
    }
    return Cut(backbone, preprocess, z, labels, config, X)


def _fit_class(z: np.ndarray, label: int, method: str, fit_kwargs: dict[str, Any]) -> PolynomialSet:
    """Generators of one class's approximate vanishing ideal, labelled with the class."""
    G = fit_vanishing_ideal(z, method=method, **fit_kwargs)
    if len(G) == 0:
        return G
    return PolynomialSet(G.terms, G.coef, order=G.order, leading=G.leading, mse=G.mse,
                         labels=np.full(len(G), label), order_ideal=G.order_ideal)


def build_vinet(
    model: nn.Module,
    node: str,
    train_data: Any,
    *,
    n_components: int | None = 16,
    pooling: str = "avg",
    scaling: str | None = "minmax",
    method: str = "oavi",
    psi: float = 0.01,
    max_degree: int = 2,
    max_samples: int | None = None,
    keep: int | float | None = None,
    n_jobs: int | None = 1,
    epochs: int = 20,
    lr: float = 1e-2,
    batch_size: int = 128,
    weight_decay: float = 0.0,
    freeze_backbone: bool = True,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    progress: bool = True,
    random_state: int = 0,
    **fit_kwargs: Any,
) -> VINet:
    """Build and train a VI-Net from a pretrained classifier.

    Parameters
    ----------
    model : nn.Module
        The pretrained classifier, input ``(N, *input_shape)``, output
        ``(N, n_classes)`` logits. Left unchanged.
    node : str
        Where to cut (a name from :func:`neural.list_nodes`), before the classifier.
    train_data : tuple (X, y)
        Training images ``(N, *input_shape)`` and labels ``(N,)`` in
        ``0..n_classes-1``; every class must be present.
    n_components : int or None, default=16
        PCA dimension ``k`` of the latents (at most their width); ``None``: no PCA.
    pooling : {"avg", "max", "flatten"}, default="avg"
        How activations ``(N, C, H, W)`` become latent vectors.
    scaling : {"minmax", "tanh", "standard"} or None, default="minmax"
        Scaling after the PCA (``"minmax"``: onto ``[-1, 1]``, VI-Net's setting).
    method : {"oavi", "abm"}, default="oavi"
        Generator algorithm (:func:`algebra.fit_oavi`, :func:`algebra.fit_abm`).
    psi : float, default=0.01
        Vanishing tolerance: mean of ``g(z)²`` over the class's samples ``<= psi``.
    max_degree : int, default=2
        Largest degree of a generator.
    max_samples : int, optional
        Fit each class on at most this many samples drawn at random.
    keep : int, float or None, default=None
        Generators kept per class by discriminative score (an int count, a float
        fraction, or all).
    n_jobs : int or None, default=1
        Classes fitted in parallel by joblib (``-1``: all cores). Under
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster.
    epochs : int, default=20
        Fine-tuning epochs of coefficients and head (``0``: head only).
    lr : float, default=1e-2
        Adam learning rate of the fine-tuning.
    batch_size : int, default=128
        Mini-batch size of the fine-tuning.
    weight_decay : float, default=0.0
        Adam's L2 weight decay during fine-tuning (the head's L-BFGS fit has its own
        fixed penalty).
    freeze_backbone : bool, default=True
        Keep the backbone fixed: fine-tuning then runs on the cached latents, which is
        what makes it fast. ``False`` fine-tunes the backbone too (on the images, its
        batch-norm statistics kept), at the cost of a forward and backward pass of
        the backbone per batch.
    arch, arch_kwargs : str and dict, optional
        The registered architecture of ``model`` (:data:`neural.MODELS`) and its
        constructor options, stored so that :meth:`VINet.load` can rebuild it.
    progress : bool, default=True
        Progress bars for extraction, per-class fits and fine-tuning.
    random_state : int, default=0
        Seeds subsampling, the head's initialisation and the mini-batch order.
    **fit_kwargs
        Passed on to the generator algorithm (``oracle``, ``tau``, ``order``, ...).

    Returns
    -------
    VINet
        In eval mode, with :attr:`VINet.history_` the fine-tuning losses.

    Raises
    ------
    BridgeError
        For a cut at or after the classifier, ``n_components`` larger than the latent
        width, a class absent from ``train_data``, bad training settings, or when no
        class has a generator (raise ``psi`` or ``max_degree``).
    """
    if method not in VINET_METHODS:
        raise BridgeError(f"method={method!r} is not one of {VINET_METHODS}; pass one of them.")
    check_training(epochs, lr, batch_size)
    cut = prepare_cut(model, node, train_data, pooling=pooling, n_components=n_components,
                      scaling=scaling, arch=arch, arch_kwargs=arch_kwargs, progress=progress,
                      freeze_backbone=freeze_backbone)
    z64 = cut.z.double().numpy()
    classes = range(cut.config["n_classes"])
    settings = {"psi": psi, "max_degree": max_degree, "max_samples": max_samples, **fit_kwargs}
    jobs = (
        delayed(_fit_class)(z64[cut.y == c], c, method,
                            {**settings, "random_state": random_state + c})
        for c in classes
    )
    bar = tqdm(total=len(classes), desc=f"{method} per class", unit="class",
               disable=not progress, leave=False)
    sets = []
    for G in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        sets.append(G)
        bar.update()
    bar.close()
    if sum(len(G) for G in sets) == 0:
        raise BridgeError(
            f"No class has a generator with psi={psi} and max_degree={max_degree}; the "
            "latents are not described by low-degree polynomials at this tolerance: raise "
            "psi or max_degree, or lower n_components."
        )
    sets = prune_generators(sets, z64, cut.y, keep=keep)
    polys = PolynomialSet.concatenate([G for G in sets if len(G)])
    poly = PolynomialLayer.from_polynomials(polys)
    poly.feature_scale_(cut.z)
    head = new_head(poly.out_features, cut.config["n_classes"], random_state)
    encoder = None if freeze_backbone else nn.Sequential(cut.backbone, Pool(pooling),
                                                          cut.preprocess)
    history = fit_head(poly, head, cut.z, cut.y, epochs=epochs, lr=lr, batch_size=batch_size,
                       weight_decay=weight_decay, random_state=random_state,
                       progress=progress, encoder=encoder, images=cut.images)
    config = {**cut.config, "kind": "vinet", "freeze_backbone": freeze_backbone,
              "method": method, "psi": psi,
              "max_degree": max_degree, "max_samples": max_samples, "keep": keep,
              "epochs": epochs, "lr": lr, "absolute": True,
              "n_generators": [int((poly.labels == c).sum()) for c in classes]}
    net = VINet(cut.backbone, cut.preprocess, poly, head, pooling=pooling, config=config)
    net.history_ = history
    return net.eval()
