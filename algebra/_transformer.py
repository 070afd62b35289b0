"""The scikit-learn transformer: ``x ↦ |g(x)|`` for the generators of the data's ideal."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

from algebra._border_loop import BORDERS
from algebra._dispatch import METHODS, fit_vanishing_ideal
from algebra._errors import AlgebraError
from algebra._oavi import check_tau
from algebra._oracles import IHB_MODES, ORACLES
from algebra._polyset import PolynomialSet
from algebra._prune import check_keep, prune_generators
from algebra._validation import check_choice, check_psi, check_random_state

__all__ = ["VanishingIdealTransformer"]


def _plain(label: Any) -> Any:
    """A class label as a Python scalar, so errors print ``7``, not ``np.int64(7)``."""
    return label.item() if isinstance(label, np.generic) else label


class VanishingIdealTransformer(TransformerMixin, BaseEstimator):
    """Features ``|g(x)|`` from the generators of the approximate vanishing ideal.

    Without labels, one set of generators is fitted on all of ``X``; with labels, one
    set per class (the setting of Heldt et al. 2009, Livni et al. 2013 and VI-Net),
    fitted in parallel with :mod:`joblib`, so that
    ``joblib.parallel_config(backend="dask")`` spreads the classes over a Dask
    cluster.  A generator of class ``k`` is close to zero on class ``k`` and (if it
    discriminates) away from zero on the others, so a linear model on the features
    separates the classes.

    Parameters
    ----------
    method : {"oavi", "abm", "vca"}, default="oavi"
        :func:`~algebra.fit_oavi`, :func:`~algebra.fit_abm` or
        :func:`~algebra.fit_vca`.
    psi : float, default=0.005
        Vanishing tolerance: mean of ``g(x)²`` over the fitting samples of a class.
    max_degree : int or None, default=10
        Largest generator degree.
    order : {"deglex", "degrevlex"} or TermOrder, default="deglex"
        Term order (``"lex"`` is accepted by VCA only); the ``order`` of the fit
        functions.
    oracle : {"cg", "pcg", "bpcg", "agd"}, default="bpcg"
        OAVI's convex oracle (ignored by ABM and VCA).
    ihb : {"none", "weak", "full"}, default="weak"
        OAVI's inverse-Hessian boosting (ignored by ABM and VCA).
    tau : float, optional
        OAVI's ℓ1 bound (default ``(3/2)^D``, see :func:`~algebra.default_tau`).
    border : {"gb", "bb"}, default="gb"
        Border style of OAVI and ABM (ignored by VCA).
    max_samples : int, optional
        Fit each class on at most this many random rows (stochastic mode).
    keep : int, float or None, default=None
        With labels: keep the ``keep`` most discriminative generators per class (an
        int) or that fraction of them (a float in ``(0, 1]``); see
        :func:`~algebra.prune_generators`.  ``None`` keeps all.
    n_jobs : int, optional
        Classes fitted in parallel (joblib; ``None`` means 1 unless in a
        :func:`joblib.parallel_config` context).
    random_state : None, int or numpy.random.RandomState
        Seed of the ``max_samples`` subsamples.
    term_order : str, optional
        Deprecated alias of ``order`` (it warns and, when given, takes precedence).

    Attributes
    ----------
    generators_ : list of PolynomialSet
        One set per class of ``classes_`` (one set when fitted without labels); each
        prints with ``to_sympy()``.
    polynomials_ : PolynomialSet
        All generators concatenated (``labels`` = owning class); ``transform``
        evaluates this one set.
    classes_ : ndarray of shape (n_classes,)
        The class labels (``[None]`` without labels).
    n_features_in_ : int
        Number of input features.
    feature_names_in_ : ndarray of str
        Input feature names, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from algebra import VanishingIdealTransformer
    >>> t = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    >>> X = np.vstack([np.column_stack([np.cos(t), np.sin(t)]),
    ...                np.column_stack([0.5 * np.cos(t), 0.5 * np.sin(t)])])
    >>> y = np.repeat([0, 1], 40)
    >>> vit = VanishingIdealTransformer(psi=1e-4, max_degree=2).fit(X, y)
    >>> vit.transform(X).shape
    (80, 2)
    """

    def __init__(
        self,
        method: str = "oavi",
        psi: float = 0.005,
        max_degree: int | None = 10,
        order: Any = "deglex",
        oracle: str = "bpcg",
        ihb: str = "weak",
        tau: float | None = None,
        border: str = "gb",
        max_samples: int | None = None,
        keep: int | float | None = None,
        n_jobs: int | None = None,
        random_state: Any = None,
        term_order: Any = "deprecated",
    ) -> None:
        self.method = method
        self.psi = psi
        self.max_degree = max_degree
        self.order = order
        self.oracle = oracle
        self.ihb = ihb
        self.tau = tau
        self.border = border
        self.max_samples = max_samples
        self.keep = keep
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.term_order = term_order

    def _method_kwargs(self) -> dict[str, Any]:
        """Validate every parameter (those the method ignores too: a typo in them
        should not pass silently) and return the method's keyword arguments."""
        method = check_choice("method", self.method, METHODS)
        check_choice("oracle", self.oracle, ORACLES)
        check_choice("ihb", self.ihb, IHB_MODES)
        check_choice("border", self.border, BORDERS)
        check_tau(self.tau, check_psi(self.psi))
        check_keep(self.keep)
        order = self.order
        if not (isinstance(self.term_order, str) and self.term_order == "deprecated"):
            warnings.warn(
                "VanishingIdealTransformer(term_order=...) is deprecated; pass order=... "
                "(the name every fit function uses). term_order is used this time.",
                DeprecationWarning, stacklevel=3,
            )
            order = self.term_order
        kw: dict[str, Any] = dict(
            psi=self.psi, max_degree=self.max_degree, order=order,
            max_samples=self.max_samples,
        )
        if method == "oavi":
            kw.update(oracle=self.oracle, ihb=self.ihb, tau=self.tau)
        if method != "vca":
            kw.update(border=self.border)
        return kw

    def fit(self, X: Any, y: Any = None) -> VanishingIdealTransformer:
        """Fit the generators (per class when ``y`` is given).

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Training data, ideally scaled to ``[−1, 1]`` (e.g. with
            ``MinMaxScaler(feature_range=(-1, 1))``).
        y : array_like of shape (n_samples,), optional
            Class labels; each class needs at least 2 samples.

        Returns
        -------
        self : VanishingIdealTransformer
        """
        X = self._validate(X, reset=True)
        kw = self._method_kwargs()
        rng = check_random_state(self.random_state)
        if y is None:
            self.classes_ = np.array([None], dtype=object)
            parts = [X]
        else:
            y = np.asarray(y)
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise AlgebraError(
                    f"y must be a 1-D array with one label per sample ({X.shape[0]}), got "
                    f"shape {y.shape}."
                )
            self.classes_, y_index, counts = np.unique(
                y, return_inverse=True, return_counts=True
            )
            if np.any(counts < 2):
                bad = _plain(self.classes_[np.argmin(counts)])
                raise AlgebraError(
                    f"Class {bad!r} has {counts.min()} sample; each class needs at least 2 "
                    f"samples to fit its vanishing ideal. Remove the class or add samples."
                )
            if self.keep is not None and self.classes_.shape[0] < 2:
                raise AlgebraError(
                    f"Parameter keep={self.keep!r} prunes by comparing classes, but y "
                    f"has the single class {_plain(self.classes_[0])!r}; pass labels of at least "
                    f"2 classes, or keep=None."
                )
            parts = [X[y_index == k] for k in range(self.classes_.shape[0])]
        seeds = rng.integers(0, 2**32, size=len(parts))
        sets = Parallel(n_jobs=self.n_jobs)(
            delayed(fit_vanishing_ideal)(part, method=self.method, random_state=int(seed),
                                         **kw)
            for part, seed in zip(parts, seeds, strict=True)
        )
        if y is not None and len(sets) > 1 and self.keep is not None:
            sets = prune_generators(sets, X, y, keep=self.keep)
        labelled = [
            PolynomialSet(
                s.terms, s.coef, order=s.order, leading=s.leading, mse=s.mse,
                labels=None if y is None else np.full(len(s), label),
                order_ideal=s.order_ideal,
            )
            for label, s in zip(self.classes_, sets, strict=True)
        ]
        self.generators_ = labelled
        self.polynomials_ = PolynomialSet.concatenate(labelled)
        return self

    def _validate(self, X: Any, reset: bool) -> np.ndarray:
        """scikit-learn's ``validate_data`` (shapes, dtypes, feature names, the number
        of features at transform), its ``ValueError`` raised as an ``AlgebraError``.

        Finiteness is left to the algebra, whose error names the bad entry.
        """
        try:
            return validate_data(
                self, X, dtype=np.float64, ensure_all_finite=False, reset=reset
            )
        except AlgebraError:
            raise
        except ValueError as exc:
            raise AlgebraError(
                f"{str(exc).rstrip('.')}. VanishingIdealTransformer needs a real 2-D "
                f"array of shape (n_samples, n_features)"
                + ("." if reset else f" with the {self.n_features_in_} fitted features.")
            ) from exc

    def transform(self, X: Any) -> np.ndarray:
        """The absolute values of all generators at every sample.

        Parameters
        ----------
        X : array_like of shape (n_samples, n_features)
            Data with the fitted number of features.

        Returns
        -------
        ndarray of shape (n_samples, n_generators)
            ``|g(x)|`` for the generators of ``polynomials_``, class by class.
        """
        check_is_fitted(self, "polynomials_")
        X = self._validate(X, reset=False)
        polys = self.polynomials_
        # One fused pass (chain, contraction, abs) under the thread budget.
        return polys.evaluate(X, absolute=True)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names of the output features: ``"g{j}"``, or ``"class{k}_g{j}"`` per class.

        Parameters
        ----------
        input_features : array_like of str, optional
            Not used for the names; checked as scikit-learn checks it (one name per
            fitted feature, equal to ``feature_names_in_`` when that exists).

        Returns
        -------
        ndarray of str, shape (n_generators,)
        """
        check_is_fitted(self, "polynomials_")
        if input_features is not None:
            given = np.asarray(input_features, dtype=object)
            fitted = getattr(self, "feature_names_in_", None)
            # The phrases scikit-learn's own check uses, so callers matching them work.
            if fitted is not None and not np.array_equal(fitted, given):
                raise AlgebraError(
                    f"input_features is not equal to feature_names_in_ ({list(given)} vs "
                    f"{list(fitted)}); pass the names seen in fit, or None."
                )
            if len(given) != self.n_features_in_:
                raise AlgebraError(
                    f"input_features should have length equal to the number of fitted "
                    f"features ({self.n_features_in_}), got {len(given)}; pass one name per "
                    f"feature, or None."
                )
        names = []
        for label, s in zip(self.classes_, self.generators_, strict=True):
            prefix = "" if label is None else f"class{label}_"
            names.extend(f"{prefix}g{j}" for j in range(len(s)))
        return np.asarray(names, dtype=object)

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = False
        tags.input_tags.allow_nan = False
        tags.transformer_tags.preserves_dtype = ["float64"]
        return tags
