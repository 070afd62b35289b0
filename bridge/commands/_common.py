"""Helpers shared by the VI-Net sub-commands (not a sub-command itself)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


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

    from bridge._errors import BridgeError

    if n < 1:
        raise BridgeError(f"--threads {n} must be at least 1.")
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)
