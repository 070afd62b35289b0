"""PolynomialLayer: equivalence with algebra, the monomial chain, autograd, state, compile."""

import numpy as np
import pytest
import sympy
import torch
from hypothesis import given
from hypothesis import strategies as st

from algebra import PolynomialSet, all_monomials
from bridge import BridgeError, PolynomialLayer


def _random_set(rng, n_vars, max_degree, n_polys, density=0.6):
    """A PolynomialSet with random sparse float coefficients over all monomials ≤ max_degree."""
    terms = all_monomials(n_vars, max_degree, "deglex")
    shape = (len(terms), n_polys)
    coef = rng.standard_normal(shape) * (rng.random(shape) < density)
    coef[-1] = 1.0  # no identically zero polynomial
    return PolynomialSet(terms, coef, labels=np.arange(n_polys) % 3)


@given(
    seed=st.integers(0, 2**31 - 1),
    n_vars=st.integers(1, 4),
    max_degree=st.integers(0, 4),
    n_polys=st.integers(1, 5),
)
def test_float64_outputs_equal_algebra_evaluate(seed, n_vars, max_degree, n_polys):
    rng = np.random.default_rng(seed)
    polys = _random_set(rng, n_vars, max_degree, n_polys)
    X = rng.uniform(-1.5, 1.5, size=(17, n_vars))
    layer = PolynomialLayer.from_polynomials(polys, absolute=False, dtype=torch.float64)
    out = layer(torch.from_numpy(X)).detach().numpy()
    np.testing.assert_allclose(out, polys.evaluate(X), rtol=0, atol=1e-10)
    absolute = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    np.testing.assert_allclose(
        absolute(torch.from_numpy(X)).detach().numpy(), np.abs(polys.evaluate(X)), atol=1e-10
    )


def test_sparse_order_ideal_not_all_monomials():
    # A set whose terms are a proper order ideal (PolynomialSet adds the divisors).
    polys = PolynomialSet(
        [[0, 0, 0], [3, 0, 0], [1, 2, 0], [0, 0, 4]],
        np.array([[1.0, -2.0], [0.5, 0.0], [0.0, 3.0], [-1.0, 1.0]]),
    )
    layer = PolynomialLayer.from_polynomials(polys, absolute=False, dtype=torch.float64)
    assert layer.n_terms == polys.n_terms
    X = np.random.default_rng(1).uniform(-1, 1, (9, 3))
    np.testing.assert_allclose(
        layer(torch.from_numpy(X)).detach().numpy(), polys.evaluate(X), atol=1e-12
    )
    # The layer sorts the terms into degree levels; reading it back must undo that
    # exactly (a wrong level order would permute terms against their coefficients).
    back = layer.to_polynomials()
    assert back == polys
    assert np.array_equal(back.terms, polys.terms) and np.array_equal(back.coef, polys.coef)


