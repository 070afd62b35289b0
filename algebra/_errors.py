"""The one exception type of :mod:`algebra`."""


class AlgebraError(ValueError):
    """Raised for every invalid input or failed computation in :mod:`algebra`.

    It subclasses :class:`ValueError` so callers that already catch ``ValueError``
    (scikit-learn does) keep working.  Messages are full sentences that name the
    parameter, the bad value and the fix.
    """
