"""neural preprocessing modules against scikit-learn and numpy re-computations."""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from neural import PCA, MinMaxScale, NeuralError, Standardize, TanhScale, make_preprocessing


@pytest.fixture(scope="module")
def latents():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 12)) @ rng.normal(size=(12, 12)) + rng.normal(size=12)
    X[:, 3] = 2.5  # a constant feature: scale must fall back to 1, as in scikit-learn
    return X


@pytest.fixture(scope="module")
def large():
    """Low rank plus noise, over 500 samples: 'auto' takes the randomized SVD."""
    rng = np.random.default_rng(1)
    noise = 0.01 * rng.normal(size=(510, 80))
    return rng.normal(size=(510, 6)) @ rng.normal(size=(6, 80)) + noise


def t64(x):
    return torch.tensor(x, dtype=torch.float64)


@pytest.mark.parametrize("k", [1, 4, 11])
def test_pca_full_equals_sklearn(latents, k):
    ours = PCA(k, svd_solver="full", dtype=torch.float64).fit(latents)
    sk = SkPCA(k, svd_solver="full").fit(latents)
    # Same sign convention (svd_flip on the rows of Vt), so no sign ambiguity remains.
    np.testing.assert_allclose(ours.components_.numpy(), sk.components_, atol=1e-10)
    np.testing.assert_allclose(ours.mean_.numpy(), sk.mean_, atol=1e-12)
    np.testing.assert_allclose(ours.explained_variance_.numpy(), sk.explained_variance_, rtol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_.numpy(), sk.explained_variance_ratio_, rtol=1e-10
    )
    np.testing.assert_allclose(ours(t64(latents)).numpy(), sk.transform(latents), atol=1e-9)


@pytest.mark.parametrize("fraction", [0.5, 0.9, 0.999])
def test_pca_variance_fraction_equals_sklearn(latents, fraction):
    ours = PCA(fraction, dtype=torch.float64).fit(latents)
    sk = SkPCA(fraction, svd_solver="full").fit(latents)
    assert ours.components_.shape == sk.components_.shape
    # the smallest k whose cumulative ratio reaches the fraction (independent count)
    cumulative = np.cumsum(sk.explained_variance_ratio_)
    assert cumulative[-1] >= fraction and (len(cumulative) == 1 or cumulative[-2] < fraction)
    np.testing.assert_allclose(ours.components_.numpy(), sk.components_, atol=1e-10)
    np.testing.assert_allclose(
        ours.explained_variance_ratio_.numpy(), sk.explained_variance_ratio_, rtol=1e-10
    )


def test_randomized_pca_matches_sklearn_on_a_large_low_rank_set(large):
    ours = PCA(5, dtype=torch.float64).fit(large)  # auto -> randomized here
    sk = SkPCA(5, svd_solver="full").fit(large)
    np.testing.assert_allclose(ours.components_.numpy(), sk.components_, atol=1e-6)
    np.testing.assert_allclose(ours(t64(large)).numpy(), sk.transform(large), atol=1e-5)
    # Seeded: refitting gives the same axes, and the global RNG is not touched.
    state = torch.random.get_rng_state()
    again = PCA(5, svd_solver="randomized", dtype=torch.float64).fit(large)
    assert torch.equal(torch.random.get_rng_state(), state)
    np.testing.assert_allclose(again.components_.numpy(), ours.components_.numpy(), atol=1e-12)


def test_scalers_equal_sklearn(latents):
    X = t64(latents)
    std = Standardize(dtype=torch.float64).fit(latents)
    np.testing.assert_allclose(std(X).numpy(), StandardScaler().fit_transform(latents), atol=1e-10)
    mm = MinMaxScale(dtype=torch.float64).fit(latents)
    ref = MinMaxScaler(feature_range=(-1, 1)).fit(latents)
    np.testing.assert_allclose(mm(X).numpy(), ref.transform(latents), atol=1e-12)
    np.testing.assert_allclose(mm.scale_.numpy(), ref.scale_, rtol=1e-12)
    np.testing.assert_allclose(mm.min_.numpy(), ref.min_, atol=1e-12)
    # Out-of-range input: linear beyond the range, or clipped.
    clip = MinMaxScale((0, 2), clip=True, dtype=torch.float64).fit(latents)
    ref02 = MinMaxScaler(feature_range=(0, 2), clip=True).fit(latents)
    np.testing.assert_allclose(clip(X * 3).numpy(), ref02.transform(latents * 3), atol=1e-12)


