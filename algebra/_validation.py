"""Input checks shared by the public wrappers of :mod:`algebra`.

Kernels never validate (see ``docs/design.md``, "Kernels"); every public function
calls one of these first and hands the kernel a C-contiguous array of the right dtype.
Each failure raises :class:`~algebra.AlgebraError` with a sentence naming the
parameter, the bad value and the fix.  The module imports only :mod:`algebra._errors`,
so every other module can use it.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from algebra._errors import AlgebraError


def describe(value: Any) -> str:
    """A short description of ``value`` for error messages (type and shape)."""
    shape = getattr(value, "shape", None)
    dtype = getattr(value, "dtype", None)
    if shape is not None:
        return f"an array of shape {tuple(shape)} and dtype {dtype}"
    return f"a {type(value).__name__}"


def check_points(
    X: Any,
    name: str = "X",
    n_vars: int | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Validate a data matrix and return it as a C-contiguous float64 array.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Real data, one sample per row.  Integer, boolean and float32 input is
        converted to float64.
    name : str, default "X"
        The parameter name used in error messages.
    n_vars : int, optional
        The required number of columns ``n``.
    allow_empty : bool, default False
        Whether ``m == 0`` rows is accepted.

    Returns
    -------
    ndarray of shape (m, n), dtype float64
        A C-contiguous copy or view of ``X``.

    Raises
    ------
    AlgebraError
        If ``X`` is not numeric, not 2-D, empty, has the wrong width, or holds NaN or
        infinite values.
    """
    arr = np.asarray(X)
    if arr.dtype.kind in "OUSV" or arr.dtype.kind == "c":
        try:
            if arr.dtype.kind == "c":
                raise TypeError
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            raise AlgebraError(
                f"{name} must hold real numbers, got {describe(arr)}; convert it to a "
                f"float array, e.g. np.asarray({name}, dtype=float)."
            ) from None
    if arr.ndim != 2:
        raise AlgebraError(
            f"{name} must be a 2-D array of shape (n_samples, n_variables), got "
            f"{describe(arr)}; use {name}.reshape(-1, 1) for a single variable or "
            f"{name}.reshape(1, -1) for a single sample."
        )
    if arr.shape[0] == 0 and not allow_empty:
        raise AlgebraError(
            f"{name} has no rows (shape {arr.shape}); pass at least one sample."
        )
    if arr.shape[1] == 0:
        raise AlgebraError(
            f"{name} has no columns (shape {arr.shape}); pass at least one variable."
        )
    if n_vars is not None and arr.shape[1] != n_vars:
        raise AlgebraError(
            f"{name} has {arr.shape[1]} columns but the polynomials are in {n_vars} "
            f"variables; pass data with {n_vars} columns."
        )
    arr = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0]
        raise AlgebraError(
            f"{name} contains NaN or infinite values (first at row {bad[0]}, column "
            f"{bad[1]}: {arr[bad[0], bad[1]]}); remove or impute them first."
        )
    return arr


def check_exponents(E: Any, name: str = "terms", n_vars: int | None = None) -> np.ndarray:
    """Validate an exponent matrix and return it as a C-contiguous int64 array.

    Parameters
    ----------
    E : array_like of shape (t, n)
        Non-negative integer exponents, one monomial per row.  A 1-D input of
        length ``n`` is read as a single monomial.
    name : str, default "terms"
        The parameter name used in error messages.
    n_vars : int, optional
        The required number of columns ``n``.

    Returns
    -------
    ndarray of shape (t, n), dtype int64

    Raises
    ------
    AlgebraError
        If ``E`` is not integral, negative, not 2-D, has no columns or has the wrong
        width.
    """
    arr = np.asarray(E)
    if arr.ndim == 1 and arr.size > 0:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise AlgebraError(
            f"{name} must be a 2-D integer exponent matrix of shape (n_terms, "
            f"n_variables), got {describe(arr)}."
        )
    if arr.dtype.kind not in "iub":
        converted = None
        if arr.dtype.kind in "fO":
            try:
                converted = arr.astype(np.float64)
            except (TypeError, ValueError):
                converted = None
        if converted is None or not np.all(np.isfinite(converted)) or np.any(
            converted != np.round(converted)
        ):
            raise AlgebraError(
                f"{name} must hold non-negative integer exponents, got {describe(arr)} "
                f"with non-integer entries; pass an integer array."
            )
        arr = converted
    if arr.shape[1] == 0:
        raise AlgebraError(
            f"{name} has no columns (shape {arr.shape}); monomials need at least one "
            f"variable, pass an exponent matrix of shape (n_terms, n_variables >= 1)."
        )
    arr = np.ascontiguousarray(arr, dtype=np.int64)
    if arr.size and arr.min() < 0:
        raise AlgebraError(
            f"{name} must hold non-negative exponents, got the entry {arr.min()}; "
            f"negative powers are not polynomials."
        )
    if n_vars is not None and arr.shape[1] != n_vars:
        raise AlgebraError(
            f"{name} has {arr.shape[1]} columns but {n_vars} variables are expected."
        )
    return arr


