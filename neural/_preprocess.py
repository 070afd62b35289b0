"""Preprocessing of latent features as torch modules: PCA and scalings to [-1, 1].

VI-Net (Pelleriti et al., ICML 2025, Sec. 4) reduces the pooled latents with PCA and
scales them to ``[-1, 1]`` before fitting vanishing ideals: the generators' monomials
stay bounded there, so OAVI's tolerance ψ means the same thing for every feature.
Each step here is an ``nn.Module`` whose fitted statistics are buffers, so the fitted
preprocessing is part of the network: it moves with ``.to(device)``, is saved in
``state_dict`` and runs inside ``nn.Sequential``.  The fits *are* scikit-learn's
(:class:`~sklearn.decomposition.PCA`, :class:`~sklearn.preprocessing.StandardScaler`,
:class:`~sklearn.preprocessing.MinMaxScaler`, in float64): each ``fit`` runs the
estimator and copies its fitted arrays into the buffers; only the forward maps (an
affine map, and ``tanh``) are written here, in torch.
"""

from __future__ import annotations

import abc
from collections import OrderedDict
from typing import Any, TypeVar

import numpy as np
import torch
from sklearn.decomposition import PCA as SkPCA
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from torch import nn

from neural._errors import NeuralError

_Module = TypeVar("_Module", bound="_Fitted")


def _as_latents(latents: Any, name: str = "latents") -> np.ndarray:
    """Validate ``latents`` as a finite ``(N, D)`` array; return it as float64 numpy.

    scikit-learn does the fits, on the CPU, in float64.
    """
    try:
        x = torch.as_tensor(
            np.asarray(latents) if not isinstance(latents, torch.Tensor) else latents
        )
    except (TypeError, ValueError) as exc:
        raise NeuralError(
            f"{name} must be an array of shape (N, D); got {type(latents).__name__}."
        ) from exc
    if x.dim() != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise NeuralError(
            f"{name} must have shape (N, D) with N, D >= 1, got {tuple(x.shape)}; pool the "
            "activations first (neural.pool / extract_latents)."
        )
    x = x.detach().cpu().to(torch.float64)
    if not torch.isfinite(x).all():
        raise NeuralError(
            f"{name} contain NaN or infinite values; remove or impute them before fitting."
        )
    return x.numpy()


