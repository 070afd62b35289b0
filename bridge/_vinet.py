"""``VINet``: a truncated backbone, pooling, a projection, a polynomial layer and a head.

VI-Net (Pelleriti, Zimmer, Wirth, Pokutta, ICML 2025, arXiv 2502.15051, Sec. 3)
replaces the tail of a pretrained network after a cut by ``|G(z)|``, the absolute
values of the generators of each class's approximate vanishing ideal on the projected
latents ``z``, followed by a linear classifier; with ``skip`` the classifier also sees
the pooled latents ``x`` themselves (``head([x, |G(z)|])``). The same module with no
polynomial layer is the linear-probe baseline, with random monomials the
random-feature baseline and with a one-hidden-layer perceptron the MLP-head baseline,
so every model in a comparison is measured the same way.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

import neural
from algebra import PolynomialSet
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer

__all__ = ["FORMAT_VERSION", "VINet", "evaluate_model"]

#: Version of the file written by :meth:`VINet.save`; :meth:`VINet.load` reads this
#: version and refuses newer ones with a clear message.
FORMAT_VERSION = 2
_FORMAT_NAME = "vinet.VINet"

class Pool(nn.Module):
    """:func:`neural.pool` as a module: activations ``(N, C, ...)`` to vectors ``(N, D)``.

    Parameters
    ----------
    mode : {"avg", "max", "flatten", "grid"}, default="avg"
        See :func:`neural.pool`.
    grid : int, default=2
        Cells per spatial dimension of ``mode="grid"``.
    """

    def __init__(self, mode: str = "avg", grid: int = 2) -> None:
        super().__init__()
        self.mode = mode
        self.grid = grid

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return neural.pool(x, self.mode, self.grid)

    def extra_repr(self) -> str:
        return f"mode={self.mode!r}" + (f", grid={self.grid}" if self.mode == "grid" else "")


class VINet(nn.Module):
    """Backbone cut → pooling → projection → polynomial layer → linear head.

    ``forward(images) = head([x, |G(P x)|])`` with ``x`` the pooled latents at the cut,
    ``P`` the projection (PCA and scaling) and ``G`` the generators; without ``skip``
    the head sees ``|G(P x)|`` alone (the paper's layout). Built by
    :func:`bridge.build_vinet` (or the baselines :func:`bridge.linear_probe`,
    :func:`bridge.random_monomial_baseline` and :func:`bridge.mlp_head_baseline`);
    stored and restored as one file by :meth:`save` and :meth:`load`.

    Parameters
    ----------
    backbone : nn.Module
        The pretrained network truncated at the cut (:func:`neural.truncate`).
    preprocess : nn.Module or None
        The projection ``(N, D) -> (N, k)``: a frozen ``nn.Linear`` (the fitted PCA and
        scaling folded into one affine map), or :func:`neural.make_preprocessing`'s
        modules in files of format 1; None for a linear head on ``x``.
    poly : PolynomialLayer, nn.Module or None
        The feature map ``(N, k) -> (N, p)``: the polynomial layer, the hidden layer of
        the MLP-head baseline, or None for the linear-probe baseline.
    head : nn.Linear
        ``(N, D + p) -> (N, n_classes)`` with ``skip`` (``(N, p)`` without; a linear
        probe's head takes ``x``, or ``z`` without ``skip``).
    pooling : {"avg", "max", "flatten", "grid"}, default="avg"
        How the backbone's activations become vectors.
    grid : int, default=2
        Cells per spatial dimension of ``pooling="grid"``.
    skip : bool, default=False
        Whether the head sees the pooled latents beside the features.
    config : dict, optional
        Plain-data description (architecture, cut node, settings) stored by
        :meth:`save`; see :attr:`config`.

    Attributes
    ----------
    config : dict
        ``kind`` (``"vinet"``, ``"linear"``, ``"random"``, ``"mlp"``), ``arch``,
        ``arch_kwargs``, ``node``, ``pooling``, ``grid``, ``skip``, ``input_shape``,
        ``n_classes``, ``latent_width`` and ``settings`` (the
        :class:`~bridge.VINetConfig` it was built with, as a dict).
    history_ : list of float
        Training loss per fine-tuning epoch (empty for a loaded model).

    Notes
    -----
    Input ``(N, *input_shape)`` images, output ``(N, n_classes)`` logits.
    """

    def __init__(
        self,
        backbone: nn.Module,
        preprocess: nn.Module | None,
        poly: nn.Module | None,
        head: nn.Linear,
        *,
        pooling: str = "avg",
        grid: int = 2,
        skip: bool = False,
        config: dict[str, Any] | None = None,
    ) -> None:
        super().__init__()
        self.backbone = backbone
        self.pool = Pool(pooling, grid)
        self.preprocess = preprocess if preprocess is not None else nn.Identity()
        self.poly = poly if poly is not None else nn.Identity()
        self.head = head
        self.skip = bool(skip)
        self.config: dict[str, Any] = dict(config or {})
        self.config.update(pooling=pooling, grid=int(grid), skip=self.skip)
        self.history_: list[float] = []

    @property
    def kind(self) -> str:
        """``"vinet"``, ``"linear"``, ``"random"`` (random monomials) or ``"mlp"`` (MLP head)."""
        return str(self.config.get("kind", "vinet" if self.has_poly else "linear"))

    @property
    def has_poly(self) -> bool:
        """Whether the model has a polynomial layer."""
        return isinstance(self.poly, PolynomialLayer)

    def latents(self, x: torch.Tensor) -> torch.Tensor:
        """The pooled latents at the cut of images.

        Parameters
        ----------
        x : torch.Tensor of shape (N, *input_shape)
            Images, as the full network takes them.

        Returns
        -------
        torch.Tensor of shape (N, D)
        """
        return self.pool(self.backbone(x))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The projected latents ``z`` of images: what the polynomial layer sees.

        Parameters
        ----------
        x : torch.Tensor of shape (N, *input_shape)
            Images, as the full network takes them.

        Returns
        -------
        torch.Tensor of shape (N, k)
        """
        return self.preprocess(self.latents(x))

    def head_input(self, x: torch.Tensor) -> torch.Tensor:
        """What the head sees, from pooled latents.

        ``[x, poly(preprocess(x))]`` with ``skip``, ``poly(preprocess(x))`` without;
        a linear probe (no feature map) passes ``x`` (``preprocess(x)`` without skip).

        Parameters
        ----------
        x : torch.Tensor of shape (N, D)
            Pooled latents (:meth:`latents`).

        Returns
        -------
        torch.Tensor of shape (N, head.in_features)
        """
        if isinstance(self.poly, nn.Identity):
            return x if self.skip else self.preprocess(x)
        f = self.poly(self.preprocess(x))
        return torch.cat([x, f], dim=1) if self.skip else f

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The logits of images.

        Parameters
        ----------
        x : torch.Tensor
            As in :meth:`features`.

        Returns
        -------
        torch.Tensor of shape (N, n_classes)
        """
        return self.head(self.head_input(self.latents(x)))

    # -- reporting ----------------------------------------------------------------------

    def parameter_counts(self) -> dict[str, int]:
        """The model's values, split as in the paper's tables (one count everywhere).

        Every value inference needs is counted once, as :func:`neural.count_parameters`
        counts it: parameters and floating-point buffers (batch-norm statistics), the
        projection's ``D·k + k`` values, and the polynomial layer's nonzero
        coefficients (its only stored floats). ``total`` equals
        ``neural.count_parameters(model).total`` and the floats of the saved file.

        Returns
        -------
        dict
            ``base`` (the truncated backbone), ``prep`` (the projection), ``poly``
            (the polynomial layer's nonzero coefficients, or the MLP head's hidden
            layer), ``head`` and ``total`` (their sum).
        """
        def count(module: nn.Module) -> int:
            return neural.count_parameters(module).total

        parts = {"base": count(self.backbone), "prep": count(self.preprocess),
                 "poly": count(self.poly), "head": count(self.head)}
        return {"total": count(self), **parts}

    def generators(self) -> list[PolynomialSet]:
        """The current generators of each class, as :class:`algebra.PolynomialSet`.

        Returns
        -------
        list of PolynomialSet
            ``result[c]`` holds the polynomials whose output feeds the head for class
            ``c``'s ideal (after fine-tuning: the trained coefficients, each scaled
            to unit RMS on the training latents); empty classes are omitted.
        """
        if not self.has_poly:
            raise BridgeError(
                f"This {self.kind!r} model has no polynomial layer, so it has no generators; "
                "build one with build_vinet."
            )
        polys = self.poly.to_polynomials()
        labels = self.poly.labels.cpu().numpy()
        return [polys.select(np.flatnonzero(labels == c)) for c in np.unique(labels)]

    def evaluate(self, data: Any, *, batch_size: int = 256,
                 throughput_repeats: int = 10) -> dict[str, Any]:
        """Accuracy, parameter split and throughput; see :func:`evaluate_model`.

        Parameters
        ----------
        data : tuple (X, y)
            Test images ``(N, *input_shape)`` and labels ``(N,)``.
        batch_size : int, default=256
            Batch of the accuracy pass and of the throughput measurement.
        throughput_repeats : int, default=10
            Timed forward passes; ``0`` skips the throughput.

        Returns
        -------
        dict
            As :func:`evaluate_model` returns it.
        """
        return evaluate_model(self, data, batch_size=batch_size,
                              throughput_repeats=throughput_repeats)

    # -- persistence --------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model to one file: configuration, state and format version.

        Parameters
        ----------
        path : path
            Destination (conventionally ``.pt``). A ``torch.save`` of a dict of plain
            data and tensors, readable with ``weights_only=True``.

        Raises
        ------
        BridgeError
            If the backbone's architecture is unknown (``config["arch"]`` is None):
            :meth:`load` rebuilds the backbone from the registry, so pass ``arch=``
            to the builder.
        """
        if not self.config.get("arch"):
            raise BridgeError(
                "This VINet does not know its backbone's registered architecture "
                "(config['arch'] is None), so load() could not rebuild it; pass arch='name' "
                f"(one of {sorted(neural.MODELS)}) and arch_kwargs to the builder."
            )
        payload = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "config": self.config,
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> VINet:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : path
            A file written by :meth:`save` (or ``vinet fit --out``).

        Returns
        -------
        VINet
            In eval mode on the CPU; its outputs equal the saved model's exactly.

        Raises
        ------
        BridgeError
            If the file is missing, unreadable (corrupt or not a torch file), not a
            VI-Net file, of a newer format version, or its state does not fit the
            configured architecture.
        """
        path = Path(path)
        if not path.is_file():
            raise BridgeError(
                f"VI-Net file {str(path)!r} does not exist; pass the path written by "
                "VINet.save or `vinet fit --out`."
            )
        try:
            payload = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many types for a damaged file
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise BridgeError(
                f"VI-Net file {str(path)!r} could not be read ({type(exc).__name__}: "
                f"{first}); the file is corrupt or not written by VINet.save. Re-create it "
                "with `vinet fit`."
            ) from exc
        if not isinstance(payload, dict) or payload.get("format") != _FORMAT_NAME:
            raise BridgeError(
                f"{str(path)!r} is a torch file but not a VI-Net file (no "
                f"format={_FORMAT_NAME!r} entry); pass a file written by VINet.save."
            )
        version = payload.get("format_version")
        if not isinstance(version, int) or version > FORMAT_VERSION or version < 1:
            raise BridgeError(
                f"VI-Net file {str(path)!r} has format version {version!r}, but this vinet "
                f"reads versions 1 to {FORMAT_VERSION}; upgrade vinet or re-create the file."
            )
        config, state = payload.get("config"), payload.get("state_dict")
        if not isinstance(config, dict) or not isinstance(state, dict):
            raise BridgeError(
                f"VI-Net file {str(path)!r} lacks its config or state_dict; re-create it "
                "with VINet.save."
            )
        try:
            model = cls._from_config(config, state)
            model.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            # load_state_dict's first line is only "Error(s) in loading state_dict": keep
            # the missing / unexpected keys that follow, on one line, shortened.
            first = " ".join(str(exc).split()) or repr(exc)
            first = first if len(first) <= 300 else first[:297] + "..."
            raise BridgeError(
                f"VI-Net file {str(path)!r} does not fit its own configuration "
                f"(arch={config.get('arch')!r}, node={config.get('node')!r}): {first}. "
                "It was written by an incompatible vinet or edited; re-create it."
            ) from exc
        return model.eval()

    @classmethod
    def _from_config(cls, config: dict[str, Any], state: dict[str, torch.Tensor]) -> VINet:
        """An unfitted VINet of the right structure for ``state`` (shapes from ``state``)."""
        arch = config["arch"]
        if arch not in neural.MODELS:
            raise BridgeError(
                f"arch={arch!r} in the file is not a registered architecture "
                f"({sorted(neural.MODELS)}); register it in neural.MODELS before loading."
            )
        full = neural.build_model(arch, **dict(config.get("arch_kwargs") or {}))
        backbone = neural.truncate(full, config["node"])
        preprocess: nn.Module | None = None
        if "preprocess.weight" in state:  # format 2: the folded affine map
            w = state["preprocess.weight"]
            preprocess = nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype).requires_grad_(False)
        elif any(k.startswith("preprocess.") for k in state):  # format 1: PCA and scaling
            steps: OrderedDict[str, nn.Module] = OrderedDict()
            if "preprocess.pca.components_" in state:
                steps["pca"] = neural.PCA(config.get("n_components"))
            if config.get("scaling") is not None:
                steps["scale"] = neural.SCALERS[config["scaling"]]()
            preprocess = nn.Sequential(steps)
        poly: nn.Module | None = None
        if "poly.terms" in state:
            coef = state.get("poly.values", state.get("poly.coef"))
            poly = PolynomialLayer(
                state["poly.terms"],
                int(state["poly.labels"].shape[0]),
                absolute=bool(config.get("absolute", True)),
                dtype=coef.dtype,
            )
        elif "poly.0.weight" in state:  # the MLP head's hidden layer
            w = state["poly.0.weight"]
            poly = nn.Sequential(nn.Linear(w.shape[1], w.shape[0], dtype=w.dtype), nn.ReLU())
        weight = state["head.weight"]
        skip = bool(config.get("skip", False))
        if poly is not None:
            out = poly.out_features if isinstance(poly, PolynomialLayer) else poly[0].out_features
            width = (int(config["latent_width"]) if skip else 0) + out
        elif skip:
            width = int(config["latent_width"])
        else:
            width = int(config.get("n_components_out") or state["preprocess.weight"].shape[0])
        if tuple(weight.shape) != (int(config["n_classes"]), width):
            raise ValueError(
                f"the head's weight has shape {tuple(weight.shape)}, expected "
                f"({config['n_classes']}, {width}) for {config['n_classes']} classes"
            )
        head = nn.Linear(weight.shape[1], int(weight.shape[0]), dtype=weight.dtype)
        return cls(backbone, preprocess, poly, head, pooling=config.get("pooling", "avg"),
                   grid=int(config.get("grid", 2)), skip=bool(config.get("skip", False)),
                   config=config)


def evaluate_model(
    model: nn.Module,
    data: Any,
    *,
    input_shape: tuple[int, ...] | None = None,
    batch_size: int = 256,
    throughput_repeats: int = 10,
) -> dict[str, Any]:
    """Accuracy, parameters (base / prep / poly / head) and CPU throughput of a classifier.

    Every model of a comparison (the full network, VI-Net and the baselines) goes
    through this one function, with :func:`neural.accuracy`,
    :func:`neural.count_parameters` and :func:`neural.throughput`.

    Parameters
    ----------
    model : nn.Module
        A :class:`VINet`, or any classifier (then all its parameters count as ``base``).
    data : tuple (X, y)
        Test images ``(N, *input_shape)`` and labels ``(N,)``.
    input_shape : tuple of int, optional
        One sample's shape for the throughput; default ``X.shape[1:]``.
    batch_size : int, default=256
        Batch of the throughput measurement (images/s at this batch size).
    throughput_repeats : int, default=10
        Timed forward passes; ``0`` skips the throughput (reported as None).

    Returns
    -------
    dict
        ``accuracy`` (in [0, 1]), ``params`` (dict ``total``, ``base``, ``prep``,
        ``poly``, ``head``), ``throughput`` (images/s of the fastest of the timed
        passes) and ``throughput_median``.
    """
    X = data[0]
    shape = tuple(input_shape) if input_shape is not None else tuple(X.shape[1:])
    if isinstance(model, VINet):
        params = model.parameter_counts()
    else:
        total = neural.count_parameters(model).total
        params = {"total": total, "base": total, "prep": 0, "poly": 0, "head": 0}
    acc = neural.accuracy(model, data, batch_size=batch_size)
    report = {"accuracy": acc, "params": params, "throughput": None,
              "throughput_median": None}
    if throughput_repeats:
        speed = neural.throughput(model, shape, batch_size=batch_size,
                                  repeats=throughput_repeats)
        # The fastest repeat is the one least disturbed by other work on the machine, so
        # it ranks models more reproducibly than the median on a shared CPU.
        report["throughput"] = float(speed.max)
        report["throughput_median"] = float(speed.median)
    return report
