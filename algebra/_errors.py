"""The one exception type of :mod:`algebra`."""

from vinet import VinetError


class AlgebraError(VinetError):
    """Raised for every invalid input or failed computation in :mod:`algebra`.

    A :class:`vinet.VinetError`, hence a :class:`ValueError`, so callers that already
    catch ``ValueError`` (scikit-learn does) keep working.  Messages are full sentences
    that name the parameter, the bad value and the fix.
    """