def test_tanh_scale_equals_numpy(latents):
    ts = TanhScale(alpha=0.5, dtype=torch.float64).fit(latents)
    std = latents.std(0)
    std[std < 1e-12] = 1.0
    expected = np.tanh(0.5 * (latents - latents.mean(0)) / std)
    np.testing.assert_allclose(ts(t64(latents)).numpy(), expected, atol=1e-12)
    assert float(ts(t64(latents * 100)).abs().max()) <= 1.0


def test_make_preprocessing_composes_and_round_trips(latents):
    seq = make_preprocessing(latents, n_components=4, scaling="minmax")
    assert [name for name, _ in seq.named_children()] == ["pca", "scale"]
    Z = seq(torch.tensor(latents, dtype=torch.float32))
    assert Z.dtype == torch.float32 and Z.shape == (200, 4)
    # Oracle: scikit-learn's pipeline of the same steps.
    ref = MinMaxScaler((-1, 1)).fit_transform(SkPCA(4, svd_solver="full").fit_transform(latents))
    np.testing.assert_allclose(Z.numpy(), ref, atol=1e-5)
    # A fresh, unfitted Sequential of the same steps loads the fitted state.
    fresh = torch.nn.Sequential()
    fresh.add_module("pca", PCA())
    fresh.add_module("scale", MinMaxScale())
    fresh.load_state_dict(seq.state_dict())
    torch.testing.assert_close(fresh(torch.tensor(latents, dtype=torch.float32)), Z)
    identity = make_preprocessing(latents, scaling=None)  # no PCA, no scaling
    assert len(identity) == 0
    assert torch.equal(identity(t64(latents)), t64(latents))
    only_scale = make_preprocessing(latents, scaling="standard")
    np.testing.assert_allclose(
        only_scale(t64(latents).float()).numpy(), StandardScaler().fit_transform(latents), atol=1e-5
    )


def test_preprocessing_errors(latents):
    with pytest.raises(NeuralError, match=r"PCA is not fitted yet; call \.fit\(latents\) first"):
        PCA(2)(torch.zeros(3, 12))
    with pytest.raises(NeuralError, match=r"fitted on 12 features but got input of shape \(3, 5\)"):
        Standardize().fit(latents)(torch.zeros(3, 5))
    with pytest.raises(
        NeuralError, match=r"n_components=13 must be an int in \[1, min\(N, D\)\] = \[1, 12\]"
    ):
        PCA(13).fit(latents)
    with pytest.raises(NeuralError, match=r"latents contain NaN or infinite values"):
        MinMaxScale().fit(np.array([[0.0, np.nan]]))
    with pytest.raises(NeuralError, match=r"latents must have shape \(N, D\)"):
        TanhScale().fit(np.zeros(5))
    with pytest.raises(
        NeuralError, match=r"feature_range=\(1, 0\) must be \(low, high\) with low < high"
    ):
        MinMaxScale((1, 0))
    with pytest.raises(NeuralError, match=r"scaling='robust' is not one of"):
        make_preprocessing(latents, scaling="robust")
    with pytest.raises(NeuralError, match=r"svd_solver='arpack' is not one of"):
        PCA(2, svd_solver="arpack")
    with pytest.raises(NeuralError, match=r"PCA takes a torch\.Tensor of shape \(\.\.\., 12\), "
                                          r"got ndarray"):
        PCA(2).fit(latents)(latents)
    with pytest.raises(NeuralError, match=r"alpha='1' must be a positive number"):
        TanhScale("1")
    with pytest.raises(NeuralError, match=r"feature_range=\(0, 1, 2\) must be \(low, high\)"):
        MinMaxScale((0, 1, 2))


def test_input_is_cast_to_the_buffer_dtype(latents):
    mm = MinMaxScale().fit(latents)  # float32 buffers
    out = mm(t64(latents))
    assert out.dtype == torch.float32
    np.testing.assert_allclose(
        out.numpy(), MinMaxScaler((-1, 1)).fit_transform(latents), atol=1e-5
    )
    pca = PCA(3).fit(latents)
    torch.testing.assert_close(pca(t64(latents)), pca(t64(latents).float()))
