"""Coefficient matrices of :class:`~algebra.PolynomialSet`: float64 or exact rationals.

A coefficient matrix ``coef`` (t, p) is either a float64 array or an object array of
:class:`fractions.Fraction` (an *exact* set).  These helpers validate and convert one,
and work on both kinds alike; :mod:`algebra._polyset` and :mod:`algebra._exact` share
them.
"""

from __future__ import annotations

import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from algebra._errors import AlgebraError
from algebra._validation import describe

__all__ = ["check_coef", "nonzero_mask", "to_fraction", "zeros_like"]


def to_fraction(value: Any, where: str) -> Fraction:
    """Convert one exact coefficient (int, Fraction, sympy Rational, finite float)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, (bool, np.bool_)):
        return Fraction(int(value))
    if isinstance(value, (numbers.Rational, np.integer)):
        return Fraction(int(value.numerator), int(value.denominator))
    if isinstance(value, (float, np.floating)) and np.isfinite(value):
        return Fraction(float(value))  # exact: every finite float is a dyadic rational
    raise AlgebraError(
        f"coef{where} must be a rational number (int, fractions.Fraction, sympy "
        f"Rational or finite float), got {value!r} of type {type(value).__name__}; "
        f"pass exact coefficients as fractions.Fraction."
    )


def check_coef(coef: Any, n_terms: int) -> np.ndarray:
    """Validate ``coef`` (t, p): float64 array, or object array of Fraction."""
    arr = np.asarray(coef) if not isinstance(coef, np.ndarray) else coef
    if arr.ndim != 2:
        raise AlgebraError(
            f"coef must be a 2-D array of shape (n_terms, n_polys), got {describe(arr)}; "
            f"use coef.reshape(-1, 1) for a single polynomial."
        )
    if arr.shape[0] != n_terms:
        raise AlgebraError(
            f"coef has {arr.shape[0]} rows but terms has {n_terms}; coef needs one row "
            f"per term."
        )
    if arr.dtype == object:
        out = np.empty(arr.shape, dtype=object)
        for (i, j), value in np.ndenumerate(arr):
            out[i, j] = to_fraction(value, f"[{i}, {j}]")
        return out
    if arr.dtype.kind not in "fiub":
        raise AlgebraError(
            f"coef must hold real numbers, got {describe(arr)}; pass a float array, or "
            f"an object array of fractions.Fraction for exact coefficients."
        )
    out = np.ascontiguousarray(arr, dtype=np.float64)
    if not np.all(np.isfinite(out)):
        i, j = np.argwhere(~np.isfinite(out))[0]
        raise AlgebraError(
            f"coef contains NaN or infinite values (first at term {i}, polynomial {j}: "
            f"{out[i, j]}); every coefficient must be finite."
        )
    return out


def nonzero_mask(coef: np.ndarray) -> np.ndarray:
    """Boolean mask (t, p) of the nonzero coefficients, for float or exact ``coef``."""
    return coef != 0 if coef.dtype != object else np.vectorize(bool, otypes=[bool])(coef)


def zeros_like(coef: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Zeros of ``shape`` in the kind of ``coef``: float64, or exact ``Fraction(0)``."""
    if coef.dtype == object:
        out = np.empty(shape, dtype=object)
        out.fill(Fraction(0))
        return out
    return np.zeros(shape, dtype=np.float64)
