"""neural's preprocessing modules: fitted by scikit-learn, applied by torch.

The fits are scikit-learn's estimators, so what needs testing is that the torch
modules carry them over: on data the fit never saw (including values outside the
fitted range), each module reproduces the estimator's ``transform`` to float32
precision, with every option passed through; the buffers survive ``state_dict``.
"""

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from neural import (
    PCA,
    SCALERS,
    SCALINGS,
    MinMaxScale,
    NeuralError,
    Standardize,
    TanhScale,
    make_preprocessing,
)


def correlated(rng, n, d=12):
    mix = np.random.default_rng(0).normal(size=(d, d))  # one mixing for train and test
    return rng.normal(size=(n, d)) @ mix + np.arange(d)


@pytest.fixture(scope="module")
def latents():
    X = correlated(np.random.default_rng(1), 200)
    X[:, 3] = 2.5  # a constant feature: its scale falls back to 1 (scikit-learn's rule)
    return X


@pytest.fixture(scope="module")
def new_data():
    """Unseen samples from the same distribution, some far outside the fitted range."""
    X = correlated(np.random.default_rng(2), 50)
    X[:10] *= 3.0
    return X


@pytest.fixture(scope="module")
def large():
    """Low rank plus noise, 510 x 80: large enough for scikit-learn's randomized solver."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(610, 6)) @ rng.normal(size=(6, 80)) + 0.01 * rng.normal(size=(610, 80))
    return X[:510], X[510:]


def f32(x):
    return torch.tensor(x, dtype=torch.float32)


def assert_float32_close(ours, reference):
    """float32 output against scikit-learn's float64 one: a few float32 ulps of the scale."""
    assert ours.dtype == torch.float32
    scale = max(1.0, float(np.abs(reference).max()))
    np.testing.assert_allclose(ours.detach().numpy(), reference, rtol=1e-5, atol=1e-5 * scale)


@pytest.mark.parametrize("k", [1, 4, 11, 0.9, None])
def test_pca_reproduces_sklearn_on_new_data(latents, new_data, k):
    ours = PCA(k, svd_solver="full").fit(latents)
    sk = SkPCA(k, svd_solver="full").fit(latents)
    assert ours.components_.shape == sk.components_.shape  # the fraction 0.9 picks the same k
    assert_float32_close(ours(f32(new_data)), sk.transform(new_data))


@pytest.mark.parametrize("solver", ["randomized", "auto"])
def test_pca_solvers_and_their_options_reach_sklearn(large, solver):
    train, test = large
    options = {"n_oversamples": 3, "n_iter": 1, "random_state": 5}
    ours = PCA(5, svd_solver=solver, **options).fit(train)
    sk = SkPCA(5, svd_solver=solver, n_oversamples=3, iterated_power=1, random_state=5)
    assert_float32_close(ours(f32(test)), sk.fit(train).transform(test))
    # The randomized solver finds the dominant subspace: the same axes as the full SVD
    # up to each axis's sign, which scikit-learn fixes the same way for both.
    full = SkPCA(5, svd_solver="full").fit(train)
    np.testing.assert_allclose(ours.components_.double().numpy(), full.components_, atol=1e-4)


def test_scalers_reproduce_sklearn_on_new_data(latents, new_data):
    X = f32(new_data)
    assert_float32_close(Standardize().fit(latents)(X),
                         StandardScaler().fit(latents).transform(new_data))
    assert_float32_close(MinMaxScale().fit(latents)(X),
                         MinMaxScaler((-1, 1)).fit(latents).transform(new_data))
    # Another range, clipped: out-of-range samples land on its ends, as in scikit-learn.
    clipped = MinMaxScale((0, 2), clip=True).fit(latents)(X)
    assert_float32_close(clipped, MinMaxScaler((0, 2), clip=True).fit(latents).transform(new_data))
    assert float(clipped.min()) == 0.0 and float(clipped.max()) == 2.0
    # tanh of the standardised value: strictly inside (-1, 1) even far outside the range.
    tanh = TanhScale(alpha=0.5).fit(latents)(X)
    assert_float32_close(tanh, np.tanh(0.5 * StandardScaler().fit(latents).transform(new_data)))
    assert float(TanhScale().fit(latents)(X * 100).abs().max()) <= 1.0


def test_float64_buffers_keep_sklearn_precision(latents, new_data):
    pca = PCA(4, svd_solver="full", dtype=torch.float64).fit(latents)
    assert pca.components_.dtype == torch.float64
    np.testing.assert_allclose(pca(torch.from_numpy(new_data)).numpy(),
                               SkPCA(4, svd_solver="full").fit(latents).transform(new_data),
                               rtol=1e-10, atol=1e-10)


def test_make_preprocessing_is_the_sklearn_pipeline_on_new_data(latents, new_data):
    seq = make_preprocessing(latents, n_components=4, scaling="minmax", svd_solver="full")
    assert [name for name, _ in seq.named_children()] == ["pca", "scale"]
    ref = make_pipeline(SkPCA(4, svd_solver="full"), MinMaxScaler((-1, 1))).fit(latents)
    out = seq(f32(new_data))
    assert out.shape == (50, 4)
    assert_float32_close(out, ref.transform(new_data))
    # A fresh, unfitted Sequential of the same steps loads the fitted state.
    fresh = torch.nn.Sequential()
    fresh.add_module("pca", PCA())
    fresh.add_module("scale", MinMaxScale())
    fresh.load_state_dict(seq.state_dict())
    torch.testing.assert_close(fresh(f32(new_data)), out)
    identity = make_preprocessing(latents, scaling=None)  # no PCA, no scaling
    assert len(identity) == 0
    only_scale = make_preprocessing(latents, scaling="standard")
    assert_float32_close(only_scale(f32(new_data)),
                         StandardScaler().fit(latents).transform(new_data))


def test_scaling_names():
    assert SCALINGS == (*SCALERS, None)
    assert SCALERS == {"minmax": MinMaxScale, "tanh": TanhScale, "standard": Standardize}


def test_preprocessing_errors(latents):
    with pytest.raises(NeuralError, match=r"PCA is not fitted yet; call \.fit\(latents\) first"):
        PCA(2)(torch.zeros(3, 12))
    with pytest.raises(NeuralError, match=r"fitted on 12 features but got input of shape \(3, 5\)"):
        Standardize().fit(latents)(torch.zeros(3, 5))
    with pytest.raises(
        NeuralError, match=r"n_components=13 must be an int in \[1, min\(N, D\)\] = \[1, 12\]"
    ):
        PCA(13).fit(latents)
    with pytest.raises(NeuralError, match=r"n_components=0\.5 as a variance fraction needs "
                                          r"svd_solver='full'"):
        PCA(0.5, svd_solver="randomized").fit(latents)
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


def test_input_is_cast_to_the_buffer_dtype(latents, new_data):
    mm = MinMaxScale().fit(latents)  # float32 buffers
    out = mm(torch.from_numpy(new_data))  # float64 input
    assert_float32_close(out, MinMaxScaler((-1, 1)).fit(latents).transform(new_data))
    pca = PCA(3).fit(latents)
    torch.testing.assert_close(pca(torch.from_numpy(new_data)), pca(f32(new_data)))
