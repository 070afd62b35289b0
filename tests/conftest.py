"""Shared pytest configuration: deterministic hypothesis profile, offscreen plotting."""

import os

os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import settings

# CI machines are slow and shared: no deadline, derandomised so failures reproduce.
settings.register_profile("ci", deadline=None, derandomize=True, max_examples=60)
settings.register_profile("dev", deadline=None, max_examples=40)
settings.load_profile("ci" if os.environ.get("CI") else "dev")
