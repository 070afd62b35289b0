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

import importlib.util
import os
import warnings
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

__all__ = ["EXPORT_FORMATS", "EXPORT_TOLERANCE", "FORMAT_VERSION", "VINet", "evaluate_model",
           "read_file", "sample_shape"]

#: Version of the file written by :meth:`VINet.save`; :meth:`VINet.load` reads this
#: version and refuses newer ones with a clear message.
FORMAT_VERSION = 2
_FORMAT_NAME = "vinet.VINet"
#: The formats of :meth:`VINet.export`.
EXPORT_FORMATS: tuple[str, ...] = ("pt2", "onnx")
#: How closely an exported model must reproduce the VI-Net's logits, relative to the
#: largest logit (at least 1): float32 rounding grows with the logits' magnitude, and
#: the same model computed in float32 and in float64 already differs by about 1e-5 of it
#: (a random torchvision ResNet-18 with logits up to 11).
EXPORT_TOLERANCE = 1e-4


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
    timings_ : dict
        Seconds of each phase of :func:`~bridge.build_vinet` (``extraction``,
        ``preprocessing``, ``fits`` with ``fits_per_class``, ``pruning``,
        ``fine_tuning``, ``total``); empty for the baselines and a loaded model.

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
        self.timings_: dict[str, Any] = {}

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
        x = self.latents(x)
        if not self.skip or isinstance(self.poly, nn.Identity):
            return self.head(self.head_input(x))
        # head([x, f]) = W_x x + W_f f + b, computed transposed: the polynomial layer's
        # output is (p, N) in memory already, and with few classes this runs several
        # times faster than the head on a concatenated copy (73 against 188 µs for 256
        # samples, D = 256, p = 200, 10 classes, one thread). The same values as
        # head(head_input(x)) up to rounding.
        f = self.poly(self.preprocess(x))
        d = x.shape[1]
        w, b = self.head.weight, self.head.bias
        out = (w[:, :d] @ x.t()).addmm_(w[:, d:], f.t())
        return (out if b is None else out.add_(b[:, None])).t()

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

        stub = isinstance(self.backbone, _NoBackbone)  # loaded with backbone=False
        parts = {"base": self.backbone.n_parameters if stub else count(self.backbone),
                 "prep": count(self.preprocess), "poly": count(self.poly),
                 "head": count(self.head)}
        return {"total": sum(parts.values()) if stub else count(self), **parts}

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
        data : tuple (X, y), Dataset or DataLoader
            Labelled test images ``(N, *input_shape)``, as :func:`evaluate_model` takes
            them.
        batch_size : int, default=256
            Batch of the accuracy pass (a DataLoader keeps its own) and of the
            throughput measurement.
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

        Every VINet can be saved, whatever its backbone's architecture. :meth:`load`
        rebuilds a registered architecture (``config["arch"]`` in
        :data:`neural.MODELS`) by itself; any other needs the full network passed as
        ``model=``.

        Parameters
        ----------
        path : path
            Destination (conventionally ``.pt``). A ``torch.save`` of a dict of plain
            data and tensors, readable with ``weights_only=True``.

        Raises
        ------
        BridgeError
            For a model loaded with ``backbone=False``, which has no backbone to save.
        """
        if isinstance(self.backbone, _NoBackbone):
            raise BridgeError(
                "This VINet was loaded with backbone=False, so it has no backbone to save; "
                "load it with its backbone (VINet.load(path) or VINet.load(path, model=...)) "
                "to save it."
            )
        payload = {
            "format": _FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "config": self.config,
            # Read by load(backbone=False), which does not rebuild the backbone.
            "parameter_counts": self.parameter_counts(),
            "state_dict": {k: v.detach().cpu() for k, v in self.state_dict().items()},
        }
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(payload, path)

    def export(self, path: str | os.PathLike[str], *, format: str | None = None,
               check: bool = True) -> Path:
        """Write the model as a self-contained file that runs without vinet.

        Parameters
        ----------
        path : path
            Destination; its suffix (``.pt2`` or ``.onnx``) chooses the format unless
            ``format`` is given.
        format : {"pt2", "onnx"}, optional
            ``"pt2"``: a :func:`torch.export.export` program saved by
            :func:`torch.export.save`; run it with torch alone,
            ``torch.export.load(path).module()(images)``. ``"onnx"``: an ONNX model
            (torch's dynamo exporter; needs the ``onnx`` and ``onnxscript`` packages)
            for onnxruntime and other ONNX runtimes, with one input ``x`` and one output.
        check : bool, default=True
            Run the written file on random images (the ``.pt2`` with torch, the ONNX
            model with onnxruntime when it is installed) and compare its logits with the
            model's: they must agree to :data:`EXPORT_TOLERANCE` times the largest logit
            (at least 1).

        Returns
        -------
        pathlib.Path
            The file written. Both formats take float32 images ``(N, *input_shape)``
            with any batch size ``N`` and return the ``(N, n_classes)`` logits.

        Raises
        ------
        BridgeError
            For an unknown format, a model loaded without its backbone or of unknown
            input shape, missing ONNX packages, a network ``torch.export`` cannot
            capture (the message gives torch's reason), or a failed check.
        """
        path = Path(path)
        fmt = format if format is not None else path.suffix.lstrip(".").lower()
        if fmt not in EXPORT_FORMATS:
            raise BridgeError(
                f"format={fmt!r} is not one of {EXPORT_FORMATS}; pass format= or a path "
                "ending in .pt2 or .onnx."
            )
        shape = self.config.get("input_shape")
        if isinstance(self.backbone, _NoBackbone) or not shape:
            raise BridgeError(
                "This VINet has no backbone or no recorded input shape, so it cannot be "
                "exported; load it with its backbone from a file written by VINet.save."
            )
        if fmt == "onnx":
            for package in ("onnx", "onnxscript"):
                if importlib.util.find_spec(package) is None:
                    raise BridgeError(
                        f"format='onnx' needs the {package} package, which is not installed; "
                        "pip install onnx onnxscript (or vinet[onnx])."
                    )
        was = self.training
        self.eval()
        # A batch of 2: torch.export specialises sizes 0 and 1, so the batch size of the
        # example is kept symbolic only from 2 on.
        weight = self.head.weight
        example = (torch.zeros(2, *shape, dtype=weight.dtype, device=weight.device),)
        batch = torch.export.Dim("batch")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with warnings.catch_warnings():  # deprecation notices from torch's internals
                warnings.simplefilter("ignore", FutureWarning)
                warnings.simplefilter("ignore", DeprecationWarning)
                if fmt == "pt2":
                    program = torch.export.export(self, example, dynamic_shapes=({0: batch},))
                    torch.export.save(program, path)
                else:
                    torch.onnx.export(self, example, path, dynamo=True, input_names=["x"],
                                      output_names=["logits"],
                                      dynamic_shapes=({0: batch},), verbose=False)
        except Exception as exc:  # torch.export raises many kinds, all with a reason
            if isinstance(exc, BridgeError):
                raise
            first = " ".join(str(exc).split())[:400]
            raise BridgeError(
                f"torch could not export this VINet as {fmt} ({type(exc).__name__}: {first}); "
                "the backbone's forward must be capturable by torch.export (no Python "
                "control flow on tensor values)."
            ) from exc
        finally:
            self.train(was)
        if check:
            self._check_export(path, fmt, shape)
        return path

    def _check_export(self, path: Path, fmt: str, shape: list[int]) -> None:
        """Compare the exported file's logits with the model's on three random images."""
        device = self.head.weight.device
        x = torch.rand(3, *shape, generator=torch.Generator().manual_seed(0)).to(device)
        with torch.no_grad():
            expected = self.eval()(x)
            if fmt == "pt2":
                got = torch.export.load(path).module()(x)
            elif importlib.util.find_spec("onnxruntime") is not None:
                import onnxruntime

                session = onnxruntime.InferenceSession(str(path),
                                                       providers=["CPUExecutionProvider"])
                got = torch.from_numpy(session.run(None, {"x": x.cpu().numpy()})[0]).to(device)
            else:
                return
        error = float((got - expected).abs().max())
        bound = EXPORT_TOLERANCE * max(1.0, float(expected.abs().max()))
        if not error <= bound:
            raise BridgeError(
                f"The exported {str(path)!r} gives logits up to {error:.3g} away from the "
                f"VI-Net's (more than {bound:.3g}); the export is wrong, please report it."
            )

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        model: nn.Module | None = None,
        *,
        backbone: bool = True,
    ) -> VINet:
        """Read a model written by :meth:`save`.

        Parameters
        ----------
        path : path
            A file written by :meth:`save` (or ``vinet fit --out``).
        model : nn.Module, optional
            The full network the VI-Net was built from, or any network of the same
            architecture: it is cut at the saved node and its weights are replaced by
            the file's (``model`` itself is left unchanged). Needed when the file's
            architecture is not registered in :data:`neural.MODELS` (a torchvision
            model, your own); without it a registered one is rebuilt.
        backbone : bool, default=True
            ``False`` skips the backbone (for files written by this version of vinet):
            the configuration, preprocessing, polynomial layer, head and
            :meth:`parameter_counts` are there, but the model cannot run or be saved.
            For reading the generators without the network at hand (``vinet inspect``).

        Returns
        -------
        VINet
            In eval mode on the CPU; its outputs equal the saved model's exactly. The
            backbone's parameters are trainable only if the model was built with
            ``freeze_backbone=False``, as when it was saved.

        Raises
        ------
        BridgeError
            If the file is missing, unreadable (corrupt or not a torch file), not a
            VI-Net file, of a newer format version, or its state does not fit the
            configured architecture; if its architecture is not registered and no
            ``model`` is given.
        """
        payload = read_file(path)
        config, state = payload["config"], payload["state_dict"]
        if model is not None and not isinstance(model, nn.Module):
            raise BridgeError(
                f"model must be a torch.nn.Module (the full network), got "
                f"{type(model).__name__}."
            )
        counts = payload.get("parameter_counts")
        try:
            if not backbone and isinstance(counts, dict) and "base" in counts:
                net = cls._from_config(config, state, _NoBackbone(int(counts["base"])))
                net.load_state_dict({k: v for k, v in state.items()
                                     if not k.startswith("backbone.")}, strict=False)
                return net.eval()
            net = cls._from_config(config, state, _backbone(path, config, model))
            net.load_state_dict(state)
        except (RuntimeError, KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, BridgeError):
                raise
            # load_state_dict's first line is only "Error(s) in loading state_dict": keep
            # the missing / unexpected keys that follow, on one line, shortened.
            first = " ".join(str(exc).split()) or repr(exc)
            first = first if len(first) <= 300 else first[:297] + "..."
            source = "the model passed" if model is not None else f"arch={config.get('arch')!r}"
            raise BridgeError(
                f"VI-Net file {str(path)!r} does not fit its own configuration "
                f"({source}, node={config.get('node')!r}): {first}. Pass the network it was "
                "built from, or re-create the file."
            ) from exc
        # A state_dict holds no requires_grad: restore the builder's choice (format-1 files
        # kept the settings at the top of the config).
        freeze = dict(config.get("settings") or config).get("freeze_backbone", True)
        for p in net.backbone.parameters():
            p.requires_grad_(not freeze)
        return net.eval()

    @classmethod
    def _from_config(cls, config: dict[str, Any], state: dict[str, torch.Tensor],
                     backbone: nn.Module) -> VINet:
        """An unfitted VINet of the right structure for ``state`` (shapes from ``state``)."""
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


class _NoBackbone(nn.Module):
    """The backbone of a VINet loaded with ``backbone=False``: its size, and nothing to run."""

    def __init__(self, n_parameters: int) -> None:
        super().__init__()
        self.n_parameters = n_parameters

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise BridgeError(
            "This VINet was loaded with backbone=False and cannot run; load it with its "
            "backbone: VINet.load(path), or VINet.load(path, model=network)."
        )

    def extra_repr(self) -> str:
        return f"not loaded ({self.n_parameters:,} parameters)"


def read_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The checked contents of a VI-Net file: format, version, config and state.

    Parameters
    ----------
    path : path
        A file written by :meth:`VINet.save`.

    Returns
    -------
    dict
        ``format``, ``format_version``, ``config``, ``state_dict`` and (from files of
        this version) ``parameter_counts``.
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
    if not isinstance(payload.get("config"), dict) or not isinstance(
            payload.get("state_dict"), dict):
        raise BridgeError(
            f"VI-Net file {str(path)!r} lacks its config or state_dict; re-create it "
            "with VINet.save."
        )
    return payload


def _backbone(path: str | os.PathLike[str], config: dict[str, Any],
              model: nn.Module | None) -> nn.Module:
    """The saved cut of ``model``, or of the registered architecture the file names."""
    if config.get("node") is None and config.get("arch") is None:
        return nn.Identity()  # a VI-Net of pooled latents (build_vinet_from_shards, no model)
    arch = config.get("arch")
    if model is None:
        if arch not in neural.MODELS:
            built = ("a network of unknown architecture (arch=None)" if arch is None
                     else f"arch={arch!r}, which is not a registered architecture "
                          f"({sorted(neural.MODELS)})")
            factory = (f" (e.g. {arch.replace(':', '.')}(**{config.get('arch_kwargs') or {}}))"
                       if isinstance(arch, str) and ":" in arch else "")
            raise BridgeError(
                f"VI-Net file {str(path)!r} was built on {built}, so load() cannot rebuild "
                f"its backbone: pass model=, the full network{factory}, whose weights are "
                "replaced by the file's (on the command line: --arch "
                f"{arch if isinstance(arch, str) and ':' in arch else 'package.module:factory'})."
            )
        model = neural.build_model(arch, **dict(config.get("arch_kwargs") or {}))
    shape = config.get("input_shape")
    example = torch.zeros(1, *shape) if shape else None
    try:
        with warnings.catch_warnings():  # the builder warned about an untraceable model
            warnings.simplefilter("ignore", UserWarning)
            return neural.truncate(model, config["node"], example_input=example)
    except neural.NeuralError as exc:
        raise BridgeError(
            f"VI-Net file {str(path)!r} is cut at node={config.get('node')!r}, which the "
            f"network cannot be cut at: {exc}"
        ) from exc


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
    data : tuple (X, y), Dataset or DataLoader
        Labelled test images ``(N, *input_shape)``, as for :func:`neural.extract_latents`:
        a pair of tensors or arrays, or a torch ``Dataset`` or ``DataLoader`` whose items
        are ``(image, label)`` pairs.
    input_shape : tuple of int, optional
        One sample's shape for the throughput; default: the shape of the first sample
        of ``data``.
    batch_size : int, default=256
        Batch of the accuracy pass (a DataLoader keeps its own) and of the throughput
        measurement (images/s at this batch size).
    throughput_repeats : int, default=10
        Timed forward passes; ``0`` skips the throughput (reported as None).

    Returns
    -------
    dict
        ``accuracy`` (in [0, 1]), ``params`` (dict ``total``, ``base``, ``prep``,
        ``poly``, ``head``), ``throughput`` (images/s of the fastest of the timed
        passes) and ``throughput_median``.

    Raises
    ------
    BridgeError
        If ``data`` is not labelled data of a supported kind, or its images do not
        have the shape a :class:`VINet` was fitted on.
    """
    shape = tuple(input_shape) if input_shape is not None else sample_shape(data)
    if isinstance(model, VINet):
        expected = model.config.get("input_shape")
        if expected and input_shape is None and shape != tuple(expected):
            raise BridgeError(
                f"The images of data have shape {shape} but this VINet was fitted on "
                f"{tuple(expected)}; pass data of the kind the model was fitted on."
            )
        params = model.parameter_counts()
    else:
        total = neural.count_parameters(model).total
        params = {"total": total, "base": total, "prep": 0, "poly": 0, "head": 0}
    try:
        acc = neural.accuracy(model, data, batch_size=batch_size)
    except neural.NeuralError as exc:
        raise BridgeError(str(exc)) from exc
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


def sample_shape(data: Any) -> tuple[int, ...]:
    """The shape of one input sample of ``data`` (a pair, tensor, Dataset or DataLoader).

    Parameters
    ----------
    data : tuple (X, y), tensor, ndarray, Dataset or DataLoader
        As :func:`neural.extract_latents` takes it.

    Returns
    -------
    tuple of int
        ``X.shape[1:]``, or the shape of the first item's image.
    """
    from torch.utils.data import DataLoader, Dataset

    if isinstance(data, DataLoader):
        data = data.dataset
    if isinstance(data, Dataset) and hasattr(data, "__len__"):
        if len(data) == 0:
            raise BridgeError("data is an empty Dataset; pass at least one sample.")
        item = data[0]
        x = item[0] if isinstance(item, (tuple, list)) else item
        return tuple(torch.as_tensor(x).shape)
    X = data[0] if isinstance(data, (tuple, list)) and len(data) == 2 else data
    if not hasattr(X, "shape") or len(X.shape) < 2:
        raise BridgeError(
            f"data must be (X, y) with images X of shape (N, ...), a Dataset or a DataLoader, "
            f"got {type(data).__name__}."
        )
    return tuple(X.shape[1:])
