"""The one exception type of :mod:`bridge`."""

from vinet import VinetError


class BridgeError(VinetError):
    """Raised for every invalid input or failed operation in :mod:`bridge`.

    A :class:`vinet.VinetError` (hence a :class:`ValueError`).  Messages are full
    sentences that name the parameter, the bad value and the fix.
    """
