"""Approximate and exact vanishing ideals of point sets, in numba-accelerated NumPy.

``algebra`` never imports torch.  Its central object is
:class:`~algebra.PolynomialSet`: an order ideal of monomials (exponent matrix) and a
coefficient matrix, which evaluates with one multiply per monomial, prints as sympy
and compiles to torch (in :mod:`bridge`).
"""

from algebra._errors import AlgebraError
from algebra._version import __version__

__all__ = ["AlgebraError", "__version__"]