class _Fitted(nn.Module, abc.ABC):
    """Base: a scikit-learn fit copied into buffers, and a torch forward map.

    A subclass names its buffers after the fitted attributes of the estimator that
    :meth:`_estimator` returns (``mean_``, ``components_``, ``scale_``, ...) and
    implements the map in :meth:`_map`.  The buffers are empty until :meth:`fit` and
    resize on ``load_state_dict``.
    """

    _buffer_names: tuple[str, ...] = ()

    def __init__(self, device: Any = None, dtype: torch.dtype | None = None) -> None:
        super().__init__()
        factory = {"device": device, "dtype": dtype or torch.get_default_dtype()}
        for name in self._buffer_names:
            self.register_buffer(name, torch.empty(0, **factory))

    @property
    def is_fitted(self) -> bool:
        """Whether :meth:`fit` (or ``load_state_dict`` of a fitted module) has run."""
        return getattr(self, self._buffer_names[0]).numel() > 0

    @property
    def n_features_in_(self) -> int:
        """Width ``D`` of the latents the module was fitted on."""
        return int(getattr(self, self._buffer_names[0]).shape[-1])

    @abc.abstractmethod
    def _estimator(self, n_samples: int, n_features: int) -> Any:
        """The unfitted scikit-learn estimator, for data of this shape."""

    @abc.abstractmethod
    def _map(self, x: torch.Tensor) -> torch.Tensor:
        """The fitted map on a validated input in the buffers' dtype."""

    def fit(self: _Module, latents: Any) -> _Module:
        """Fit the module's scikit-learn estimator (see the class) on ``latents``.

        The estimator runs in float64 on the CPU; its fitted arrays are copied into
        the buffers of the same names, in the buffers' device and dtype.

        Parameters
        ----------
        latents : array or Tensor of shape (N, D)
            Finite latent features, one sample per row.

        Returns
        -------
        self
            The module, fitted.
        """
        x = _as_latents(latents)
        fitted = self._estimator(*x.shape).fit(x)
        ref = getattr(self, self._buffer_names[0])
        for name in self._buffer_names:
            value = torch.as_tensor(np.ascontiguousarray(getattr(fitted, name)))
            setattr(self, name, value.to(device=ref.device, dtype=ref.dtype).contiguous())
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the fitted map (see the class) to ``x``.

        Parameters
        ----------
        x : Tensor of shape (..., D)
            Latents with the fitted width ``D``; cast to the buffers' dtype.

        Returns
        -------
        Tensor of shape (..., k)
            ``k = D`` for the scalings, the number of components for :class:`PCA`.
        """
        return self._map(self._check_input(x))

    def _load_from_state_dict(
        self, state_dict, prefix, local_metadata, strict, missing, unexpected, errors
    ):
        # An unfitted module has empty buffers; take the saved shapes so that a fresh
        # ``PCA()`` can load a fitted one's state_dict.
        for name in self._buffer_names:
            key = prefix + name
            if key in state_dict:
                buf = getattr(self, name)
                setattr(
                    self,
                    name,
                    torch.empty_like(state_dict[key], device=buf.device, dtype=buf.dtype),
                )
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing, unexpected, errors
        )

    def _check_input(self, x: torch.Tensor) -> torch.Tensor:
        """Validate ``x`` (..., D) and return it in the buffers' dtype.

        Casting (rather than failing on a dtype mismatch) keeps the module usable on
        float64 arrays and on the low-precision output of an autocast backbone.
        """
        if not self.is_fitted:
            raise NeuralError(
                f"This {type(self).__name__} is not fitted yet; call .fit(latents) first."
            )
        if not isinstance(x, torch.Tensor):
            raise NeuralError(
                f"{type(self).__name__} takes a torch.Tensor of shape (..., "
                f"{self.n_features_in_}), got {type(x).__name__}; wrap arrays with "
                "torch.as_tensor."
            )
        if x.shape[-1] != self.n_features_in_:
            raise NeuralError(
                f"{type(self).__name__} was fitted on {self.n_features_in_} features but got input "
                f"of shape {tuple(x.shape)}; pass (N, {self.n_features_in_}) latents."
            )
        return x.to(getattr(self, self._buffer_names[0]).dtype)


class PCA(_Fitted):
    """Principal component analysis as a module: ``z = (x - mean_) @ components_.T``.

    Fitted by :class:`sklearn.decomposition.PCA`, whose fitted arrays become the buffers.

    Parameters
    ----------
    n_components : int, float or None, default=None
        Components kept: an int ``k``; a float in ``(0, 1)`` for the smallest ``k``
        whose explained variance ratio reaches it (full SVD only); ``None`` for all
        ``min(N, D)``.
    svd_solver : {"auto", "full", "randomized"}, default="auto"
        The solver of :class:`sklearn.decomposition.PCA`, which does the fit:
        ``"full"`` is LAPACK's SVD, ``"randomized"`` the randomized SVD (Halko,
        Martinsson & Tropp 2011) for large latents, ``"auto"`` scikit-learn's choice
        by the shape of the data.
    n_oversamples, n_iter : int, default=10, 4
        Randomized SVD: extra random directions and power iterations (scikit-learn's
        ``n_oversamples`` and ``iterated_power``).
    random_state : int, default=0
        Seeds the randomized SVD (scikit-learn's numpy generator; torch's global RNG is
        not used).
    device, dtype : optional
        Of the buffers (default float32); the fit itself runs in float64.

    Attributes
    ----------
    mean_ : Tensor of shape (D,)
    components_ : Tensor of shape (k, D)
        Principal axes, rows orthonormal, with scikit-learn's sign convention
        (``svd_flip(u_based_decision=False)``: the largest-magnitude entry of each row
        is positive), for every solver.
    explained_variance_ : Tensor of shape (k,)
        Variance along each axis (with ``N - 1`` in the denominator).
    explained_variance_ratio_ : Tensor of shape (k,)

    Notes
    -----
    Input ``(..., D)``, output ``(..., k)``.
    """

    _buffer_names = ("mean_", "components_", "explained_variance_", "explained_variance_ratio_")

    def __init__(
        self,
        n_components: int | float | None = None,
        *,
        svd_solver: str = "auto",
        n_oversamples: int = 10,
        n_iter: int = 4,
        random_state: int = 0,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(device, dtype)
        if svd_solver not in ("auto", "full", "randomized"):
            raise NeuralError(
                f"svd_solver={svd_solver!r} is not one of ('auto', 'full', 'randomized'); "
                "pass one of them."
            )
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.n_oversamples = n_oversamples
        self.n_iter = n_iter
        self.random_state = random_state

    def _n_components(self, n: int, d: int) -> int | float:
        k = self.n_components
        if k is None:
            return min(n, d)
        if isinstance(k, float) and 0 < k < 1:
            return k
        if isinstance(k, (int, np.integer)) and not isinstance(k, bool) and 1 <= k <= min(n, d):
            return int(k)
        raise NeuralError(
            f"n_components={k!r} must be an int in [1, min(N, D)] = [1, {min(n, d)}], a float in "
            "(0, 1) or None; pass fewer components or more samples."
        )

    def _estimator(self, n_samples: int, n_features: int) -> SkPCA:
        k = self._n_components(n_samples, n_features)
        if self.svd_solver == "randomized" and not isinstance(k, int):
            raise NeuralError(
                f"n_components={k!r} as a variance fraction needs svd_solver='full'; pass an int "
                "or svd_solver='full'."
            )
        return SkPCA(k, svd_solver=self.svd_solver, n_oversamples=self.n_oversamples,
                     iterated_power=self.n_iter, random_state=self.random_state)

    def _map(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean_) @ self.components_.T

    def extra_repr(self) -> str:
        """Input width and number of components (or that the module is not fitted)."""
        if not self.is_fitted:
            return f"n_components={self.n_components}, not fitted"
        return f"in_features={self.n_features_in_}, n_components={self.components_.shape[0]}"


class Standardize(_Fitted):
    """Standardisation: ``z = (x - mean_) / scale_``.

    Fitted by :class:`sklearn.preprocessing.StandardScaler`: ``scale_`` is the
    population standard deviation (``ddof=0``); a constant feature gets scale 1.

    Parameters
    ----------
    device, dtype : optional
        Of the buffers ``mean_`` and ``scale_``, each of shape (D,).

    Notes
    -----
    Input ``(..., D)``, output ``(..., D)``.
    """

    _buffer_names = ("mean_", "scale_")

    def _estimator(self, n_samples: int, n_features: int) -> StandardScaler:
        return StandardScaler()

    def _map(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean_) / self.scale_


class MinMaxScale(_Fitted):
    """Min-max scaling to ``feature_range``: ``z = x * scale_ + min_``, by default onto
    ``[-1, 1]``, fitted by :class:`sklearn.preprocessing.MinMaxScaler`.

    Parameters
    ----------
    feature_range : tuple (low, high), default=(-1.0, 1.0)
        The interval the fitted minimum and maximum of each feature map to.
    clip : bool, default=False
        Clip the output to ``feature_range`` (for inputs outside the fitted range).
    device, dtype : optional
        Of the buffers.

    Attributes
    ----------
    scale_, min_, data_min_, data_max_ : Tensor of shape (D,)

    Notes
    -----
    Input ``(..., D)``, output ``(..., D)``.
    """

    _buffer_names = ("scale_", "min_", "data_min_", "data_max_")

    def __init__(
        self,
        feature_range: tuple[float, float] = (-1.0, 1.0),
        *,
        clip: bool = False,
        device: Any = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__(device, dtype)
        try:
            low, high = (float(v) for v in feature_range)
        except (TypeError, ValueError):
            low = high = float("nan")
        if not low < high:
            raise NeuralError(
                f"feature_range={feature_range!r} must be (low, high) with low < high; "
                "pass e.g. (-1, 1)."
            )
        self.feature_range = (float(low), float(high))
        self.clip = clip

    def _estimator(self, n_samples: int, n_features: int) -> MinMaxScaler:
        return MinMaxScaler(feature_range=self.feature_range)

    def _map(self, x: torch.Tensor) -> torch.Tensor:
        # Linear outside the fitted range unless clip (scikit-learn's clip, in torch).
        z = x * self.scale_ + self.min_
        return z.clamp(*self.feature_range) if self.clip else z

    def extra_repr(self) -> str:
        """The target range and whether the output is clipped."""
        return f"feature_range={self.feature_range}, clip={self.clip}"


class TanhScale(Standardize):
    """Tanh scaling into ``(-1, 1)``: ``z = tanh(alpha * (x - mean_) / scale_)``.

    Unlike min-max scaling, inputs outside the fitted range (test data, outliers) still
    land strictly inside ``(-1, 1)``, where the polynomial features stay bounded.

    Parameters
    ----------
    alpha : float, default=1.0
        Slope after standardisation; smaller values keep the map closer to linear.
    device, dtype : optional
        Of the buffers ``mean_`` and ``scale_``, each of shape (D,).

    Notes
    -----
    Input ``(..., D)``, output ``(..., D)``.
    """

    # The fit is Standardize's (same buffers); only the output map differs.

    def __init__(
        self, alpha: float = 1.0, *, device: Any = None, dtype: torch.dtype | None = None
    ) -> None:
        super().__init__(device, dtype)
        if not isinstance(alpha, (int, float)) or isinstance(alpha, bool) or not alpha > 0:
            raise NeuralError(f"alpha={alpha!r} must be a positive number; pass e.g. 1.0.")
        self.alpha = float(alpha)

    def _map(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tanh(self.alpha * super()._map(x))

    def extra_repr(self) -> str:
        """The slope ``alpha``."""
        return f"alpha={self.alpha}"


#: The scaling modules by the name :func:`make_preprocessing` takes.
SCALERS: dict[str, type[_Fitted]] = {
    "minmax": MinMaxScale, "tanh": TanhScale, "standard": Standardize,
}
#: Every value of ``make_preprocessing(scaling=...)``: a name of :data:`SCALERS`, or
#: ``None`` for no scaling.
SCALINGS: tuple[str | None, ...] = (*SCALERS, None)


def make_preprocessing(
    latents: Any,
    n_components: int | float | None = None,
    scaling: str | None = "minmax",
    *,
    svd_solver: str = "auto",
    dtype: torch.dtype | None = None,
) -> nn.Sequential:
    """Fit the VI-Net preprocessing on ``latents``: optional PCA, then a scaling.

    Parameters
    ----------
    latents : array or Tensor of shape (N, D)
        Finite latent features, one sample per row.
    n_components : int, float or None, default=None
        PCA components (see :class:`PCA`); ``None`` skips the PCA.
    scaling : {"minmax", "tanh", "standard"} or None, default="minmax"
        The scaling after the PCA: :class:`MinMaxScale` onto ``[-1, 1]``,
        :class:`TanhScale` or :class:`Standardize`; ``None`` for none.
    svd_solver : {"auto", "full", "randomized"}, default="auto"
        The PCA's solver (see :class:`PCA`).
    dtype : torch.dtype, optional
        Of the buffers (default float32).

    Returns
    -------
    nn.Sequential
        Fitted steps named ``pca`` and ``scale``; maps ``(N, D)`` to ``(N, k)``.
    """
    if scaling not in SCALINGS:
        raise NeuralError(f"scaling={scaling!r} is not one of {SCALINGS}; pass one of them.")
    x = _as_latents(latents)
    steps: OrderedDict[str, nn.Module] = OrderedDict()
    if n_components is not None:
        steps["pca"] = PCA(n_components, svd_solver=svd_solver, dtype=torch.float64).fit(x)
        with torch.no_grad():
            x = steps["pca"](torch.from_numpy(x)).numpy()
    if scaling is not None:
        steps["scale"] = SCALERS[scaling](dtype=torch.float64).fit(x)
    # Fitted in float64 throughout (so the scaler sees the PCA output without float32
    # rounding), then cast to the requested buffer dtype.
    return nn.Sequential(steps).to(dtype or torch.get_default_dtype())
