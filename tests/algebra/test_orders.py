"""Term orders: admissibility, agreement with sympy, the registry, variable permutations."""

import dataclasses

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sympy.polys.orderings import monomial_key

from algebra import (
    PERMUTATIONS,
    TERM_ORDERS,
    AlgebraError,
    TermOrder,
    all_monomials,
    deglex,
    degrevlex,
    get_term_order,
    grevlex,
    grlex,
    lex,
    sort_terms,
    variable_permutation,
)

ORDERS = [lex, deglex, degrevlex]


def exponent_triples():
    """Three exponent vectors of one common length 1..4."""
    return st.integers(1, 4).flatmap(
        lambda n: st.tuples(*[st.lists(st.integers(0, 6), min_size=n, max_size=n)] * 3)
    )


@pytest.mark.parametrize("order", ORDERS, ids=str)
@given(abc=exponent_triples())
def test_admissible(order, abc):
    a, b, c = (tuple(v) for v in abc)
    one = (0,) * len(a)
    assert order.key(one) <= order.key(a)
    if order.key(a) < order.key(b):
        ac = tuple(x + z for x, z in zip(a, c, strict=True))
        bc = tuple(y + z for y, z in zip(b, c, strict=True))
        assert order.key(ac) < order.key(bc)
    # total: distinct monomials have distinct keys
    assert (order.key(a) == order.key(b)) == (a == b)


@pytest.mark.parametrize("order", ORDERS, ids=str)
@pytest.mark.parametrize("seed", range(6))
def test_argsort_agrees_with_sympy_monomial_key(order, seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 5))
    E = np.unique(rng.integers(0, 5, size=(40, n)), axis=0)
    E = E[rng.permutation(len(E))]
    expected = sorted(map(tuple, E.tolist()), key=monomial_key(order.alias))
    assert [tuple(r) for r in E[order.argsort(E)].tolist()] == expected
    assert sorted(map(tuple, E.tolist()), key=order.key) == expected
    E_sorted, perm = sort_terms(E, order)
    assert np.array_equal(E_sorted, E[perm])
    assert [tuple(r) for r in E_sorted.tolist()] == expected


@pytest.mark.parametrize("order", ORDERS, ids=str)
def test_is_degree_compatible_matches_definition(order):
    E = all_monomials(3, 4, "lex")
    degrees = E[order.argsort(E)].sum(axis=1)
    assert order.is_degree_compatible == bool(np.all(np.diff(degrees) >= 0))


def test_registry_and_aliases():
    assert grlex is deglex and grevlex is degrevlex
    assert get_term_order("grlex") is deglex
    assert get_term_order("GREVLEX") is degrevlex
    assert get_term_order(lex) is lex
    assert set(TERM_ORDERS) == {"lex", "deglex", "grlex", "degrevlex", "grevlex"}
    assert {o.alias for o in ORDERS} == {"lex", "grlex", "grevlex"}
    assert len({lex, deglex, degrevlex, grlex, TermOrder("lex", "lex")}) == 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        lex.name = "deglex"


def test_unknown_order_lists_supported_names():
    with pytest.raises(AlgebraError, match=r"order must be .*'lex'.*'grevlex'.*got 'revlex'"):
        get_term_order("revlex")
    with pytest.raises(AlgebraError, match=r"TermOrder name must be one of"):
        TermOrder("nope", "nope")


def test_argsort_rejects_negative_exponents():
    with pytest.raises(AlgebraError, match=r"non-negative exponents"):
        lex.argsort([[1, -1]])
    with pytest.raises(AlgebraError, match=r"non-integer entries"):
        lex.argsort([[0.5, 1.0]])


def test_pearson_permutation_against_corrcoef():
    rng = np.random.default_rng(0)
    base = rng.normal(size=(200, 1))
    X = np.hstack([base + 0.1 * rng.normal(size=(200, 1)), rng.normal(size=(200, 1)),
                   base, 2 * base + 0.5 * rng.normal(size=(200, 1))])
    score = np.abs(np.corrcoef(X, rowvar=False)).sum(axis=1)
    assert np.array_equal(variable_permutation(X, "pearson"), np.argsort(score))
    assert np.array_equal(variable_permutation(X, "rev_pearson"), np.argsort(-score))
    assert np.array_equal(variable_permutation(X, "identity"), np.arange(4))
    assert set(PERMUTATIONS) == {"identity", "pearson", "rev_pearson"}


def test_pearson_constant_column_counts_as_uncorrelated():
    rng = np.random.default_rng(1)
    a = rng.normal(size=50)
    X = np.column_stack([a, np.ones(50), a + 0.01 * rng.normal(size=50)])
    perm = variable_permutation(X, "pearson")
    assert perm[0] == 1  # score 0 < the two correlated columns' scores near 2


def test_permutation_errors():
    with pytest.raises(AlgebraError, match=r"strategy must be one of 'identity'.*got 'spearman'"):
        variable_permutation(np.ones((3, 2)), "spearman")
    with pytest.raises(AlgebraError, match=r"NaN or infinite"):
        variable_permutation(np.array([[0.0, np.nan]]), "pearson")
