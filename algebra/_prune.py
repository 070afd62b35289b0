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

The scores need only per-class sums of ``|p(x)|`` and ``p(x)²``
(:func:`class_sums`): one fused numba pass over blocks of rows (the monomials of all
generators along one chain, then each generator from the monomials it uses, summed by
class), so time is linear in the samples and in the generators' terms, and memory is
one block plus the (classes × generators) sums.  The sums of disjoint parts of the data
add up, so the pass is a map over shards of the data and a sum (the reduce); the scores
follow from the totals (:func:`scores_from_sums`) and the choice from the scores
(:func:`top_generators`): that is how ``bridge`` prunes a data set too large for memory,
one shard at a time or on a cluster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numba
import numpy as np

from algebra._errors import AlgebraError
from algebra._kernels import set_sums, set_sums_parallel
from algebra._polyset import PolynomialSet
from algebra._validation import check_points, describe

__all__ = ["check_keep", "class_sums", "discriminative_scores", "prune_generators",
           "scores_from_sums", "top_generators"]

#: Bytes of the monomial block of :func:`class_sums` (it stays in the L2 cache).
_BLOCK_BYTES = 1 << 17
#: Multiply-adds per row (over all generators) from which the sets run on threads: a
#: parallel launch per block costs more than a few small classes' work.
_PARALLEL_MIN_WORK = 4096


def _check_sets(sets: Any) -> list[PolynomialSet]:
    sets = list(sets) if isinstance(sets, Sequence) else sets
    if not isinstance(sets, list) or not sets or not all(
            isinstance(s, PolynomialSet) for s in sets):
        raise AlgebraError(
            "sets must be a non-empty sequence of PolynomialSet objects, one per class "
            "in the order of np.unique(y)."
        )
    widths = sorted({s.n_vars for s in sets})
    if len(widths) != 1:
        raise AlgebraError(
            f"The polynomial sets have different numbers of variables {widths}; fit "
            "every set on the same variables."
        )
    return sets


