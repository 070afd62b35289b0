"""``VINetConfig``: VI-Net's settings in one frozen dataclass, the one source of defaults.

:func:`bridge.build_vinet`, the baselines (:func:`bridge.linear_probe`,
:func:`bridge.random_monomial_baseline`, :func:`bridge.mlp_head_baseline`), the
``vinet fit`` and ``vinet demo`` flags and the demo all read their defaults from
:class:`VINetConfig`, and a built model stores its configuration in its file. The
defaults were chosen on validation splits of the evaluation suite
(``benchmarks/vinet_suite.py``, ``docs/benchmarks.md``); the paper's own settings
(Pelleriti, Zimmer, Wirth, Pokutta, ICML 2025, arXiv 2502.15051) are
``VINetConfig.paper()``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, fields
from typing import Any

import neural
from bridge._errors import BridgeError

__all__ = ["VINetConfig", "resolve_config"]

def _is_int(value: Any, low: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


@dataclass(frozen=True)
class VINetConfig:
    """The settings of a VI-Net: latents, generators, head and training recipe.

    Parameters
    ----------
    pooling : {"grid", "avg", "max", "flatten"}, default="grid"
        How the activations at the cut become one vector per sample
        (:func:`neural.pool`): ``"grid"`` averages over ``grid`` cells per spatial
        dimension (2x2 for images), keeping a coarse layout; ``"avg"``/``"max"`` over
        the whole map.
    grid : int, default=2
        Cells per spatial dimension of ``pooling="grid"``.
    n_components : int or None, default=16
        PCA dimension ``k`` of the latents the generators are fitted on; ``None``: no PCA.
    scaling : {"minmax", "tanh", "standard"} or None, default="minmax"
        Scaling after the PCA (``"minmax"``: onto ``[-1, 1]``, OAVI's setting).
    method : {"oavi", "abm"}, default="oavi"
        Generator algorithm.
    psi : float, default=0.01
        Vanishing tolerance: mean of ``g(z)²`` over the class's samples ``<= psi``.
    max_degree : int, default=2
        Largest degree of a generator.
    max_samples : int or None, default=500
        Each class's generators are fitted on at most this many of its samples, drawn
        at random (the paper's per-class subsampling); ``None``: all.
    keep : int, float or None, default=20
        Generators kept per class by discriminative score (a count, a fraction, or all).
    max_generators : int or None, default=2048
        At most this many generators in all: with ``K`` classes each keeps at most
        ``max(1, max_generators // K)`` (its best by the same score). The head has
        ``(D + kept) × K`` weights, so a per-class count alone makes it, and each
        fine-tuning step, grow like ``K²`` (20 per class at 1,000 classes is a 20 M
        weight head, more than a whole ResNet-18); the cap keeps both linear in ``K``.
        It binds only beyond ``2048 / keep`` classes (102 at ``keep=20``). ``None``: no
        cap.
    skip : bool, default=True
        The head sees the pooled latents (standardised) beside ``|G(z)|``, so the
        polynomial features add to the linear read-out instead of replacing it.
    warm_start : bool, default=True
        With ``skip``: the head starts at the linear read-out of the pooled latents
        (fitted alone by L-BFGS) with the weights of the polynomial features at zero,
        so fine-tuning starts from the linear head's solution and the features enter
        only as far as they lower the loss. ``False``: L-BFGS on all the head's inputs.
    holdout : float, default=0.0
        Share of the training samples held out (stratified, drawn from the build's
        ``random_state``) to choose the fine-tuning epoch (early stopping): the tail
        after the head's initialisation and after each epoch is scored on them
        (accuracy, ties broken by cross-entropy) and the best is kept; everything else
        is fitted on the rest. ``0`` (the default: in the evaluation suite the samples
        held out cost VI-Net more than the choice of epoch gained), or too few samples
        to hold out one per class: all samples are fitted and the last epoch kept.
    distill : float, default=0.5
        Weight ``a`` of the distillation term: the fine-tuning loss is
        ``(1 - a) CE + a T² KL(softmax(teacher / T) || softmax(student / T))`` with the
        full network's logits as the teacher (Hinton et al. 2015); ``0``: plain CE.
    temperature : float, default=4.0
        The distillation temperature ``T``.
    epochs : int, default=10
        Fine-tuning epochs of the coefficients and the head (``0``: head only).
    lr : float, default=1e-2
        Adam learning rate (cosine decay over the epochs).
    batch_size : int, default=256
        Mini-batch size of the fine-tuning.
    weight_decay : float, default=0.0
        Adam's L2 weight decay during fine-tuning.
    freeze_backbone : bool, default=True
        Keep the backbone fixed (fine-tuning then runs on cached latents).

    Notes
    -----
    Frozen: derive a variant with :meth:`replace`. :meth:`to_dict` / :meth:`from_dict`
    give the plain-data form stored in a model file.
    """

    pooling: str = "grid"
    grid: int = 2
    n_components: int | None = 16
    scaling: str | None = "minmax"
    method: str = "oavi"
    psi: float = 0.01
    max_degree: int = 2
    max_samples: int | None = 500
    keep: int | float | None = 20
    max_generators: int | None = 2048
    skip: bool = True
    warm_start: bool = True
    holdout: float = 0.0
    distill: float = 0.5
    temperature: float = 4.0
    epochs: int = 10
    lr: float = 1e-2
    batch_size: int = 256
    weight_decay: float = 0.0
    freeze_backbone: bool = True

    def __post_init__(self) -> None:
        poolings = tuple(neural.POOLINGS)
        # The paper's polynomial layer and its comparison are classifications of pooled
        # latents; every check below names the setting, the bad value and the fix.
        if self.pooling not in poolings:
            raise BridgeError(f"pooling={self.pooling!r} is not one of {poolings}; pass one "
                              "of them.")
        if not _is_int(self.grid, 1):
            raise BridgeError(f"grid={self.grid!r} must be an integer >= 1 (cells per spatial "
                              "dimension); pass e.g. 2.")
        if self.n_components is not None and not _is_int(self.n_components, 1):
            raise BridgeError(
                f"n_components={self.n_components!r} must be a positive integer (the PCA "
                "dimension) or None to skip the PCA."
            )
        if self.scaling not in neural.SCALINGS:
            raise BridgeError(f"scaling={self.scaling!r} is not one of {neural.SCALINGS}; pass "
                              "one of them.")
        if self.method not in ("oavi", "abm"):
            raise BridgeError(f"method={self.method!r} is not one of ('oavi', 'abm'); pass one "
                              "of them.")
        if not isinstance(self.psi, (int, float)) or isinstance(self.psi, bool) or not self.psi > 0:
            raise BridgeError(f"psi={self.psi!r} must be a positive number; pass e.g. 0.01.")
        if not _is_int(self.max_degree, 1):
            raise BridgeError(f"max_degree={self.max_degree!r} must be an integer >= 1; pass "
                              "e.g. 2.")
        if self.max_samples is not None and not _is_int(self.max_samples, 1):
            raise BridgeError(f"max_samples={self.max_samples!r} must be a positive integer or "
                              "None (all samples).")
        keep = self.keep
        if keep is not None and not (_is_int(keep, 1) or (
                isinstance(keep, float) and 0 < keep <= 1)):
            raise BridgeError(f"keep={keep!r} must be a positive integer (generators per class), "
                              "a fraction in (0, 1], or None (all).")
        if self.max_generators is not None and not _is_int(self.max_generators, 1):
            raise BridgeError(f"max_generators={self.max_generators!r} must be a positive "
                              "integer (generators kept over all classes) or None (no cap).")
        if not isinstance(self.skip, bool):
            raise BridgeError(f"skip={self.skip!r} must be True or False.")
        if not isinstance(self.warm_start, bool):
            raise BridgeError(f"warm_start={self.warm_start!r} must be True or False.")
        if (not isinstance(self.holdout, (int, float)) or isinstance(self.holdout, bool)
                or not 0 <= self.holdout < 1):
            raise BridgeError(f"holdout={self.holdout!r} must be a number in [0, 1) (the share "
                              "of the training samples that chooses the epoch); pass 0 to "
                              "keep the last epoch.")
        if not isinstance(self.distill, (int, float)) or not 0 <= self.distill <= 1:
            raise BridgeError(f"distill={self.distill!r} must be a number in [0, 1] (the weight "
                              "of the distillation term); pass 0 to train on labels only.")
        if not isinstance(self.temperature, (int, float)) or not self.temperature > 0:
            raise BridgeError(f"temperature={self.temperature!r} must be a positive number; "
                              "pass e.g. 4.")
        if not _is_int(self.epochs, 0):
            raise BridgeError(f"epochs={self.epochs!r} must be an integer >= 0; pass e.g. 10.")
        if not isinstance(self.lr, (int, float)) or isinstance(self.lr, bool) or not self.lr > 0:
            raise BridgeError(f"lr={self.lr!r} must be a positive number; pass e.g. 1e-2.")
        if not _is_int(self.batch_size, 1):
            raise BridgeError(f"batch_size={self.batch_size!r} must be a positive integer; pass "
                              "e.g. 256.")
        if not isinstance(self.weight_decay, (int, float)) or self.weight_decay < 0:
            raise BridgeError(f"weight_decay={self.weight_decay!r} must be a number >= 0.")
        if not isinstance(self.freeze_backbone, bool):
            raise BridgeError(f"freeze_backbone={self.freeze_backbone!r} must be True or False.")

    def replace(self, **changes: Any) -> VINetConfig:
        """A copy with some fields changed (validated).

        Parameters
        ----------
        **changes
            New values of fields, by name.

        Returns
        -------
        VINetConfig

        Raises
        ------
        BridgeError
            For a name that is not a field, or an invalid value.
        """
        names = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - names)
        if unknown:
            raise BridgeError(
                f"{unknown} {'is not a setting' if len(unknown) == 1 else 'are not settings'} "
                f"of VI-Net; the settings are {sorted(names)}."
            )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """The settings as a plain dict (stored in a model file)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> VINetConfig:
        """Settings from :meth:`to_dict`'s output.

        Parameters
        ----------
        values : dict
            Field names to values; missing fields take the defaults, unknown ones are
            ignored (files written by other versions).

        Returns
        -------
        VINetConfig
        """
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in values.items() if k in names})

    @classmethod
    def paper(cls) -> VINetConfig:
        """The paper's recipe: global average pooling, all generators, the head on
        ``|G(z)|`` alone, cross-entropy only, 20 epochs of batches of 128, the last
        epoch kept."""
        return cls(pooling="avg", max_samples=None, keep=None, max_generators=None, skip=False,
                   warm_start=False, holdout=0.0, distill=0.0, epochs=20, batch_size=128)


def resolve_config(config: VINetConfig | None, settings: dict[str, Any]) -> VINetConfig:
    """``config`` (default: :class:`VINetConfig`) with the keyword ``settings`` applied.

    Raises
    ------
    BridgeError
        If ``config`` is not a :class:`VINetConfig` (or None), or a setting is unknown
        or invalid.
    """
    if config is None:
        config = VINetConfig()
    if not isinstance(config, VINetConfig):
        hint = (" (the automatic mode is bridge.tune_vinet: pass the configuration it "
                "returns)") if config == "auto" else ""
        raise BridgeError(
            f"config must be a VINetConfig or None (the defaults), got {config!r}{hint}; "
            "build one with bridge.VINetConfig(psi=..., ...)."
        )
    return config.replace(**settings) if settings else config


#: Keywords of the generator algorithms that :class:`VINetConfig` sets itself (one
#: source for each; ``random_state`` is the build's, per class).
_CONFIG_FIT_KEYS = ("psi", "max_degree", "max_samples", "random_state")


def check_fit_kwargs(config: VINetConfig, fit_kwargs: dict[str, Any] | None) -> dict[str, Any]:
    """``fit_kwargs`` checked against ``config.method``'s parameters, before any work.

    Raises
    ------
    BridgeError
        If ``fit_kwargs`` is not a dict, names a parameter the method does not take,
        or one that :class:`VINetConfig` (or ``random_state``) sets.
    """
    if fit_kwargs is None:
        return {}
    if not isinstance(fit_kwargs, dict):
        raise BridgeError(f"fit_kwargs must be a dict of keyword arguments of fit_"
                          f"{config.method}, got {type(fit_kwargs).__name__}.")
    owned = sorted(set(fit_kwargs) & set(_CONFIG_FIT_KEYS))
    if owned:
        raise BridgeError(
            f"fit_kwargs sets {', '.join(map(repr, owned))}, which the build sets itself; "
            "pass psi, max_degree and max_samples as settings (build_vinet(..., psi=0.02)) "
            "and random_state as the build's own argument."
        )
    import algebra  # here, not at the top: the CLI reads this module for --help

    allowed = algebra.method_parameters(config.method)
    unknown = sorted(set(fit_kwargs) - set(allowed))
    if unknown:
        raise BridgeError(
            f"fit_kwargs has {', '.join(map(repr, unknown))}, which fit_{config.method} does "
            f"not take; it takes {', '.join(k for k in allowed if k not in _CONFIG_FIT_KEYS)}."
        )
    return dict(fit_kwargs)
