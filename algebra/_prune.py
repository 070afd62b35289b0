"""Pruning per-class generators by how well they tell the classes apart (VI-Net).

A generator ``p`` fitted on class ``j`` vanishes (approximately) on class ``j``; it is
useful as a feature when it does *not* vanish on the other classes.  VI-Net
(Pelleriti, Zimmer, Wirth & Pokutta, ICML 2025, Sec. 4) scores it by its mean
absolute value on the class it separates worst; vinet divides that by its root mean
square on its own class, so the score does not depend on the generator's normalisation
(OAVI's leading coefficient 1, ABM's and VCA's unit coefficient norm, a user's
rescaling)::

    s(p) = min over classes k ≠ j of  mean_{x in class k} |p(x)|
           / sqrt(mean_{x in class j} p(x)²)

Pruning keeps the highest-scoring generators of every class, prefers sparse generators
on ties, and drops the monomials no kept generator uses
(:meth:`~algebra.PolynomialSet.select`).

The scores need only per-class sums of ``|p(x)|`` and ``p(x)²``: one pass over chunks
of rows (the monomials of all generators, per class one BLAS product with the
coefficients of its generators, then segment sums by class in numba), so time is linear
in the samples and the generators, and memory is one chunk plus the (classes ×
generators) sums.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._kernels import segment_sums, segment_sums_parallel
from algebra._monomials import chain_into, default_chunk_rows
from algebra._polyset import PolynomialSet
from algebra._validation import check_points

__all__ = ["check_keep", "class_sums", "discriminative_scores", "prune_generators"]


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


def class_sums(
    sets: Sequence[PolynomialSet], X: np.ndarray, segment: np.ndarray, n_segments: int,
    chunk_size: int | None = None,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-segment sums of ``|p(x)|`` and of ``p(x)²`` for every polynomial of every set.

    One pass over chunks of rows: the chunk's monomials (the union of the sets' terms,
    along one chain, numba), then for each set the product of the monomials it uses
    with its coefficients (one BLAS call: per-class generators use a few of the union's
    monomials, so this is several times fewer flops than one product with the whole
    union) and the segment sums of the absolute values and the squares (numba).
    Memory is one chunk of monomials plus the sums.

    Parameters
    ----------
    sets : sequence of PolynomialSet
        The polynomial sets (same variables and term order; exact coefficients are
        rounded to float64).
    X : ndarray of shape (m, n), float64, C-contiguous
        Validated samples.
    segment : ndarray of int, shape (m,)
        Segment (class index) of each row, in ``[0, n_segments)``.
    n_segments : int
        Number of segments ``K``.
    chunk_size : int, optional
        Rows per chunk (default: about 32 MiB of monomials, twice: in both layouts).

    Returns
    -------
    list of (abs_sums, square_sums)
        One pair per set, each of shape ``(n_segments, len(set))``: ``abs_sums[k, i]``
        is the sum of ``|p_i(x)|`` over the rows ``x`` of ``X`` in segment ``k``,
        ``square_sums`` the same for ``p_i(x)²``.
    """
    out = [(np.zeros((n_segments, len(s))), np.zeros((n_segments, len(s)))) for s in sets]
    union = PolynomialSet.concatenate(sets)
    if len(union) == 0 or X.shape[0] == 0:
        return out
    coef = np.asarray(union.coef, dtype=np.float64)
    bounds = np.cumsum([0] + [len(s) for s in sets])
    parts = []  # per set: the union rows it uses and its coefficients on them, transposed
    for a, b in itertools.pairwise(bounds):
        used = np.flatnonzero((coef[:, a:b] != 0).any(axis=1))
        parts.append((used, np.ascontiguousarray(coef[used, a:b].T)))
    segment = np.ascontiguousarray(segment, dtype=np.int64)
    step = min(X.shape[0], default_chunk_rows(16 * union.n_terms, chunk_size))
    mu = np.empty((step, union.n_terms))
    for start in range(0, X.shape[0], step):
        rows = min(step, X.shape[0] - start)
        chain_into(X[start : start + rows], union.parent, union.var, mu[:rows])
        # One row per monomial: each set's monomials are then contiguous rows to gather.
        mu_t = np.ascontiguousarray(mu[:rows].T)
        seg = segment[start : start + rows]
        for (used, c_t), (abs_sums, square_sums) in zip(parts, out, strict=True):
            if c_t.shape[0] == 0:
                continue
            values = c_t @ mu_t[used]  # (generators of the set, rows)
            # Threads only pay off for many generators (a parallel launch per call
            # costs more than a class's few).
            summing = segment_sums_parallel if c_t.shape[0] >= 256 else segment_sums
            summing(values, seg, abs_sums, square_sums)
    return out


def discriminative_scores(
    sets: Sequence[PolynomialSet], X: Any, y: Any
) -> list[np.ndarray]:
    """Discriminative score of every generator of every class (scale-invariant).

    For a generator ``p`` of class ``j``, with ``X_k`` the rows of class ``k``,

    ``s(p) = min_{k ≠ j} mean_{x ∈ X_k} |p(x)| / sqrt(mean_{x ∈ X_j} p(x)²)``:

    VI-Net's score (the mean ``|p|`` on the class ``p`` separates worst) divided by
    ``p``'s root mean square on its own class, where it should vanish.  It says how
    many times larger ``p`` is where it should not vanish than where it should, and
    multiplying ``p`` by any ``c > 0`` multiplies the numerator and the denominator by
    ``c``, so the score, and the ranking of :func:`prune_generators`, do not depend on
    how each generator is normalised (OAVI's leading coefficient 1, ABM's and VCA's unit
    coefficient vector, a user's rescaling).  It is VI-Net's score of ``p`` rescaled to
    unit root mean square on its class.  A generator that is zero on some other class
    scores 0; one that is exactly zero on its own class and not on the others scores
    ``inf`` (ties go to the sparser generator in :func:`prune_generators`).

    Computed from per-class sums of ``|p(x)|`` and ``p(x)²`` in one pass over chunks of
    rows (no class-indicator matrix): time ``O(m · generators · terms)``, memory one
    chunk plus ``2 × classes × generators`` sums.

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
        ``scores[j]`` of shape ``(len(sets[j]),)``: the scores of class ``j``'s
        generators.
    """
    sets, X, classes, y_index = _check_sets_and_labels(sets, X, y)
    K = classes.shape[0]
    counts = np.bincount(y_index, minlength=K).astype(np.float64)
    scores = []
    for j, (abs_sums, square_sums) in enumerate(class_sums(sets, X, y_index, K)):
        own_rms = np.sqrt(square_sums[j] / counts[j])
        means = abs_sums / counts[:, None]
        means[j] = np.inf  # the own class does not count
        worst = means.min(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores.append(np.where(worst > 0, worst / own_rms, 0.0))
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
