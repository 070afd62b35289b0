"""The distribution's version and the one base class of every vinet error.

A module of its own, outside the three packages, so that :mod:`algebra` (no torch),
:mod:`neural` (no algebra) and :mod:`bridge` can all derive their exception from one
class without importing each other; importing it imports nothing else (no numpy, no
torch).  A caller that uses several packages catches :class:`VinetError` once.
"""

__all__ = ["VinetError", "__version__"]

__version__ = "0.1.0"


class VinetError(ValueError):
    """Base class of :class:`~algebra.AlgebraError`, :class:`~neural.NeuralError` and
    :class:`~bridge.BridgeError`: every invalid input or failed operation in vinet.

    It subclasses :class:`ValueError` so callers that already catch ``ValueError``
    (scikit-learn does) keep working.  Messages are full sentences that name the
    parameter, the bad value and the fix.
    """