def check_positive_int(value: Any, name: str, minimum: int = 1) -> int:
    """Validate an integer parameter ``>= minimum`` and return it as ``int``.

    Parameters
    ----------
    value : int
        The value to check.
    name : str
        The parameter name used in error messages.
    minimum : int, default 1
        The smallest accepted value.

    Returns
    -------
    int

    Raises
    ------
    AlgebraError
        If ``value`` is not an integer (``bool`` is not accepted) or is below
        ``minimum``.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise AlgebraError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    return int(value)


def check_choice(name: str, value: Any, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a full-sentence error."""
    if not isinstance(value, str) or value not in choices:
        raise AlgebraError(
            f"Parameter {name}={value!r} is not supported; use one of "
            f"{', '.join(repr(c) for c in choices)}."
        )
    return value


def check_psi(psi: Any) -> float:
    """Validate the vanishing tolerance ψ > 0 (mean of ``g(x)²`` over the samples)."""
    if isinstance(psi, bool) or not isinstance(psi, (int, float, np.number)) or not (
        np.isfinite(psi) and psi > 0
    ):
        raise AlgebraError(
            f"Parameter psi={psi!r} must be a finite number > 0 (the largest mean "
            f"squared value of a generator on the data), e.g. psi=0.005."
        )
    return float(psi)


def check_random_state(random_state: Any) -> np.random.Generator:
    """A numpy ``Generator`` from ``None``, an int seed, a ``Generator`` or a ``RandomState``.

    Parameters
    ----------
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState
        The seed; a ``RandomState`` (scikit-learn's convention) seeds a new
        ``Generator`` with one draw, so it advances as scikit-learn expects.

    Returns
    -------
    numpy.random.Generator
    """
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**32, dtype=np.int64))
    if random_state is None or isinstance(random_state, np.random.Generator) or (
        isinstance(random_state, (int, np.integer))
        and not isinstance(random_state, bool) and random_state >= 0
    ):
        return np.random.default_rng(random_state)
    raise AlgebraError(
        f"Parameter random_state={random_state!r} must be None, an int >= 0, a "
        f"numpy.random.Generator or a numpy.random.RandomState."
    )


#: Data whose largest absolute value exceeds this gets a warning from the fits: ψ, the
#: coefficient normalisations and OAVI's τ assume ``[-1, 1]``, and at ``|x| = 10`` a
#: degree-``d`` monomial is already ``10^d`` times larger than its coefficient.
UNSCALED_MAX_ABS = 10.0


def warn_if_unscaled(X: np.ndarray, name: str = "X") -> None:
    """Warn (``UserWarning``) when ``X`` lies far outside ``[-1, 1]``.

    Far outside means a largest absolute value above :data:`UNSCALED_MAX_ABS`; the
    fits then silently find nothing (or only trivial generators), so the warning
    names the scaling that fixes it.

    Parameters
    ----------
    X : ndarray of shape (m, n)
        Validated data.
    name : str, default "X"
        The parameter name used in the message.
    """
    largest = float(np.abs(X).max()) if X.size else 0.0
    if largest > UNSCALED_MAX_ABS:
        warnings.warn(
            f"{name} has values up to {largest:.3g} in absolute value, far outside "
            f"[-1, 1] (the scale psi and the coefficient normalisations assume); scale "
            f"it first, e.g. with sklearn.preprocessing.MinMaxScaler(feature_range=(-1, "
            f"1)), or the fit may find no generators.",
            UserWarning,
            stacklevel=4,  # the caller of fit_oavi / fit_abm / fit_vca
        )


def prepare_data(
    X: Any, max_samples: int | None, random_state: Any, name: str = "X"
) -> np.ndarray:
    """Validate the data and draw the stochastic subsample of ``max_samples`` rows.

    Parameters
    ----------
    X : array_like of shape (m, n)
        Finite real data (float32 and int are converted to float64).
    max_samples : int or None
        Fit on at most this many rows drawn without replacement; ``None`` uses all.
    random_state : None, int, numpy Generator or RandomState
        Seed of the subsample (:func:`check_random_state`).
    name : str, default "X"
        The parameter name used in error messages.

    Returns
    -------
    ndarray of shape (min(m, max_samples), n), float64, C-contiguous

    Warns
    -----
    UserWarning
        When ``X`` lies far outside ``[-1, 1]`` (:func:`warn_if_unscaled`).
    """
    rng = check_random_state(random_state)
    X = check_points(X, name=name)
    warn_if_unscaled(X, name)
    if X.shape[0] < 2:
        raise AlgebraError(
            f"{name} has {X.shape[0]} sample; fitting a vanishing ideal needs at least 2 "
            f"samples (one point is cut out by every linear polynomial through it)."
        )
    if max_samples is not None:
        max_samples = check_positive_int(max_samples, "max_samples", minimum=2)
        if X.shape[0] > max_samples:
            rows = np.sort(rng.choice(X.shape[0], size=max_samples, replace=False))
            X = np.ascontiguousarray(X[rows])
    return X
