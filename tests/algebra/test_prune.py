"""Discriminative scores and pruning, against a brute-force numpy loop."""

import numpy as np
import pytest

from algebra import (
    AlgebraError,
    PolynomialSet,
    discriminative_scores,
    fit_abm,
    order_ideal_closure,
    prune_generators,
)


def _data():
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 240)
    r = np.repeat([1.0, 0.6, 0.3], 80)
    X = np.column_stack([r * np.cos(t), r * np.sin(t)]) + rng.normal(scale=0.01, size=(240, 2))
    y = np.repeat(np.array(["a", "b", "c"]), 80)
    sets = [fit_abm(X[y == k], psi=1e-3, max_degree=3) for k in ("a", "b", "c")]
    return X, y, sets


def _brute_scores(sets, X, y):
    classes = np.unique(y)
    out = []
    for j, s in enumerate(sets):
        mono = np.prod(X[:, None, :] ** s.terms[None], axis=2)
        vals = np.abs(mono @ s.coef)
        per_class = [vals[y == k].mean(axis=0) for i, k in enumerate(classes) if i != j]
        out.append(np.min(per_class, axis=0))
    return out


def test_scores_match_brute_force():
    X, y, sets = _data()
    for got, ref in zip(discriminative_scores(sets, X, y), _brute_scores(sets, X, y),
                        strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-10)


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