def _check_sets_and_labels(
    sets: Sequence[PolynomialSet], X: Any, y: Any
) -> tuple[list[PolynomialSet], np.ndarray, np.ndarray, np.ndarray]:
    sets = _check_sets(sets)
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
    sets: Sequence[PolynomialSet], X: Any, segment: Any, n_segments: int,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Per-segment sums of ``|p(x)|`` and of ``p(x)²`` for every polynomial of every set.

    One fused pass over blocks of rows (numba): the block's monomials along one chain
    (the union of the sets' terms), then every generator from the monomials it uses
    (one multiply-add per used monomial and row), summed by segment.  Time is linear in
    the rows and in the generators' terms, memory one block plus the sums.  Sums over
    disjoint parts of the data add up: pass one shard (or chunk) at a time and add the
    results to score data that does not fit in memory (a map over shards and a reduce).

    Parameters
    ----------
    sets : sequence of PolynomialSet
        The polynomial sets (same variables and term order; exact coefficients are
        rounded to float64).
    X : array_like of shape (m, n)
        The samples (converted to float64).
    segment : array_like of int, shape (m,)
        Segment (class index) of each row, in ``[0, n_segments)``. Rows grouped by
        segment run fastest.
    n_segments : int
        Number of segments ``K``.

    Returns
    -------
    list of (abs_sums, square_sums)
        One pair per set, each of shape ``(n_segments, len(set))``: ``abs_sums[k, i]``
        is the sum of ``|p_i(x)|`` over the rows ``x`` of ``X`` in segment ``k``,
        ``square_sums`` the same for ``p_i(x)²``.

    Raises
    ------
    AlgebraError
        For sets that are not polynomial sets of ``X``'s width, non-finite ``X``, or
        segments that are not integers in ``[0, n_segments)``, one per row.
    """
    sets = _check_sets(sets)
    X = check_points(X, n_vars=sets[0].n_vars, allow_empty=True)
    if isinstance(n_segments, bool) or not isinstance(n_segments, (int, np.integer)) or (
            n_segments < 1):
        raise AlgebraError(f"n_segments={n_segments!r} must be a positive integer "
                           "(the number of classes).")
    seg = np.asarray(segment)
    if seg.shape != (X.shape[0],) or not (
            np.issubdtype(seg.dtype, np.integer) or seg.size == 0):
        raise AlgebraError(
            f"segment must be a 1-D integer array with one entry per row of X "
            f"({X.shape[0]}), got {describe(segment)}."
        )
    if seg.size and (seg.min() < 0 or seg.max() >= n_segments):
        raise AlgebraError(
            f"segment holds values in [{seg.min()}, {seg.max()}], outside [0, "
            f"{n_segments}); number the classes 0 .. n_segments - 1."
        )
    n_segments = int(n_segments)
    out = [(np.zeros((n_segments, len(s))), np.zeros((n_segments, len(s)))) for s in sets]
    union = PolynomialSet.concatenate(sets)
    if len(union) == 0 or X.shape[0] == 0:
        return out
    coef = np.asarray(union.coef, dtype=np.float64)
    bounds = np.cumsum([0] + [len(s) for s in sets]).astype(np.int64)
    used_parts, coef_parts = [], []  # per set: the union rows it uses, its coefficients
    for a, b in itertools.pairwise(bounds):
        used = np.flatnonzero((coef[:, a:b] != 0).any(axis=1))
        used_parts.append(used)
        coef_parts.append(coef[used, a:b].T.ravel())  # (generators, used), row-major
    used_ptr = np.cumsum([0] + [u.size for u in used_parts]).astype(np.int64)
    coef_ptr = np.cumsum([0] + [c.size for c in coef_parts]).astype(np.int64)
    abs_all = np.zeros((n_segments, len(union)))
    square_all = np.zeros((n_segments, len(union)))
    block = int(np.clip(_BLOCK_BYTES // (8 * union.n_terms), 16, 1024))
    # Groups of sets of about equal work (multiply-adds per row), a few per thread so
    # that a slow thread on a busy machine does not hold up the others for long.
    work = np.cumsum([c.size for c in coef_parts])
    threads = numba.get_num_threads()
    n_groups = 1 if len(sets) == 1 or work[-1] < _PARALLEL_MIN_WORK else 4 * threads
    group_ptr = np.unique(np.searchsorted(
        work, np.linspace(0, work[-1], n_groups + 1)[1:-1], side="right"))
    group_ptr = np.concatenate([[0], group_ptr[(group_ptr > 0) & (group_ptr < len(sets))],
                                [len(sets)]]).astype(np.int64)
    kernel = set_sums if group_ptr.shape[0] == 2 else set_sums_parallel
    kernel(X, np.ascontiguousarray(seg, dtype=np.int64), union.parent, union.var, group_ptr,
           bounds, used_ptr, np.concatenate(used_parts).astype(np.int64),
           np.concatenate(coef_parts), coef_ptr, abs_all, square_all, block)
    return [(abs_all[:, a:b].copy(), square_all[:, a:b].copy())
            for a, b in itertools.pairwise(bounds)]


def scores_from_sums(
    sums: Sequence[tuple[Any, Any]], counts: Any
) -> list[np.ndarray]:
    """Discriminative scores from per-class sums (see :func:`discriminative_scores`).

    Parameters
    ----------
    sums : sequence of (abs_sums, square_sums)
        As :func:`class_sums` returns them (added up over the parts of the data): one
        pair per class, in class order, each of shape ``(K, p_j)``; set ``j`` holds the
        generators fitted on class ``j``.
    counts : array_like of shape (K,)
        The number of rows of each class that the sums ran over (all positive).

    Returns
    -------
    list of ndarray
        ``scores[j]`` of shape ``(p_j,)``.

    Raises
    ------
    AlgebraError
        For fewer than 2 classes, a class without rows, or sums of the wrong shape.
    """
    counts = np.asarray(counts, dtype=np.float64)
    K = counts.shape[0] if counts.ndim == 1 else -1
    if K < 2 or len(sums) != K:
        raise AlgebraError(
            f"counts must hold one row count per class (at least 2 classes) and sums one "
            f"pair per class; got counts of shape {counts.shape} and {len(sums)} pairs."
        )
    if not (counts > 0).all():
        raise AlgebraError(
            f"class(es) {np.flatnonzero(~(counts > 0)).tolist()} have no rows in the sums; "
            "every class needs samples for its mean |p| and its own RMS."
        )
    scores = []
    for j, (abs_sums, square_sums) in enumerate(sums):
        abs_sums, square_sums = np.asarray(abs_sums), np.asarray(square_sums)
        if abs_sums.ndim != 2 or abs_sums.shape[0] != K or square_sums.shape != abs_sums.shape:
            raise AlgebraError(
                f"the sums of class {j} have shapes {abs_sums.shape} and "
                f"{square_sums.shape}; both must be (K, p) = ({K}, p)."
            )
        own_rms = np.sqrt(square_sums[j] / counts[j])
        means = abs_sums / counts[:, None]
        means[j] = np.inf  # the own class does not count
        worst = means.min(axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            scores.append(np.where(worst > 0, worst / own_rms, 0.0))
    return scores


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

    Computed from per-class sums of ``|p(x)|`` and ``p(x)²`` in one pass over blocks of
    rows (:func:`class_sums`; no class-indicator matrix): time ``O(m · generators ·
    terms)``, memory one block plus ``2 × classes × generators`` sums.

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
    counts = np.bincount(y_index, minlength=K)
    return scores_from_sums(class_sums(sets, X, y_index, K), counts)


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
    return [s.select(kept) for s, kept in zip(sets, top_generators(sets, scores, keep),
                                              strict=True)]


def top_generators(
    sets: Sequence[PolynomialSet], scores: Sequence[Any], keep: int | float | None = None
) -> list[np.ndarray]:
    """The indices of the generators :func:`prune_generators` keeps, from their scores.

    Parameters
    ----------
    sets : sequence of PolynomialSet
        One set per class.
    scores : sequence of array_like
        ``scores[j]`` of shape ``(len(sets[j]),)``, e.g. from :func:`scores_from_sums`.
    keep : int, float or None, default=None
        As in :func:`prune_generators`.

    Returns
    -------
    list of ndarray of int
        Per set, the sorted indices of its kept generators: the ``keep`` highest
        scores, ties broken in favour of the sparser generator (fewer nonzero
        coefficients), then the earlier one.
    """
    check_keep(keep)
    sets = _check_sets(sets)
    if len(scores) != len(sets):
        raise AlgebraError(f"scores has {len(scores)} entries for {len(sets)} sets; pass "
                           "one score array per set.")
    out = []
    for s, score in zip(sets, scores, strict=True):
        p = len(s)
        score = np.asarray(score, dtype=np.float64)
        if score.shape != (p,):
            raise AlgebraError(f"a score array has shape {score.shape} for a set of {p} "
                               "generators; pass one score per generator.")
        if keep is None:
            k = p
        elif isinstance(keep, (int, np.integer)):
            k = min(int(keep), p)
        else:
            k = min(p, max(1, math.ceil(float(keep) * p)))
        nonzero = (s.coef != 0).sum(axis=0)
        # lexsort: last key first -> highest score, then fewest terms, then index.
        rank = np.lexsort((np.arange(p), nonzero, -score))
        out.append(np.sort(rank[:k]))
    return out
