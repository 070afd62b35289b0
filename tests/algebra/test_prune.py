"""Discriminative scores and pruning, against a brute-force numpy loop."""

import functools
import tracemalloc

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from algebra import (
    AlgebraError,
    PolynomialSet,
    class_sums,
    discriminative_scores,
    fit_abm,
    order_ideal_closure,
    prune_generators,
    scores_from_sums,
    top_generators,
)


@functools.cache
def _data():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 240)
    r = np.repeat([1.0, 0.6, 0.3], 80)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)]) + rng.normal(scale=0.01, size=(240, 2))
    y = np.repeat(np.array(["a", "b", "c"]), 80)
    sets = [fit_abm(X[y == k], psi=1e-3, max_degree=3) for k in ("a", "b", "c")]
    return X, y, sets


def _brute_scores(sets, X, y):
    """The documented score, one class and one generator at a time in plain numpy."""
    classes = np.unique(y)
    out = []
    for j, s in enumerate(sets):
        mono = np.prod(X[:, None, :] ** s.terms[None], axis=2)
        vals = mono @ np.asarray(s.coef, dtype=float)
        scores = []
        for i in range(len(s)):
            worst = min(np.abs(vals[y == k, i]).mean() for c, k in enumerate(classes) if c != j)
            own = np.sqrt(np.mean(vals[y == classes[j], i] ** 2))
            scores.append(0.0 if worst == 0 else worst / own if own > 0 else np.inf)
        out.append(np.array(scores))
    return out


