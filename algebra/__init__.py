"""Approximate and exact vanishing ideals of point sets, in numba-accelerated NumPy.

``algebra`` never imports torch.  Its central object is
:class:`~algebra.PolynomialSet`: an order ideal of monomials (exponent matrix) and a
coefficient matrix, which evaluates with one multiply per monomial, prints as sympy
and compiles to torch (in :mod:`bridge`).
"""

from algebra._abm import fit_abm
from algebra._border_loop import default_tau
from algebra._dispatch import METHODS, fit_vanishing_ideal, method_parameters
from algebra._errors import AlgebraError
from algebra._exact import BorderBasis, buchberger_moller, rational_circle_points
from algebra._monomials import (
    all_monomials,
    border,
    divides,
    evaluate_monomials,
    is_order_ideal,
    monomial_chain,
    multiply,
    order_ideal_closure,
    random_order_ideal,
    total_degree,
)
from algebra._oavi import fit_oavi
from algebra._oracles import ORACLES
from algebra._orders import (
    PERMUTATIONS,
    TERM_ORDERS,
    TermOrder,
    deglex,
    degrevlex,
    get_term_order,
    grevlex,
    grlex,
    lex,
    sort_terms,
    variable_permutation,
)
from algebra._polyset import PolynomialSet
from algebra._prune import (
    class_sums,
    discriminative_scores,
    prune_generators,
    scores_from_sums,
    top_generators,
)
from algebra._threads import thread_budget
from algebra._transformer import VanishingIdealTransformer
from algebra._vca import fit_vca
from vinet import VinetError, __version__

__all__ = [
    "METHODS",
    "ORACLES",
    "PERMUTATIONS",
    "TERM_ORDERS",
    "AlgebraError",
    "BorderBasis",
    "PolynomialSet",
    "TermOrder",
    "VanishingIdealTransformer",
    "VinetError",
    "__version__",
    "all_monomials",
    "border",
    "buchberger_moller",
    "class_sums",
    "default_tau",
    "deglex",
    "degrevlex",
    "discriminative_scores",
    "divides",
    "evaluate_monomials",
    "fit_abm",
    "fit_oavi",
    "fit_vanishing_ideal",
    "fit_vca",
    "get_term_order",
    "grevlex",
    "grlex",
    "is_order_ideal",
    "lex",
    "method_parameters",
    "monomial_chain",
    "multiply",
    "order_ideal_closure",
    "prune_generators",
    "random_order_ideal",
    "rational_circle_points",
    "scores_from_sums",
    "sort_terms",
    "thread_budget",
    "top_generators",
    "total_degree",
    "variable_permutation",
]
