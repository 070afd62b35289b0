"""The one exception type of :mod:`bridge`."""


class BridgeError(ValueError):
    """Raised for every invalid input or failed operation in :mod:`bridge`.

    Messages are full sentences that name the parameter, the bad value and the fix.
    """
