"""The automatic mode: VI-Net's settings chosen on a validation split of the training data.

:func:`tune_vinet` holds out a stratified share of the *training* data, builds VI-Nets
on the rest with candidate settings and scores each by its accuracy on the held-out
part; it never sees test data (it takes none). The search is greedy, one setting at a
time in the order of :data:`SEARCH_SPACE` (first the warm start, whose better value
differed between the evaluation suite's pairs on validation data, then the settings
that moved validation accuracy most there), starting from the defaults, which are
always the first candidate. Another replaces the current best only if it wins a
one-sided exact sign test (McNemar's test: of the held-out samples the two classify
differently, the candidate must get significantly more right) at level ``alpha``
divided by the number of candidates (Bonferroni), so that a lucky draw on the
validation split, among the many candidates tried, does not move the choice off the
defaults: when no candidate is better, the mode keeps the defaults with probability at
least ``1 - alpha``. It stops when the time budget is spent; the latents of each
pooling are extracted once.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch
from scipy.stats import binom
from sklearn.model_selection import train_test_split
from torch import nn

import neural
from bridge._build import Cut, as_data, fit_vinet, prepare_cut
from bridge._config import VINetConfig, resolve_config
from bridge._errors import BridgeError

__all__ = ["SEARCH_SPACE", "paired_gain", "sign_test", "tune_vinet"]

#: The values :func:`tune_vinet` tries for each setting, in the order tried (the first
#: value of each is only a fallback: the search starts from the given configuration).
SEARCH_SPACE: dict[str, tuple[Any, ...]] = {
    "warm_start": (True, False),
    "pooling": ("grid", "avg"),
    "n_components": (16, 8, 32),
    "keep": (20, 10, 40),
    "psi": (0.01, 0.003, 0.03),
    "distill": (0.5, 0.0),
    "max_degree": (2, 3),
}


def _val_correct(net: Any, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """Whether ``net`` classifies each held-out sample correctly (from its latents)."""
    with torch.no_grad():
        logits = torch.cat([net.head(net.head_input(x[i:i + 4096]))
                            for i in range(0, x.shape[0], 4096)])
    return (logits.argmax(dim=1) == y).numpy()


def paired_gain(new: np.ndarray, old: np.ndarray) -> tuple[float, float]:
    """Mean and standard error of ``new - old`` over the same samples (0/1 outcomes).

    Parameters
    ----------
    new, old : ndarray of bool, shape (n,)
        Per sample, whether each model is correct.

    Returns
    -------
    gain : float
        The difference of the accuracies.
    sem : float
        Its standard error, ``std(new - old) / sqrt(n)`` (0 for one sample).
    """
    d = new.astype(np.float64) - old.astype(np.float64)
    sem = float(d.std(ddof=1) / np.sqrt(d.size)) if d.size > 1 else 0.0
    return float(d.mean()), sem


def sign_test(new: np.ndarray, old: np.ndarray) -> float:
    """One-sided p-value that ``new`` is the more accurate (exact McNemar / sign test).

    Only the samples the two classify differently carry information: under the null
    hypothesis (equally accurate) each of those ``n`` is won by ``new`` with probability
    1/2, so the p-value is ``P(Binomial(n, 1/2) >= wins)``. Exact for the handful of
    disagreements two good models have, where a normal approximation (two standard
    errors) is not.

    Parameters
    ----------
    new, old : ndarray of bool, shape (n,)
        Per sample, whether each model is correct.

    Returns
    -------
    float
        In ``(0, 1]``; 1 when they never disagree.
    """
    wins = int(np.sum(new & ~old))
    losses = int(np.sum(old & ~new))
    if wins + losses == 0:
        return 1.0
    return float(binom.sf(wins - 1, wins + losses, 0.5))


def tune_vinet(
    model: nn.Module,
    node: str,
    train_data: Any,
    config: VINetConfig | None = None,
    *,
    time_budget: float = 120.0,
    val_fraction: float = 0.2,
    alpha: float = 0.05,
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
    alpha : float, default=0.05
        A candidate replaces the current best only if :func:`sign_test` gives it a
        p-value below ``alpha / m``, ``m`` the number of candidate values in
        :data:`SEARCH_SPACE`: the chance of leaving equally good defaults.
    n_jobs, progress, random_state, fit_kwargs, **settings
        As in :func:`build_vinet`.

    Returns
    -------
    config : VINetConfig
        The chosen settings.
    trials : list of dict
        One per candidate tried, in order: ``settings`` (the changed fields),
        ``val_accuracy`` (None if it failed), ``gain``, ``sem`` and ``p_value``
        (against the best at the time: :func:`paired_gain` and :func:`sign_test`; None
        for the first and failed ones),
        ``seconds``, ``chosen`` (whether it became the current best) and ``error``
        (the message of a failed build).

    Raises
    ------
    BridgeError
        For a bad ``time_budget``, ``val_fraction`` or ``alpha``, a class with fewer
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
    if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not 0 < alpha < 1:
        raise BridgeError(f"alpha={alpha!r} must be a number in (0, 1) (the chance of leaving "
                          "equally good defaults); pass e.g. 0.05.")
    level = alpha / sum(len(values) - 1 for values in SEARCH_SPACE.values())
    teacher = None
    if base.distill > 0 or any(v > 0 for v in SEARCH_SPACE["distill"]):
        logits, _ = neural.extract_latents(model, X, pooling="flatten", progress=False)
        teacher = torch.as_tensor(logits).float()
    cuts: dict[tuple[str, int], tuple[Cut, torch.Tensor]] = {}

    def score(candidate: VINetConfig) -> np.ndarray:
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
        return _val_correct(net, x_val, y[val_idx])

    trials: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    best, best_correct = base, score(base)
    last = time.perf_counter() - t0
    trials.append({"settings": {}, "val_accuracy": float(best_correct.mean()), "gain": None,
                   "sem": None, "p_value": None, "seconds": round(last, 2), "chosen": True,
                   "error": None})
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
            gain = sem = acc = p_value = None
            try:
                correct = score(candidate)
                acc, error = float(correct.mean()), None
                gain, sem = paired_gain(correct, best_correct)
                p_value = sign_test(correct, best_correct)
            except BridgeError as exc:  # e.g. no generator at this psi: skip it
                error = str(exc)
            last = time.perf_counter() - t0
            chosen = p_value is not None and p_value < level
            if chosen:
                best, best_correct = candidate, correct
            trials.append({"settings": changed, "val_accuracy": acc, "gain": gain, "sem": sem,
                           "p_value": p_value, "seconds": round(last, 2), "chosen": chosen,
                           "error": error})
            bar.update()
    bar.close()
    return best, trials
