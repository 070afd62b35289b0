"""Pruning per-class generators by how well they tell the classes apart (VI-Net).

A generator ``p`` fitted on class ``j`` vanishes (approximately) on class ``j``; it is
useful as a feature when it does *not* vanish on the other classes.  Its
discriminative score (Pelleriti, Zimmer, Wirth & Pokutta, ICML 2025, Sec. 4) is

    s(p) = min over classes k ≠ j of  mean over x in class k of |p(x)|,

the value on the class it separates worst.  Pruning keeps the highest-scoring
generators of every class, prefers sparse generators on ties, and drops the monomials
no kept generator uses (:meth:`~algebra.PolynomialSet.select`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._polyset import PolynomialSet
from algebra._validation import check_points

__all__ = ["check_keep", "discriminative_scores", "prune_generators"]


def _check_sets_and_labels(
    sets: Sequence[PolynomialSet], X: Any, y: Any
) -> tuple[list[PolynomialSet], np.ndarray, np.ndarray, np.ndarray]:
    sets = list(sets)
    if not sets or not all(isinstance(s, PolynomialSet) for s in sets):
        raise AlgebraError(
            "sets must be a non-empty sequence of PolynomialSet objects, one per class "
            "in the order of np.unique(y)."
        )
    X = check_points(X, n_vars=sets[0].n_vars)
    y = np.asarray(y)
    if y.ndim != 1 or y.shape[0] != X.shape[0]:
        raise AlgebraError(
            f"y must be a 1-D array with one label per row of X ({X.shape[0]}), got "
            f"shape {y.shape}."
        )
    classes, y_index = np.unique(y, return_inverse=True)
    if classes.shape[0] != len(sets):
        raise AlgebraError(
            f"y has {classes.shape[0]} classes but {len(sets)} generator sets were given; "
            f"pass one set per class, in the order of np.unique(y)."
        )
    if classes.shape[0] < 2:
        raise AlgebraError(
            "y has a single class; the discriminative score compares a class with the "
            "others, so at least 2 classes are needed."
        )
    return sets, X, classes, y_index


def discriminative_scores(
    sets: Sequence[PolynomialSet], X: Any, y: Any
) -> list[np.ndarray]:
    """Discriminative score of every generator of every class.

    Parameters
    ----------
    sets : sequence of PolynomialSet
        One set per class, in the order of ``np.unique(y)``; set ``j`` holds the
        generators fitted on class ``j``.
    X : array_like of shape (m, n)
        Labelled data (typically the training data).
    y : array_like of shape (m,)
        Class labels, at least 2 classes.

    Returns
    -------
    list of ndarray
        ``scores[j]`` of shape ``(len(sets[j]),)``: for generator ``p`` of class ``j``,
        the minimum over classes ``k ≠ j`` of the mean of ``|p(x)|`` on class ``k``.
    """
    sets, X, classes, y_index = _check_sets_and_labels(sets, X, y)
    scores = []
    for j, s in enumerate(sets):
        if len(s) == 0:
            scores.append(np.zeros(0))
            continue
        values = np.abs(s.evaluate(X))  # (m, p)
        # Mean |p| per class: one (K, m) @ (m, p) product with the class indicator.
        K = classes.shape[0]
        indicator = np.zeros((K, X.shape[0]))
        indicator[y_index, np.arange(X.shape[0])] = 1.0
        means = indicator @ values / indicator.sum(axis=1, keepdims=True)
        means[j] = np.inf  # the own class does not count
        scores.append(means.min(axis=0))
    return scores


def check_keep(keep: Any) -> int | float | None:
    """Validate the pruning parameter ``keep`` of :func:`prune_generators`."""
    if keep is not None and (
        isinstance(keep, bool)
        or not isinstance(keep, (int, float, np.integer, np.floating))
        or (isinstance(keep, (int, np.integer)) and keep < 1)
        or (isinstance(keep, (float, np.floating)) and not 0 < keep <= 1)
    ):
        raise AlgebraError(
            f"Parameter keep={keep!r} must be an int >= 1 (generators per class), a "
            f"float in (0, 1] (fraction per class), or None (keep all)."
        )
    return keep


def prune_generators(
    sets: Sequence[PolynomialSet], X: Any, y: Any, keep: int | float | None = None
) -> list[PolynomialSet]:
    """Keep the most discriminative generators of every class.

    Parameters
    ----------
    sets, X, y
        As in :func:`discriminative_scores`.
    keep : int, float or None, default=None
        An int ``k ≥ 1`` keeps the ``k`` best generators of each class; a float in
        ``(0, 1]`` keeps that fraction (rounded up, at least one) of each class's
        generators; ``None`` keeps all of them (the set is still rebuilt without
        unused monomials).

    Returns
    -------
    list of PolynomialSet
        One per class: the kept generators in their original order, over the
        smallest order ideal holding their terms.  Ties in the score are broken in
        favour of the sparser generator (fewer nonzero coefficients), then the
        earlier one.
    """
    check_keep(keep)
    scores = discriminative_scores(sets, X, y)
    out = []
    for s, score in zip(sets, scores, strict=True):
        p = len(s)
        if keep is None:
            k = p
        elif isinstance(keep, (int, np.integer)):
            k = min(int(keep), p)
        else:
            k = min(p, max(1, math.ceil(float(keep) * p)))
        nonzero = (s.coef != 0).sum(axis=0)
        # lexsort: last key first -> highest score, then fewest terms, then index.
        rank = np.lexsort((np.arange(p), nonzero, -score))
        out.append(s.select(np.sort(rank[:k])))
    return out
