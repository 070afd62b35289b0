"""The one exception type of :mod:`neural`."""


class NeuralError(ValueError):
    """Raised for every invalid input or failed operation in :mod:`neural`.

    Messages are full sentences that name the parameter, the bad value and the fix.
    """