def test_hand_built_chain_matches_direct_powers():
    # One output per monomial (identity coefficients): output j must be prod_k z_k**e_jk.
    terms = np.array(
        [[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [2, 0, 0], [1, 1, 0], [0, 1, 1],
         [3, 0, 0], [2, 1, 0], [4, 0, 0]]
    )
    t = len(terms)
    rng = np.random.default_rng(2)
    perm = rng.permutation(t)  # rows in any order: the layer sorts them into levels
    layer = PolynomialLayer(terms[perm], t, absolute=False, dtype=torch.float64)
    layer.set_coefficients(terms, np.eye(t))
    z = torch.from_numpy(rng.uniform(-2, 2, (11, 3)))
    direct = torch.stack([torch.prod(z ** torch.from_numpy(e), dim=1) for e in terms], dim=1)
    torch.testing.assert_close(layer(z), direct, rtol=1e-12, atol=1e-12)
    # The chain buffers encode terms[i] = terms[parent[i]] + e_var[i].
    E, parent, var = layer.terms, layer.parent, layer.var
    assert parent[0] == -1 and var[0] == -1
    for i in range(1, t):
        expected = E[parent[i]].clone()
        expected[var[i]] += 1
        assert torch.equal(E[i], expected) and parent[i] < i


def test_monomials_by_level_are_transposed_mu():
    polys = _random_set(np.random.default_rng(3), 3, 3, 2)
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    X = np.random.default_rng(4).uniform(-1, 1, (6, 3))
    mu = layer.monomials(torch.from_numpy(X)).numpy()
    # Same term order (deglex) on both sides, constant row excluded by the layer.
    np.testing.assert_allclose(mu.T, polys.monomials(X)[:, 1:], atol=1e-12)


def test_batch_dimensions_are_kept():
    layer = PolynomialLayer([[0, 0], [1, 0], [0, 1], [1, 1]], 3)
    z = torch.rand(2, 5, 2)
    out = layer(z)
    assert out.shape == (2, 5, 3)
    torch.testing.assert_close(out.reshape(10, 3), layer(z.reshape(10, 2)))


def test_autograd_matches_finite_differences():
    polys = _random_set(np.random.default_rng(5), 3, 3, 4)
    layer = PolynomialLayer.from_polynomials(polys, absolute=False, dtype=torch.float64)
    z = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(layer, (z,))
    # And the gradient in z equals algebra's analytic gradient (rows are independent,
    # so the Jacobian of the column sums holds every per-sample gradient).
    (jac,) = torch.autograd.functional.jacobian(lambda v: layer(v).sum(0), (z,))
    np.testing.assert_allclose(
        np.einsum("pmn->mpn", jac.detach().numpy()),
        polys.gradient(z.detach().numpy()),
        atol=1e-10,
    )
    # Gradients w.r.t. the coefficients too (the absolute value away from zero).
    absolute = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    z2 = torch.rand(5, 3, dtype=torch.float64)

    def f(values):
        # The dense matrix rebuilt here with numpy's indexing, not the layer's scatter.
        coef = torch.zeros(absolute.n_terms * absolute.out_features, dtype=values.dtype)
        coef = coef.index_put((absolute.support.long(),), values).view(absolute.n_terms, -1)
        return torch.addmm(coef[0], absolute.monomials(z2).t(), coef[1:]).abs()

    values = absolute.values.detach().clone().requires_grad_()
    assert torch.autograd.gradcheck(f, (values,))
    torch.testing.assert_close(f(values), absolute(z2))


def test_mask_is_kept_during_training():
    polys = _random_set(np.random.default_rng(6), 2, 3, 3, density=0.4)
    layer = PolynomialLayer.from_polynomials(polys)
    support = layer.mask.clone()
    opt = torch.optim.AdamW(layer.parameters(), lr=0.05, weight_decay=0.1)
    z = torch.rand(64, 2)
    target = torch.rand(64, 3)
    for _ in range(20):
        opt.zero_grad()
        torch.nn.functional.mse_loss(layer(z), target).backward()
        opt.step()
    assert torch.equal(layer.mask, support)
    assert torch.all(layer.masked_coef[~support] == 0)
    # Nothing is stored outside the mask: one trainable value per nonzero coefficient.
    assert sum(p.numel() for p in layer.parameters()) == int(support.sum()) == layer.nnz
    np.testing.assert_array_equal(np.flatnonzero(support.numpy()), layer.support.numpy())


def test_masked_coef_has_the_coef_layout_and_weight_is_its_deprecated_alias():
    polys = _random_set(np.random.default_rng(8), 2, 3, 4, density=0.5)
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    # (t, p): rows are the monomials, as in PolynomialSet.coef; nn.Linear.weight is (p, t).
    assert layer.masked_coef.shape == (layer.n_terms, layer.out_features)
    np.testing.assert_allclose(layer.masked_coef.detach().numpy(),
                               layer.to_polynomials().coef, rtol=0, atol=0)
    with pytest.warns(DeprecationWarning, match=r"PolynomialLayer\.weight is deprecated: it is "
                                                r"coef \* mask of shape \(t, p\)"):
        old = layer.weight
    assert torch.equal(old, layer.masked_coef)


def test_inference_weight_cache_follows_updates():
    polys = _random_set(np.random.default_rng(13), 2, 2, 2)
    layer = PolynomialLayer.from_polynomials(polys)
    z = torch.rand(10, 2)
    with torch.no_grad():
        first = layer(z)  # fills the cache
    opt = torch.optim.SGD(layer.parameters(), lr=0.5)
    layer(z).sum().backward()
    opt.step()
    with torch.inference_mode():
        after_step = layer(z)
    # Oracle: the same coefficients evaluated by algebra.
    expected = np.abs(layer.to_polynomials().evaluate(z.double().numpy()))
    np.testing.assert_allclose(after_step.numpy(), expected, rtol=1e-5, atol=1e-5)
    assert not torch.allclose(after_step, first)
    fresh = PolynomialLayer(layer.terms, 2)
    fresh.load_state_dict(layer.state_dict())
    with torch.no_grad():
        layer.load_state_dict(fresh.state_dict())  # in place: same result, cache refreshed
        torch.testing.assert_close(layer(z), fresh(z))


def test_sparse_inference_path_equals_dense():
    polys = _random_set(np.random.default_rng(14), 4, 3, 6, density=0.2)
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    z = torch.rand(9, 4, dtype=torch.float64)
    dense = layer(z)  # with autograd: always the dense product
    with torch.no_grad():
        assert layer._masked_weight()[1].layout == torch.strided  # small: dense inference
    layer.sparse_max_density, layer.sparse_min_terms = 1.0, 1  # force CSR at inference
    with torch.no_grad():
        sparse = layer(z)
        assert layer._masked_weight()[1].layout == torch.sparse_csr
    torch.testing.assert_close(sparse, dense.detach(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(sparse.numpy(), np.abs(polys.evaluate(z.numpy())), atol=1e-10)


def test_constant_layer_and_repeated_inference_calls():
    layer = PolynomialLayer([[0, 0]], 2)  # only the constant monomial
    with torch.no_grad():
        layer.values.copy_(torch.tensor([-2.0, 3.0]))
        first, second = layer(torch.rand(4, 2)), layer(torch.rand(4, 2))
    torch.testing.assert_close(first, torch.tensor([[2.0, 3.0]]).expand(4, 2))
    torch.testing.assert_close(second, first)
    assert torch.equal(layer.coef.detach(), torch.tensor([[-2.0, 3.0]]))  # cache untouched


def test_reset_parameters_respects_mask_and_fan_in():
    mask = np.zeros((6, 2), dtype=bool)
    mask[[0, 2, 5], 0] = True
    mask[:, 1] = True
    layer = PolynomialLayer(all_monomials(2, 2, "deglex"), 2, mask=mask)
    layer.reset_parameters()
    w = layer.coef.detach()
    assert torch.all(w[~layer.mask] == 0)
    assert w[:, 0].abs().max() <= 1 / np.sqrt(3) and w[:, 1].abs().max() <= 1 / np.sqrt(6)


def test_factory_kwargs_and_extra_repr():
    layer = PolynomialLayer(all_monomials(3, 2, "deglex"), 4, dtype=torch.float64, device="cpu")
    assert layer.coef.dtype == torch.float64 and layer.coef.device.type == "cpu"
    assert layer.terms.dtype == torch.int64
    assert layer(torch.rand(2, 3, dtype=torch.float64)).dtype == torch.float64
    text = repr(layer)
    assert "in_features=3" in text and "out_features=4" in text and "n_terms=10" in text
    assert "max_degree=2" in text and "nnz=40/40" in text and "absolute=True" in text
    sparse = PolynomialLayer([[0], [1]], 2, mask=[[True, False], [True, True]], absolute=False)
    assert "nnz=3/4" in repr(sparse) and "absolute=False" in repr(sparse)
    layer.to(torch.float32)
    assert layer.coef.dtype == torch.float32 and layer._level2_parent.dtype == torch.int64


def test_state_dict_round_trip():
    polys = _random_set(np.random.default_rng(7), 3, 3, 4)
    layer = PolynomialLayer.from_polynomials(polys)
    state = layer.state_dict()
    assert set(state) == {"values", "support", "terms", "parent", "var", "labels"}
    # Compact: one float per nonzero coefficient, its int32 position beside it.
    nnz = int((polys.coef != 0).sum())
    assert state["values"].shape == (nnz,) and state["support"].dtype == torch.int32
    fresh = PolynomialLayer(layer.terms, 4)
    fresh.load_state_dict(state)
    z = torch.rand(8, 3)
    assert torch.equal(fresh(z), layer(z))
    assert torch.equal(fresh.labels, torch.tensor([0, 1, 2, 0]))  # np.arange(4) % 3
    assert fresh.to_polynomials() == layer.to_polynomials()
    # A state with another chain of the same size ({1, x, y, y²} into {1, x, y, x²}):
    # the per-degree gathers are rebuilt from the loaded terms, so the loaded layer
    # computes the loaded polynomials, checked against algebra's evaluation.
    x, y = sympy.symbols("x y")
    source = PolynomialLayer.from_sympy([y**2 - x + 2, 3 * y - 1], [x, y], absolute=False,
                                        dtype=torch.float64)
    target = PolynomialLayer.from_sympy([x**2 + y, x - y], [x, y], absolute=False,
                                        dtype=torch.float64)
    target.load_state_dict(source.state_dict())
    pts = torch.rand(6, 2, dtype=torch.float64)
    np.testing.assert_allclose(target(pts).detach().numpy(),
                               source.to_polynomials().evaluate(pts.numpy()), atol=1e-12)


def test_loads_a_dense_state_of_the_previous_format():
    # Files written before the compact storage hold a dense coef and a bool mask.
    polys = _random_set(np.random.default_rng(12), 3, 3, 4, density=0.5)
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    state = {k: v for k, v in layer.state_dict().items() if k not in ("values", "support")}
    state["coef"] = layer.coef.detach() + 7.0 * ~layer.mask  # junk outside the mask
    state["mask"] = layer.mask
    fresh = PolynomialLayer(layer.terms, 4, dtype=torch.float64)
    fresh.load_state_dict(state)
    z = torch.rand(5, 3, dtype=torch.float64)
    torch.testing.assert_close(fresh(z), layer(z))
    assert torch.equal(fresh.mask, layer.mask) and fresh.nnz == layer.nnz


def test_to_polynomials_round_trip():
    polys = _random_set(np.random.default_rng(8), 2, 3, 3)
    back = PolynomialLayer.from_polynomials(polys, dtype=torch.float64).to_polynomials()
    X = np.random.default_rng(9).uniform(-1, 1, (5, 2))
    np.testing.assert_allclose(back.evaluate(X), polys.evaluate(X), atol=1e-12)
    np.testing.assert_array_equal(back.labels, polys.labels)


def test_feature_scale_gives_unit_rms():
    polys = _random_set(np.random.default_rng(10), 2, 2, 3)
    layer = PolynomialLayer.from_polynomials(polys, dtype=torch.float64)
    z = torch.rand(50, 2, dtype=torch.float64)
    layer.feature_scale_(z)
    torch.testing.assert_close(layer(z).pow(2).mean(0).sqrt(), torch.ones(3, dtype=torch.float64))


def test_from_sympy_matches_sympy_evaluation():
    x, y, w = sympy.symbols("x y w")
    exprs = [x**2 + y**2 - 1, (x - y) * (x + 2 * w) + sympy.Rational(1, 3), 4 * w**3]
    layer = PolynomialLayer.from_sympy(exprs, [x, y, w], absolute=False, dtype=torch.float64)
    assert layer.in_features == 3 and layer.out_features == 3
    pts = np.random.default_rng(11).uniform(-1, 1, (6, 3))
    expected = np.array(
        [[float(e.subs({x: a, y: b, w: c})) for e in exprs] for a, b, c in pts]
    )
    np.testing.assert_allclose(layer(torch.from_numpy(pts)).detach().numpy(), expected, atol=1e-12)


def test_compile_fullgraph_matches_eager():
    polys = _random_set(np.random.default_rng(12), 3, 3, 4)
    layer = PolynomialLayer.from_polynomials(polys)
    # aot_eager: the full dynamo capture and AOT autograd, without the C++ codegen of
    # inductor (tens of seconds on a cold cache); the benchmark uses inductor.
    compiled = torch.compile(layer, fullgraph=True, backend="aot_eager")
    z = torch.rand(16, 3)
    torch.testing.assert_close(compiled(z), layer(z), rtol=1e-5, atol=1e-6)
    z.requires_grad_(True)
    (g_compiled,) = torch.autograd.grad(compiled(z).sum(), z)
    (g_eager,) = torch.autograd.grad(layer(z).sum(), z)
    torch.testing.assert_close(g_compiled, g_eager, rtol=1e-5, atol=1e-6)


def test_bad_terms_and_shapes():
    with pytest.raises(BridgeError, match="terms is not an order ideal"):
        PolynomialLayer([[0, 0], [2, 0]], 1)
    with pytest.raises(BridgeError, match="non-negative exponents"):
        PolynomialLayer([[0, 0], [-1, 0]], 1)
    with pytest.raises(BridgeError, match="non-empty 2-D exponent matrix"):
        PolynomialLayer(np.zeros((0, 2), dtype=int), 1)
    with pytest.raises(BridgeError, match="integer exponents"):
        PolynomialLayer([[0.0, 0.0], [0.5, 0.0]], 1)
    with pytest.raises(BridgeError, match="repeated rows"):
        PolynomialLayer([[0, 0], [0, 0]], 1)
    with pytest.raises(BridgeError, match="out_features must be a positive integer"):
        PolynomialLayer([[0, 0], [1, 0]], 0)
    with pytest.raises(BridgeError, match=r"mask must have shape \(n_terms, out_features\)"):
        PolynomialLayer([[0, 0], [1, 0]], 2, mask=np.ones((2, 3), bool))
    with pytest.raises(BridgeError, match="labels must have one entry per output"):
        PolynomialLayer([[0, 0], [1, 0]], 2, labels=[0])
    with pytest.raises(BridgeError, match=r"polys must be an algebra\.PolynomialSet"):
        PolynomialLayer.from_polynomials("x**2")  # type: ignore[arg-type]
    layer = PolynomialLayer([[0, 0], [1, 0]], 1)
    with pytest.raises(BridgeError, match=r"\[0, 1\], which is not a monomial of this layer"):
        layer.set_coefficients([[0, 1]], [[1.0]])
    with pytest.raises(BridgeError, match=r"coef must have shape \(1, 1\)"):
        layer.set_coefficients([[1, 0]], [[1.0, 2.0]])


def test_bad_inputs_and_coefficients():
    layer = PolynomialLayer([[0, 0], [1, 0], [0, 1], [1, 1]], 2)
    # A third column would be silently ignored by the monomial gathers.
    with pytest.raises(BridgeError, match=r"z must be a tensor of shape \(\.\.\., 2\).*\(5, 3\)"):
        layer(torch.rand(5, 3))
    with pytest.raises(BridgeError, match=r"got \(5, 3\)"):
        layer(torch.rand(5, 3, requires_grad=True))
    with pytest.raises(BridgeError, match=r"z must be a tensor.*got ndarray"):
        layer(np.ones((5, 2), np.float32))  # type: ignore[arg-type]
    with pytest.raises(BridgeError, match=r"z has dtype torch.float64 but the layer's "
                                          r"coefficients are torch.float32.*layer.to"):
        layer(torch.rand(5, 2, dtype=torch.float64))
    with pytest.raises(BridgeError, match=r"z has dtype torch\.int64"):
        layer(torch.ones(5, 2, dtype=torch.int64))
    before = layer.coef.detach().clone()
    with pytest.raises(BridgeError, match=r"coef holds a non-finite value \(nan at row 0, "
                                          r"column 1\)"):
        layer.set_coefficients([[0, 0]], [[1.0, np.nan]])
    with pytest.raises(BridgeError, match=r"non-finite value \(inf at row 1, column 0\)"):
        layer.set_coefficients([[0, 0], [1, 1]], [[1.0, 1.0], [np.inf, 0.0]])
    assert torch.equal(layer.coef, before)  # a refused update changes nothing
    # Under autocast a half-precision input is expected, not an error.
    z = torch.rand(5, 2)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = layer(z.bfloat16())
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), layer(z), rtol=0.02, atol=0.02)
    # The check is on the last axis only: extra batch axes and one sample stay valid.
    z = torch.rand(3, 4, 2)
    torch.testing.assert_close(layer(z), layer(z.reshape(-1, 2)).reshape(3, 4, 2))
    torch.testing.assert_close(layer(z[0, 0]), layer(z[0, :1])[0])
