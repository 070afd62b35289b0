"""The one exception type of :mod:`neural`."""

from vinet import VinetError


class NeuralError(VinetError):
    """Raised for every invalid input or failed operation in :mod:`neural`.

    A :class:`vinet.VinetError` (hence a :class:`ValueError`).  Messages are full
    sentences that name the parameter, the bad value and the fix.
    """
