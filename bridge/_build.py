"""The VI-Net pipeline: from a pretrained model, a cut node and training data to a VINet.

The pipeline of VI-Net (Pelleriti, Zimmer, Wirth, Pokutta, ICML 2025, arXiv
2502.15051, Sec. 3-4; ``docs/design.md``), with the settings of one
:class:`~bridge.VINetConfig`:

1. cut the network (:func:`neural.truncate`), extract pooled latents ``x`` once, and
   the full network's logits (the distillation teacher);
2. fit the projection ``z = P x``: PCA to ``n_components`` and the scaling to
   ``[-1, 1]``, folded into one affine map (``D·k + k`` values);
3. fit the generators of each class's approximate vanishing ideal on ``z`` (OAVI or
   ABM, subsampled per class, classes in parallel through joblib);
4. keep the most discriminative generators per class (:func:`algebra.prune_generators`);
5. compile them into a :class:`~bridge.PolynomialLayer` (outputs scaled to unit RMS);
6. train the head on ``[x, |G(z)|]`` (``skip``; ``|G(z)|`` alone without it) and
   fine-tune the coefficients inside their support (:mod:`bridge._training`).

Steps 1-2 and 6 are shared with the baselines (:mod:`bridge._baselines`), so every
model of a comparison sees the same inputs and the same training recipe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed
from sklearn.model_selection import train_test_split
from torch import nn
from torch.utils.data import DataLoader, Dataset

import neural
from algebra import PolynomialSet, discriminative_scores, fit_vanishing_ideal, top_generators
from bridge._config import VINetConfig, check_fit_kwargs, resolve_config
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._training import TailInputs, fit_tail, new_head
from bridge._vinet import Pool, VINet, sample_shape

__all__ = ["PHASES", "Cut", "as_data", "assemble", "build_vinet", "check_components",
           "check_cut", "check_labels", "fit_class", "fit_polynomials", "fit_projection",
           "fit_settings", "fit_vinet", "fold_projection", "holdout_split", "kept_generators",
           "prepare_cut", "run_fits", "train_standardised", "train_tail"]


#: The phases of :attr:`VINet.timings_`, in pipeline order (``fits_per_class`` and
#: ``total`` are there too).
PHASES = ("extraction", "preprocessing", "fits", "pruning", "fine_tuning")


@dataclass
class Cut:
    """The frozen part of a VI-Net and its cached training inputs (steps 1-2)."""

    backbone: nn.Module
    pool: Pool
    x: torch.Tensor  # (N, D) float32 pooled latents of the training images
    y: torch.Tensor  # (N,) int64 labels
    teacher: torch.Tensor | None  # (N, C) the full network's logits, for distillation
    images: torch.Tensor | None  # (N, *input_shape) the training images; None if streamed
    meta: dict[str, Any]  # arch, node, input shape, classes, latent width
    seconds: float = 0.0  # the extraction's wall time (cut, latents, teacher)


def as_data(data: Any, name: str = "train_data") -> tuple[torch.Tensor, torch.Tensor]:
    """Validate labelled data and return float32 images and int64 labels as tensors.

    ``data`` is a pair ``(X, y)`` of tensors or arrays, or a torch ``Dataset`` or
    ``DataLoader`` of ``(image, label)`` items, read once (in its order) into tensors.
    """
    if isinstance(data, (Dataset, DataLoader)):
        data = _read_all(data, name)
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise BridgeError(
            f"{name} must be a pair (X, y) of images (N, ...) and labels (N,), a Dataset or "
            f"a DataLoader of (image, label) items, got {type(data).__name__}; e.g. "
            "neural.load_digits('train')."
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


def _read_all(data: Any, name: str) -> tuple[torch.Tensor, torch.Tensor]:
    """The images and labels of a Dataset or DataLoader, in one pass, as tensors."""
    shape = sample_shape(data)
    try:
        images, labels = neural.extract_latents(nn.Identity(), data, pooling="flatten",
                                                progress=False)
    except neural.NeuralError as exc:
        raise BridgeError(f"{name}: {exc}") from exc
    if labels is None:
        raise BridgeError(f"{name} yields images without labels; its items must be "
                          "(image, label) pairs.")
    return torch.from_numpy(images).reshape(-1, *shape), torch.from_numpy(labels)


def check_labels(labels: np.ndarray, n_classes: int, name: str = "train_data",
                  fix: str = "add samples of every class") -> None:
    """Every class ``0..n_classes-1`` of the model has training samples, and no other."""
    missing = sorted(set(range(n_classes)) - set(np.unique(labels).tolist()))
    if missing or labels.min() < 0 or labels.max() >= n_classes:
        wrong = missing or sorted(set(np.unique(labels).tolist()) - set(range(n_classes)))
        raise BridgeError(
            f"{name} must contain every class 0..{n_classes - 1} of the model's "
            f"{n_classes} outputs (a class without samples has no vanishing ideal), but "
            f"class(es) {wrong[:20]}{' ...' if len(wrong) > 20 else ''} are absent or out of "
            f"range; {fix}."
        )


class _Latents(nn.Module):
    """The pooled latents at the cut, and the full network's logits beside them: one
    pass over streamed data computes both, in the same order (a shuffling DataLoader
    gives another order on every pass)."""

    def __init__(self, backbone: nn.Module, pool: Pool, model: nn.Module | None) -> None:
        super().__init__()
        self.backbone, self.pool, self.model = backbone, pool, model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        latents = self.pool(self.backbone(x))
        return latents if self.model is None else torch.cat([latents, self.model(x)], dim=1)


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


def prepare_cut(model: nn.Module, node: str, train_data: Any, config: VINetConfig, *,
                arch: str | None, arch_kwargs: dict[str, Any] | None,
                progress: bool | None, teacher: torch.Tensor | None = None) -> Cut:
    """Step 1: cut, pool the latents of the training images once, the teacher's logits.

    ``teacher`` (the full network's logits of ``train_data``) may be passed when it is
    already at hand (several cuts of one model); otherwise it is computed when
    ``config.distill > 0`` (a zero weight leaves it unused). A ``Dataset`` or
    ``DataLoader`` is streamed through the network once (latents and teacher logits in
    the same pass) when the backbone stays frozen; fine-tuning the backbone needs the
    images, so then it is read into memory first.
    """
    start = time.perf_counter()
    stream = isinstance(train_data, (Dataset, DataLoader)) and config.freeze_backbone
    if stream:
        X = None
        example = torch.as_tensor(_first_item(train_data)[0])[None].float()
    else:
        X, y = as_data(train_data)
        example = X[:1]
    _, n_classes = check_cut(model, node, example)
    if not stream:
        check_labels(y.numpy(), n_classes)
    backbone = neural.truncate(model, node, example_input=example).eval()
    for p in backbone.parameters():
        p.requires_grad_(not config.freeze_backbone)
    pool = Pool(config.pooling, config.grid)
    if stream:
        wants_teacher = teacher is None and config.distill > 0
        both = _Latents(backbone, pool, model if wants_teacher else None)
        out, labels = neural.extract_latents(both, train_data, pooling="flatten",
                                             progress=progress)
        if labels is None:
            raise BridgeError("train_data yields images without labels; its items must be "
                              "(image, label) pairs.")
        check_labels(labels, n_classes)
        y = torch.from_numpy(labels).long()
        width = out.shape[1] - (n_classes if wants_teacher else 0)
        latents = out[:, :width]
        if wants_teacher:
            teacher = torch.as_tensor(out[:, width:]).float()
    else:
        latents, _ = neural.extract_latents(backbone, X, pooling=config.pooling,
                                            grid=config.grid, progress=progress)
        if teacher is None and config.distill > 0:
            logits, _ = neural.extract_latents(model, X, pooling="flatten", progress=False)
            teacher = torch.as_tensor(logits).float()
    meta = {"arch": arch, "arch_kwargs": dict(arch_kwargs or {}), "node": node,
            "input_shape": list(example.shape[1:]), "n_classes": n_classes,
            "latent_width": int(latents.shape[1])}
    return Cut(backbone, pool, torch.as_tensor(latents).float(), y, teacher, X, meta,
               seconds=time.perf_counter() - start)


def _first_item(data: Dataset | DataLoader) -> Any:
    dataset = data.dataset if isinstance(data, DataLoader) else data
    if not hasattr(dataset, "__len__") or len(dataset) == 0:
        raise BridgeError("train_data is an empty Dataset (or one of unknown length); pass a "
                          "map-style Dataset of (image, label) items.")
    item = dataset[0]
    if not isinstance(item, (tuple, list)) or len(item) < 2:
        raise BridgeError("train_data yields images without labels; its items must be "
                          "(image, label) pairs.")
    return item


def holdout_split(cut: Cut, config: VINetConfig, random_state: int) -> tuple[Cut, Cut | None]:
    """Split ``cut``'s samples into the part everything is fitted on and the held-out part.

    A stratified ``config.holdout`` share drawn from ``random_state`` (so every model of
    a comparison built with the same seed holds out the same samples) chooses the
    fine-tuning epoch (:func:`bridge._training.fit_tail`). No split (``None``) when
    ``holdout`` is 0 or the share would not hold one sample of every class out while
    leaving one of each in.

    Returns
    -------
    fit : Cut
        The samples the projection, generators and head are fitted on.
    held : Cut or None
        The held-out samples.
    """
    n = len(cut.y)
    counts = np.bincount(cut.y.numpy())
    n_held = round(config.holdout * n)
    if config.holdout == 0 or n_held < len(counts) or n - n_held < len(counts) or (
            counts.min() < 2):
        return cut, None
    fit_idx, held_idx = train_test_split(np.arange(n), test_size=n_held,
                                         random_state=random_state, stratify=cut.y.numpy())

    def part(idx: np.ndarray) -> Cut:
        index = torch.as_tensor(np.sort(idx))
        teacher = None if cut.teacher is None else cut.teacher[index]
        return Cut(cut.backbone, cut.pool, cut.x[index], cut.y[index], teacher,
                   cut.images[index], cut.meta)

    return part(fit_idx), part(held_idx)


def fit_projection(x: torch.Tensor, config: VINetConfig) -> nn.Module:
    """Step 2: PCA and scaling fitted on ``x`` and folded into one frozen affine map.

    :func:`neural.make_preprocessing` fits the PCA (to ``n_components``) and the
    scaling; both are affine, so their composition is ``z = W x + b``: stored as an
    ``nn.Linear`` whose ``D·k + k`` values are exactly what inference needs (the PCA's
    explained variances are not). Frozen (``requires_grad=False``).
    """
    check_components(config, x.shape[1], x.shape[0])
    return fold_projection(neural.make_preprocessing(x, config.n_components, config.scaling),
                           x.shape[1])


def check_components(config: VINetConfig, width: int, n_samples: int) -> None:
    """``n_components`` fits the pooled latent width and the number of samples."""
    k = config.n_components
    if k is not None and not k <= min(width, n_samples):
        raise BridgeError(
            f"n_components={k} is larger than the pooled latent width {width} "
            f"(pooling={config.pooling!r}) or the {n_samples} samples; pass "
            f"n_components <= {min(width, n_samples)}, pooling='grid' or 'flatten' for "
            "wider latents, or None to skip the PCA."
        )


def fold_projection(prep: nn.Module, width: int) -> nn.Linear:
    """The affine map ``prep`` (PCA and scaling modules) as one frozen ``nn.Linear``."""
    with torch.no_grad():
        probe = torch.cat([torch.zeros(1, width), torch.eye(width)])
        out = prep(probe).to(torch.float64)
    bias = out[0]
    linear = nn.Linear(width, out.shape[1])
    with torch.no_grad():
        linear.weight.copy_((out[1:] - bias).t())
        linear.bias.copy_(bias)
    linear.requires_grad_(False)
    return linear


def fit_class(z: np.ndarray, label: int, method: str,
               fit_kwargs: dict[str, Any]) -> tuple[PolynomialSet, float]:
    """Generators of one class's approximate vanishing ideal, labelled with the class, and
    the seconds the fit took (measured where it ran: a joblib worker, say)."""
    start = time.perf_counter()
    G = fit_vanishing_ideal(z, method=method, **fit_kwargs)
    if len(G):
        G = PolynomialSet(G.terms, G.coef, order=G.order, leading=G.leading, mse=G.mse,
                          labels=np.full(len(G), label), order_ideal=G.order_ideal)
    return G, time.perf_counter() - start


def fit_settings(config: VINetConfig, fit_kwargs: dict[str, Any], random_state: int,
                 label: int) -> dict[str, Any]:
    """The keyword arguments of class ``label``'s generator fit."""
    return {"psi": config.psi, "max_degree": config.max_degree,
            "max_samples": config.max_samples, **fit_kwargs,
            "random_state": random_state + label}


def run_fits(jobs: Any, n_classes: int, config: VINetConfig, *, n_jobs: int | None,
             progress: bool | None) -> tuple[list[PolynomialSet], dict[str, Any]]:
    """Run the per-class fit ``jobs`` (joblib ``delayed`` calls of :func:`fit_class`, in
    class order) in parallel; the sets and their timings ``fits``, ``fits_per_class``."""
    start = time.perf_counter()
    bar = neural.progress_bar(total=n_classes, progress=progress,
                              desc=f"{config.method} per class", unit="class", leave=False)
    sets, per_class = [], []
    for G, seconds in Parallel(n_jobs=n_jobs, return_as="generator")(jobs):
        sets.append(G)
        per_class.append(seconds)
        bar.update()
    bar.close()
    if sum(len(G) for G in sets) == 0:
        raise BridgeError(
            f"No class has a generator with psi={config.psi} and max_degree="
            f"{config.max_degree}; the latents are not described by low-degree polynomials "
            "at this tolerance: raise psi or max_degree, or lower n_components."
        )
    return sets, {"fits": time.perf_counter() - start, "fits_per_class": per_class}


def kept_generators(sets: list[PolynomialSet], scores: list[np.ndarray],
                    config: VINetConfig) -> list[np.ndarray]:
    """Per class, the indices of the generators kept (step 4): the best ``config.keep``
    by ``scores``, then, if more than ``config.max_generators`` in all, the best
    ``max(1, max_generators // K)`` of those (ties as in :func:`algebra.top_generators`).
    """
    kept = top_generators(sets, scores, keep=config.keep)
    cap = config.max_generators
    if cap is None or sum(idx.size for idx in kept) <= cap:
        return kept
    per_class = max(1, cap // len(sets))
    best = top_generators([s.select(idx) for s, idx in zip(sets, kept, strict=True)],
                          [np.asarray(sc)[idx] for sc, idx in zip(scores, kept, strict=True)],
                          keep=per_class)
    return [idx[b] for idx, b in zip(kept, best, strict=True)]


def fit_polynomials(z: torch.Tensor, y: torch.Tensor, config: VINetConfig, *,
                    n_jobs: int | None, random_state: int, progress: bool | None,
                    fit_kwargs: dict[str, Any]) -> tuple[PolynomialLayer, dict[str, Any]]:
    """Steps 3-5: per-class generators on ``z``, pruned, compiled, scaled to unit RMS.

    Returns the layer and its timings: ``fits`` (wall seconds of the per-class fits),
    ``fits_per_class`` (each class's own seconds) and ``pruning`` (pruning and compiling).
    """
    z64 = z.double().numpy()
    labels = y.numpy()
    n_classes = int(labels.max()) + 1
    jobs = (delayed(fit_class)(z64[labels == c], c, config.method,
                                fit_settings(config, fit_kwargs, random_state, c))
            for c in range(n_classes))
    sets, timings = run_fits(jobs, n_classes, config, n_jobs=n_jobs, progress=progress)
    start = time.perf_counter()
    # The score divides by each generator's RMS on its class: OAVI's scale drops out.
    scores = discriminative_scores(sets, z64, labels)
    sets = [s.select(idx) for s, idx in zip(sets, kept_generators(sets, scores, config),
                                             strict=True)]
    poly = PolynomialLayer.from_polynomials(
        PolynomialSet.concatenate([G for G in sets if len(G)]))
    poly.feature_scale_(z.float())
    timings["pruning"] = time.perf_counter() - start
    return poly, timings


def _to_standard(linear: nn.Linear, mean: torch.Tensor, std: torch.Tensor,
                 columns: slice = slice(None)) -> None:
    """Rewrite ``linear`` (on ``x[columns]``) to act on ``s = (x - mean) / std`` instead.

    ``W x + b = (W · std) s + (W mean + b)``: the same map, so training can run on
    standardised latents (well-conditioned for L-BFGS and Adam alike).
    """
    with torch.no_grad():
        W = linear.weight[:, columns]
        linear.bias.add_(W @ mean)
        W.mul_(std)


def _from_standard(linear: nn.Linear, mean: torch.Tensor, std: torch.Tensor,
                   columns: slice = slice(None)) -> None:
    """The inverse of :func:`_to_standard`: fold the standardisation back into ``linear``."""
    with torch.no_grad():
        W = linear.weight[:, columns]
        W.div_(std)
        linear.bias.sub_(W @ mean)


class _Standardize(nn.Module):
    """``(x - mean) / std`` (training only: folded into the next layers afterwards)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean)
        self.register_buffer("std", std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class _Tail(nn.Module):
    """A VINet after the pooling, as :func:`bridge._training.fit_tail` trains it."""

    def __init__(self, net: VINet) -> None:
        super().__init__()
        self.net = net
        self.head = net.head

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net.head_input(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.net.head_input(x))


def train_tail(net: VINet, cut: Cut, config: VINetConfig, *, random_state: int,
               progress: bool | None, held: Cut | None = None) -> list[float]:
    """Step 6 for any model of a comparison: train ``net``'s head (and features) on ``cut``.

    See :func:`train_standardised`; the cut's latents (and, when the backbone is
    fine-tuned, its images) are the training inputs. ``held`` (from
    :func:`holdout_split`) chooses the epoch; which one and its held-out accuracy go to
    ``net.config["training"]``.
    """
    mean = cut.x.mean(dim=0)
    std = cut.x.std(dim=0)
    backbone = None if config.freeze_backbone else cut.backbone
    inputs = TailInputs(cut.x, cut.y, cut.teacher, cut.images)
    held_inputs = None if held is None else TailInputs(held.x, held.y, images=held.images)
    return train_standardised(net, inputs, mean, std, config, random_state=random_state,
                              progress=progress, backbone=backbone, held=held_inputs)


def train_standardised(net: VINet, inputs: TailInputs, mean: torch.Tensor, std: torch.Tensor,
                       config: VINetConfig, *, random_state: int, progress: bool | None,
                       backbone: nn.Module | None = None,
                       held: TailInputs | None = None) -> list[float]:
    """Train ``net``'s tail on ``inputs``, the pooled latents standardised by ``mean``, ``std``.

    The latents are standardised for training (per mini-batch) and the
    standardisation is folded back into the projection and the head's latent block
    afterwards, so the trained model takes the raw pooled latents and holds no
    extra values. A ``backbone`` (trainable) is fine-tuned too, on ``inputs.images``.
    ``held`` (held-out samples) chooses the epoch (:func:`~bridge._training.fit_tail`);
    the choice goes to ``net.config["training"]``.
    """
    std = std.clamp(min=1e-6)
    width = mean.shape[0]
    linears = [(net.head, slice(0, width))] if net.skip else []
    if isinstance(net.preprocess, nn.Linear):
        linears.append((net.preprocess, slice(None)))
    for linear, cols in linears:
        _to_standard(linear, mean, std, cols)
    scale = _Standardize(mean, std)
    encoder = None if backbone is None else nn.Sequential(backbone, net.pool, scale)
    inputs.transform = scale
    if held is not None:
        held.transform = scale
    try:
        history, selection = fit_tail(_Tail(net), inputs, config, random_state=random_state,
                                      progress=progress, encoder=encoder, held=held,
                                      n_linear=width if net.skip else None)
    finally:
        for linear, cols in linears:
            _from_standard(linear, mean, std, cols)
    net.config["training"] = selection
    return history


def build_vinet(
    model: nn.Module,
    node: str,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    n_jobs: int | None = 1,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    progress: bool | None = None,
    random_state: int = 0,
    fit_kwargs: dict[str, Any] | None = None,
    **settings: Any,
) -> VINet:
    """Build and train a VI-Net from a pretrained classifier.

    Parameters
    ----------
    model : nn.Module
        The pretrained classifier, input ``(N, *input_shape)``, output
        ``(N, n_classes)`` logits. Left unchanged; it is also the distillation teacher.
    node : str
        Where to cut (a name from :func:`neural.list_nodes`), before the classifier.
    train_data : tuple (X, y), Dataset or DataLoader
        Training images ``(N, *input_shape)`` and labels ``(N,)`` in
        ``0..n_classes-1``; every class must be present. A torch ``Dataset`` or
        ``DataLoader`` of ``(image, label)`` items (a torchvision ``ImageFolder``, say)
        is streamed through the network once, in batches, with a frozen backbone;
        ``freeze_backbone=False`` reads its images into memory.
    config : VINetConfig or None, default=None
        The settings; ``None``: the defaults, ``VINetConfig()``. To have them chosen on
        a validation split of ``train_data``, pass the result of
        :func:`bridge.tune_vinet` (the automatic mode; ``vinet fit --auto``).
    n_jobs : int or None, default=1
        Classes fitted in parallel by joblib (``-1``: all cores). Under
        ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster.
    arch, arch_kwargs : str and dict, optional
        The registered architecture of ``model`` (:data:`neural.MODELS`) and its
        constructor options, stored so that :meth:`VINet.load` can rebuild it.
    progress : bool or None, default=None
        Progress bars for extraction, per-class fits and fine-tuning: ``True`` shows
        them, ``False`` hides them, ``None`` shows them only when stderr is a terminal.
    random_state : int, default=0
        Seeds the per-class subsampling, the head's initialisation and the mini-batch
        order.
    fit_kwargs : dict, optional
        Passed on to the generator algorithm (``oracle``, ``tau``, ``order``, ...).
    **settings
        Fields of :class:`VINetConfig` overriding ``config``'s (``psi=0.02``, ...).

    Returns
    -------
    VINet
        In eval mode; :attr:`VINet.config` holds the settings (``config["settings"]``),
        :attr:`VINet.history_` the fine-tuning losses and :attr:`VINet.timings_` the
        seconds of each phase: ``extraction`` (cut, latents, teacher logits),
        ``preprocessing`` (PCA and scaling), ``fits`` (the per-class generator fits,
        wall time; ``fits_per_class``: each class's own), ``pruning`` (pruning and
        compiling the layer), ``fine_tuning`` (head and coefficients) and ``total``.

    Raises
    ------
    BridgeError
        For a cut at or after the classifier, ``n_components`` larger than the pooled
        latent width, a class absent from ``train_data``, an invalid setting or
        ``fit_kwargs`` key (checked before any work), or when no class has a generator
        (raise ``psi`` or ``max_degree``).
    """
    config = resolve_config(config, settings)
    fit_kwargs = check_fit_kwargs(config, fit_kwargs)
    cut = prepare_cut(model, node, train_data, config, arch=arch, arch_kwargs=arch_kwargs,
                      progress=progress)
    return fit_vinet(cut, config, n_jobs=n_jobs, random_state=random_state,
                     progress=progress, fit_kwargs=fit_kwargs)


def assemble(cut: Cut, proj: nn.Module | None, features: nn.Module | None, head: nn.Linear,
             config: VINetConfig, meta: dict[str, Any]) -> VINet:
    """A :class:`VINet` of ``cut``'s backbone and the given tail, ``config`` in its file."""
    return VINet(cut.backbone, proj, features, head, pooling=config.pooling,
                 grid=config.grid, skip=config.skip,
                 config={**meta, "settings": config.to_dict()})


def fit_vinet(cut: Cut, config: VINetConfig, *, n_jobs: int | None, random_state: int,
              progress: bool | None, fit_kwargs: dict[str, Any]) -> VINet:
    """Steps 2-6 on a prepared cut (shared by :func:`build_vinet` and the automatic mode).

    The model's :attr:`~VINet.timings_` holds the seconds of each phase (see
    :func:`build_vinet`).
    """
    start = time.perf_counter()
    cut, held = holdout_split(cut, config, random_state)
    proj = fit_projection(cut.x, config)
    with torch.no_grad():
        z = proj(cut.x)
    timings: dict[str, Any] = {"extraction": cut.seconds,
                               "preprocessing": time.perf_counter() - start}
    poly, fit_timings = fit_polynomials(z, cut.y, config, n_jobs=n_jobs,
                                        random_state=random_state, progress=progress,
                                        fit_kwargs=fit_kwargs)
    timings.update(fit_timings)
    n_classes = cut.meta["n_classes"]
    width = (cut.x.shape[1] if config.skip else 0) + poly.out_features
    head = new_head(width, n_classes, random_state)
    meta = {**cut.meta, "kind": "vinet", "method": config.method,
            "n_generators": [int((poly.labels == c).sum()) for c in range(n_classes)]}
    net = assemble(cut, proj, poly, head, config, meta)
    start = time.perf_counter()
    net.history_ = train_tail(net, cut, config, random_state=random_state, progress=progress,
                              held=held)
    timings["fine_tuning"] = time.perf_counter() - start
    timings["total"] = sum(timings[k] for k in PHASES)
    net.timings_ = timings
    return net.eval()
