"""``fit_vanishing_ideal``: the approximate methods by name.

The one place that knows all three methods (:func:`~algebra.fit_oavi`,
:func:`~algebra.fit_abm`, :func:`~algebra.fit_vca`); it imports them, they never
import it.
"""

from __future__ import annotations

import inspect
from typing import Any

from algebra._abm import fit_abm
from algebra._errors import AlgebraError
from algebra._oavi import fit_oavi
from algebra._polyset import PolynomialSet
from algebra._validation import check_choice
from algebra._vca import fit_vca

__all__ = ["METHODS", "fit_vanishing_ideal", "method_parameters"]

#: Method names accepted by :func:`fit_vanishing_ideal` (and the transformer).
METHODS: tuple[str, ...] = ("oavi", "abm", "vca")

_FIT = {"oavi": fit_oavi, "abm": fit_abm, "vca": fit_vca}


def fit_vanishing_ideal(X: Any, method: str = "oavi", **kwargs: Any) -> PolynomialSet:
    """Fit the approximate vanishing ideal of data with a named method.

    Parameters
    ----------
    X : array_like of shape (m, n)
        The data, ideally scaled to ``[−1, 1]`` (every monomial then stays in
        ``[−1, 1]``; see :func:`~algebra.fit_oavi` for what the default ``tau`` proves).
    method : {"oavi", "abm", "vca"}, default="oavi"
        :func:`~algebra.fit_oavi`, :func:`~algebra.fit_abm` or :func:`~algebra.fit_vca`.
    **kwargs
        Passed to the method.

    Returns
    -------
    PolynomialSet
        Generators with ``mse`` and ``order_ideal``.

    Raises
    ------
    AlgebraError
        For an unknown ``method`` or a keyword the method does not take (named, with
        the ones it takes), before any work.
    """
    allowed = method_parameters(method)
    unknown = sorted(set(kwargs) - set(allowed))
    if unknown:
        raise AlgebraError(
            f"fit_{method} takes no parameter {', '.join(map(repr, unknown))}; its "
            f"parameters are {', '.join(allowed)}."
        )
    return _FIT[method](X, **kwargs)


def method_parameters(method: str) -> tuple[str, ...]:
    """The keyword parameters a method of :func:`fit_vanishing_ideal` takes.

    Parameters
    ----------
    method : {"oavi", "abm", "vca"}
        The method.

    Returns
    -------
    tuple of str
        In signature order, the data ``X`` left out.

    Raises
    ------
    AlgebraError
        For an unknown ``method``.

    Examples
    --------
    >>> from algebra import method_parameters
    >>> method_parameters("abm")[:2]
    ('psi', 'max_degree')
    """
    fit = _FIT[check_choice("method", method, METHODS)]
    return tuple(name for name in inspect.signature(fit).parameters if name != "X")