def test_scores_match_brute_force():
    X, y, sets = _data()
    for got, ref in zip(discriminative_scores(sets, X, y), _brute_scores(sets, X, y),
                        strict=True):
        assert got.shape == ref.shape and got.size > 0
        np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_score_on_known_values():
    # Class 0 lies near x = 0 (|x| = 0.1 there, RMS 0.1), classes 1 and 2 have mean
    # |x| = 2: the score of x is 2 / 0.1 = 20; y is zero on class 2: score 0; the
    # constant 1 is no smaller on its class than elsewhere: score 1.
    X = np.array([[0.1, 1.0], [-0.1, -1.0], [2.0, 0.5], [-2.0, 0.5], [2.0, 0.0], [-2.0, 0.0]])
    y = np.array([0, 0, 1, 1, 2, 2])
    terms = [[0, 0], [0, 1], [1, 0]]
    x_y_one = PolynomialSet(terms, [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    one = PolynomialSet(terms, [[1.0], [0.0], [0.0]])
    np.testing.assert_allclose(discriminative_scores([x_y_one, one, one], X, y)[0],
                               [20.0, 0.0, 1.0])
    # Exactly zero on its own class and not elsewhere: inf, not NaN.
    X[:2, 0] = 0.0
    assert discriminative_scores([x_y_one, one, one], X, y)[0][0] == np.inf


@settings(max_examples=30, deadline=None)
@given(factors=st.lists(st.floats(1e-6, 1e6), min_size=64, max_size=64),
       exponents=st.lists(st.integers(-20, 20), min_size=64, max_size=64))
def test_scores_and_pruning_are_invariant_to_rescaling_generators(factors, exponents):
    X, y, sets = _data()
    assert sum(len(s) for s in sets) <= 64
    ref = discriminative_scores(sets, X, y)
    kept = prune_generators(sets, X, y, keep=2)
    # Each generator times a general positive factor and an exact power of two.
    scale = np.array(factors) * 2.0 ** np.array(exponents)
    offsets = np.cumsum([0] + [len(s) for s in sets])
    scaled = [PolynomialSet(s.terms, s.coef * scale[a:b], order=s.order)
              for s, a, b in zip(sets, offsets[:-1], offsets[1:], strict=True)]
    got = discriminative_scores(scaled, X, y)
    for a, b in zip(got, ref, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    for p_ref, p_got, s, sc in zip(kept, prune_generators(scaled, X, y, keep=2), sets, scaled,
                                   strict=True):
        # The same generators are kept (the kept polynomials are columns of the set).
        assert _match_columns(s.evaluate(X), p_ref.evaluate(X)) == _match_columns(
            sc.evaluate(X), p_got.evaluate(X))


def _match_columns(full, picked):
    """Indices of the columns of ``full`` that the columns of ``picked`` equal."""
    return [int(np.argmin(np.abs(full - col[:, None]).max(axis=0))) for col in picked.T]


def test_many_generators_per_class_match_brute_force():
    # 300 generators in one class: the per-class sums run on threads (>= 256).
    X, y, _ = _data()
    rng = np.random.default_rng(1)
    terms = order_ideal_closure(np.array([[2, 0], [1, 1], [0, 2]]))
    sets = [PolynomialSet(terms, rng.normal(size=(terms.shape[0], p))) for p in (300, 3, 1)]
    for got, ref in zip(discriminative_scores(sets, X, y), _brute_scores(sets, X, y),
                        strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-10)


def test_many_classes_use_no_class_by_sample_matrix():
    # K = 300 classes of 200 samples: a (K × m) float indicator would take 144 MB, built
    # once per class; the streaming sums peak at one chunk (32 MiB) plus the sums
    # (2 × 300 × 600 floats).
    rng = np.random.default_rng(0)
    K, per = 300, 200
    centres = rng.uniform(-0.8, 0.8, size=(K, 2))
    X = (centres[:, None, :] + rng.normal(scale=0.05, size=(K, per, 2))).reshape(-1, 2)
    y = np.repeat(np.arange(K), per)
    terms = [[0, 0], [0, 1], [1, 0]]
    # Per class: the two lines through its centre, x - a and y - b.
    sets = [PolynomialSet(terms, [[-b, -a], [1.0, 0.0], [0.0, 1.0]]) for a, b in centres]
    tracemalloc.start()
    scores = discriminative_scores(sets, X, y)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 0.5 * K * X.shape[0] * 8
    # Against the plain numpy definition on a few classes.
    for j in (0, 137, K - 1):
        vals = np.column_stack([X[:, 1] - centres[j, 1], X[:, 0] - centres[j, 0]])
        means = np.array([np.abs(vals[y == k]).mean(axis=0) for k in range(K)])
        means[j] = np.inf
        own = np.sqrt(np.mean(vals[y == j] ** 2, axis=0))
        np.testing.assert_allclose(scores[j], means.min(axis=0) / own, rtol=1e-10)


@pytest.mark.parametrize("keep", [1, 2, 0.5, 1.0, None])
def test_prune_keeps_the_best_and_drops_unused_monomials(keep):
    X, y, sets = _data()
    scores = _brute_scores(sets, X, y)
    pruned = prune_generators(sets, X, y, keep=keep)
    for s, p, sc in zip(sets, pruned, scores, strict=True):
        k = len(s) if keep is None else (
            min(keep, len(s)) if isinstance(keep, int) else int(np.ceil(keep * len(s))))
        assert len(p) == k
        best = np.sort(np.argsort(-sc, kind="stable")[:k])
        # Same polynomials (values on the data) as the k best of the original set.
        np.testing.assert_allclose(p.evaluate(X), s.evaluate(X)[:, best], atol=1e-12)
        # Only the monomials the kept generators need (and their divisors) remain.
        used = s.terms[np.flatnonzero((s.coef[:, best] != 0).any(axis=1))]
        assert {tuple(t) for t in used} <= {tuple(t) for t in p.terms}
        assert {tuple(t) for t in p.terms} == {tuple(t) for t in order_ideal_closure(used)}
        assert p.n_terms <= s.n_terms
        if isinstance(keep, int) and keep == 1:
            assert p.n_terms < s.n_terms  # monomials only the dropped generators used


def test_ties_prefer_the_sparser_generator():
    # On y ∈ {0, 1}, x + y, x + 2y − y² and x + y² take the same values (y² = y).
    X = np.array([[0.2, 0.0], [0.5, 1.0], [-0.3, 1.0], [0.9, 0.0]])
    y = np.array([0, 0, 1, 1])
    terms = [[0, 0], [0, 1], [1, 0], [0, 2]]
    dense = PolynomialSet(terms, np.array([[0, 0, 0], [1, 2, 0], [1, 1, 1], [0, -1, 1]],
                                          dtype=float))
    other = PolynomialSet(terms, np.array([[1.0], [0], [0], [0]]))
    scores = discriminative_scores([dense, other], X, y)
    assert scores[0][0] == pytest.approx(scores[0][1]) == pytest.approx(scores[0][2])
    kept = prune_generators([dense, other], X, y, keep=2)[0]
    # The 3-term generator x + 2y − y² is dropped; the order is kept.
    np.testing.assert_allclose(kept.evaluate(X), dense.evaluate(X)[:, [0, 2]])
    assert sorted((kept.coef != 0).sum(axis=0).tolist()) == [2, 2]


def test_prune_errors():
    X, y, sets = _data()
    with pytest.raises(AlgebraError, match=r"keep=0 must be an int >= 1"):
        prune_generators(sets, X, y, keep=0)
    with pytest.raises(AlgebraError, match=r"keep=1.5 must be an int >= 1 .* a float in"):
        prune_generators(sets, X, y, keep=1.5)
    with pytest.raises(AlgebraError, match="y has 3 classes but 2 generator sets"):
        discriminative_scores(sets[:2], X, y)
    with pytest.raises(AlgebraError, match="y has a single class"):
        discriminative_scores(sets[:1], X[y == "a"], y[y == "a"])


def test_class_sums_match_numpy_and_add_up_over_parts():
    # The map-reduce form of the score: sums over disjoint parts (in any row order) add
    # up to the sums over all rows, which equal plain numpy's; the scores of the totals
    # are discriminative_scores'.
    X, y, sets = _data()
    segment = np.unique(y, return_inverse=True)[1]
    total = class_sums(sets, X, segment, 3)
    for s, (abs_sums, square_sums) in zip(sets, total, strict=True):
        vals = s.evaluate(X)
        np.testing.assert_allclose(abs_sums, [np.abs(vals[segment == k]).sum(axis=0)
                                              for k in range(3)], rtol=1e-12)
        np.testing.assert_allclose(square_sums, [(vals[segment == k] ** 2).sum(axis=0)
                                                 for k in range(3)], rtol=1e-12)
    order = np.random.default_rng(0).permutation(X.shape[0])
    parts = [class_sums(sets, X[rows], segment[rows], 3) for rows in np.array_split(order, 3)]
    for j, (abs_sums, square_sums) in enumerate(total):
        np.testing.assert_allclose(sum(p[j][0] for p in parts), abs_sums, rtol=1e-12)
        np.testing.assert_allclose(sum(p[j][1] for p in parts), square_sums, rtol=1e-12)
    scores = scores_from_sums(total, np.bincount(segment))
    for got, ref in zip(scores, discriminative_scores(sets, X, y), strict=True):
        np.testing.assert_array_equal(got, ref)
    # prune_generators is top_generators' choice, selected.
    for kept, s, idx in zip(prune_generators(sets, X, y, keep=2), sets,
                            top_generators(sets, scores, keep=2), strict=True):
        assert kept == s.select(idx)


def test_class_sums_of_an_empty_part_are_zero():
    X, _, sets = _data()
    out = class_sums(sets, X[:0], np.zeros(0, dtype=int), 3)
    assert all(a.shape == (3, len(s)) and not a.any() and not b.any()
               for (a, b), s in zip(out, sets, strict=True))


def test_sums_scores_and_choice_errors():
    X, y, sets = _data()
    segment = np.unique(y, return_inverse=True)[1]
    with pytest.raises(AlgebraError, match=r"segment holds values in \[0, 2\], outside \[0, 2\)"):
        class_sums(sets, X, segment, 2)
    with pytest.raises(AlgebraError, match="segment must be a 1-D integer array with one "
                                           "entry per row of X"):
        class_sums(sets, X, segment.astype(float), 3)
    with pytest.raises(AlgebraError, match="segment must be a 1-D integer array"):
        class_sums(sets, X, segment[:-1], 3)
    with pytest.raises(AlgebraError, match="n_segments=0 must be a positive integer"):
        class_sums(sets, X, segment, 0)
    with pytest.raises(AlgebraError, match="X has 3 columns but the polynomials are in 2"):
        class_sums(sets, np.hstack([X, X[:, :1]]), segment, 3)
    one_var = PolynomialSet([[0], [1]], [[0.5], [1.0]])
    with pytest.raises(AlgebraError, match=r"different numbers of variables \[1, 2\]"):
        class_sums([sets[0], one_var], X, segment, 3)
    total = class_sums(sets, X, segment, 3)
    with pytest.raises(AlgebraError, match=r"class\(es\) \[1\] have no rows"):
        scores_from_sums(total, [80, 0, 80])
    with pytest.raises(AlgebraError, match="one row count per class"):
        scores_from_sums(total[:2], [80, 80, 80])
    with pytest.raises(AlgebraError, match=r"the sums of class 0 have shapes"):
        scores_from_sums([(a[:2], b[:2]) for a, b in total], [80, 80, 80])
    scores = scores_from_sums(total, [80, 80, 80])
    with pytest.raises(AlgebraError, match="scores has 2 entries for 3 sets"):
        top_generators(sets, scores[:2], keep=1)
    with pytest.raises(AlgebraError, match="one score per generator"):
        top_generators(sets, [s[:-1] for s in scores], keep=1)
    with pytest.raises(AlgebraError, match="keep=0 must be an int >= 1"):
        top_generators(sets, scores, keep=0)
