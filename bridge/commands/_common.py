"""Helpers shared by the VI-Net sub-commands (not a sub-command itself)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager


def show_progress(no_progress: bool) -> bool:
    """Whether a command shows progress bars: not asked to hide them, on a terminal.

    In a log file or a pipe the bars' carriage returns become dozens of lines around
    the command's results, so they are shown only when stderr is a terminal.

    Parameters
    ----------
    no_progress : bool
        The command's ``--no-progress`` flag.

    Returns
    -------
    bool
    """
    return not no_progress and sys.stderr.isatty()


def check_at_least(value: int | None, least: int, option: str) -> None:
    """Raise a :class:`~bridge.BridgeError` naming ``option`` if ``value < least``.

    Parameters
    ----------
    value : int or None
        The parsed option (None, an option left unset, passes).
    least : int
        The smallest valid value.
    option : str
        The option as typed, e.g. ``"--threads"``.
    """
    from bridge._errors import BridgeError

    if value is not None and value < least:
        raise BridgeError(f"{option} {value} must be at least {least}.")


@contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the body with ``torch.set_num_threads(n)``, restoring the previous count after.

    One thread is the default of the commands that time models: on a machine whose
    cores are busy with other work, OpenMP threads of one forward pass wait for each
    other and a 2-thread pass can be ten times slower than a 1-thread one.

    Parameters
    ----------
    n : int
        Threads, at least 1.
    """
    import torch

    check_at_least(n, 1, "--threads")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
