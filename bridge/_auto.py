"""The automatic mode: VI-Net's settings chosen on a validation split of the training data.

:func:`tune_vinet` holds out a stratified share of the *training* data, builds VI-Nets
on the rest with candidate settings and scores each by its accuracy on the held-out
part; it never sees test data (it takes none). The search is greedy, one setting at a
time in the order of :data:`SEARCH_SPACE` (the settings that moved validation accuracy
most in the evaluation suite first), starting from the defaults: a candidate replaces
the current best only if it is better by more than ``min_gain``, so that noise on a
small validation split does not move the choice off the defaults. It stops when the
time budget is spent; the latents of each pooling are extracted once.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from sklearn.model_selection import train_test_split
from torch import nn

import neural
from bridge._build import Cut, as_data, fit_vinet, prepare_cut
from bridge._config import VINetConfig, resolve_config
from bridge._errors import BridgeError

__all__ = ["SEARCH_SPACE", "tune_vinet"]

#: The values :func:`tune_vinet` tries for each setting, in the order tried (the first
#: value of each is only a fallback: the search starts from the given configuration).
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "pooling": ("grid", "avg"),
    "n_components": (16, 8, 32),
    "keep": (20, 10, 40),
    "psi": (0.01, 0.003, 0.03),
    "distill": (0.5, 0.0),
    "max_degree": (2, 3),
}


def _val_accuracy(net: Any, x: torch.Tensor, y: torch.Tensor) -> float:
    with torch.no_grad():
        logits = torch.cat([net.head(net.head_input(x[i:i + 4096]))
                            for i in range(0, x.shape[0], 4096)])
    return float((logits.argmax(dim=1) == y).float().mean())


def tune_vinet(
    model: nn.Module,
    node: str,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    time_budget: float = 120.0,
    val_fraction: float = 0.2,
    min_gain: float | None = None,
    n_jobs: int | None = 1,
    progress: bool | None = None,
    random_state: int = 0,
    fit_kwargs: dict[str, Any] | None = None,
    **settings: Any,
) -> tuple[VINetConfig, list[dict[str, Any]]]:
    """Choose VI-Net's settings on a validation split of the training data.

    Parameters
    ----------
    model : nn.Module
        The pretrained classifier (as in :func:`build_vinet`).
    node : str
        The cut.
    train_data : tuple (X, y), Dataset or DataLoader
        Training images and labels (a Dataset or DataLoader is read into memory once);
        a stratified ``val_fraction`` of them is held out to score the candidates. No
        other data is read.
    config : VINetConfig, optional
        Where the search starts (default: the defaults); ``settings`` override fields.
    time_budget : float, default=120.0
        Seconds for the search (no candidate starts once they are spent, nor one that
        the last candidate's duration says would overrun them).
    val_fraction : float, default=0.2
        Share of ``train_data`` held out, in ``(0, 1)``.
    min_gain : float, optional
        Validation accuracy (in ``[0, 1]``) a candidate must gain over the current best
        to replace it; default: one held-out sample's worth.
    n_jobs, progress, random_state, fit_kwargs, **settings
        As in :func:`build_vinet`.

    Returns
    -------
    config : VINetConfig
        The chosen settings.
    trials : list of dict
        One per candidate tried, in order: ``settings`` (the changed fields),
        ``val_accuracy`` (None if it failed), ``seconds``, ``chosen`` (whether it became
        the current best) and ``error`` (the message of a failed build).

    Raises
    ------
    BridgeError
        For a bad ``time_budget``, ``val_fraction`` or ``min_gain``, a class with fewer
        than two samples, or when the starting configuration itself cannot be built.
    """
    start = time.perf_counter()
    base = resolve_config(config, settings)
    if not isinstance(time_budget, (int, float)) or not time_budget > 0:
        raise BridgeError(f"time_budget={time_budget!r} must be a positive number of seconds; "
                          "pass e.g. 120.")
    if not isinstance(val_fraction, float) or not 0 < val_fraction < 1:
        raise BridgeError(f"val_fraction={val_fraction!r} must be a float in (0, 1); pass "
                          "e.g. 0.2.")
    X, y = as_data(train_data)
    counts = np.bincount(y.numpy())
    if counts[counts > 0].min() < 2:
        raise BridgeError(
            "train_data has a class with a single sample, which cannot be split into a fit "
            "and a validation part; pass more samples or a configuration without 'auto'."
        )
    fit_idx, val_idx = train_test_split(np.arange(len(y)), test_size=val_fraction,
                                        random_state=random_state, stratify=y.numpy())
    fit_idx, val_idx = torch.as_tensor(fit_idx), torch.as_tensor(val_idx)
    if min_gain is None:
        min_gain = 1.0 / len(val_idx)
    if not isinstance(min_gain, (int, float)) or min_gain < 0:
        raise BridgeError(f"min_gain={min_gain!r} must be a number >= 0 (a validation "
                          "accuracy in [0, 1]).")
    teacher = None
    if base.distill > 0 or any(v > 0 for v in SEARCH_SPACE["distill"]):
        logits, _ = neural.extract_latents(model, X, pooling="flatten", progress=False)
        teacher = torch.as_tensor(logits).float()
    cuts: dict[tuple[str, int], tuple[Cut, torch.Tensor]] = {}

    def score(candidate: VINetConfig) -> float:
        key = (candidate.pooling, candidate.grid)
        if key not in cuts:
            cut = prepare_cut(model, node, (X[fit_idx], y[fit_idx]), candidate, arch=None,
                              arch_kwargs=None, progress=False,
                              teacher=None if teacher is None else teacher[fit_idx])
            with torch.no_grad():
                x_val = torch.cat([cut.pool(cut.backbone(X[val_idx][i:i + 1024]))
                                   for i in range(0, len(val_idx), 1024)])
            cuts[key] = (cut, x_val)
        cut, x_val = cuts[key]
        net = fit_vinet(cut, candidate, n_jobs=n_jobs, random_state=random_state,
                        progress=False, fit_kwargs=fit_kwargs or {})
        return _val_accuracy(net, x_val, y[val_idx])

    trials: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    best, best_score = base, score(base)
    last = time.perf_counter() - t0
    trials.append({"settings": {}, "val_accuracy": best_score, "seconds": round(last, 2),
                   "chosen": True, "error": None})
    bar = neural.progress_bar(desc="auto", unit="candidate", progress=progress, leave=False)
    for name, values in SEARCH_SPACE.items():
        for value in values:
            if getattr(best, name) == value:
                continue
            elapsed = time.perf_counter() - start
            if elapsed + last > time_budget:
                break
            candidate = best.replace(**{name: value})
            changed = {k: v for k, v in candidate.to_dict().items()
                       if base.to_dict()[k] != v}
            t0 = time.perf_counter()
            try:
                acc: float | None = score(candidate)
                error = None
            except BridgeError as exc:  # e.g. no generator at this psi: skip it
                acc, error = None, str(exc)
            last = time.perf_counter() - t0
            chosen = acc is not None and acc > best_score + min_gain
            if chosen:
                best, best_score = candidate, acc
            trials.append({"settings": changed, "val_accuracy": acc,
                           "seconds": round(last, 2), "chosen": chosen, "error": error})
            bar.update()
    bar.close()
    return best, trials
