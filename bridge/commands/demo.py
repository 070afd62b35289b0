"""``vinet demo``: the main job on the bundled default data."""

from __future__ import annotations

import argparse

NAME = "demo"
HELP = "Run the whole pipeline on the bundled default data."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the ``demo`` options to ``parser``."""


def run(args: argparse.Namespace) -> int:
    """Run the demo (placeholder until the exact algebra lands)."""
    print("vinet demo: the algebra core is being built.")
    return 0
