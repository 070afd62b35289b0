"""Sphinx configuration for the vinet documentation (``make docs``)."""

from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.abspath("_ext"))  # local extensions: figures.py
os.environ.setdefault("MPLBACKEND", "Agg")

from vinet import __version__

project = "vinet"
author = "The vinet developers"
copyright = "2026, The vinet developers"
release = __version__
version = __version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "figures",  # runs docs/figures/*.py into docs/generated/ before the build
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
# generated/ holds figures and table fragments for {include}, not pages of their own;
# figures/README.md documents the figure convention for authors.
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated", "figures"]
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

autosummary_generate = True
autodoc_typehints = "none"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# No network at build time: intersphinx inventories are not fetched.
intersphinx_mapping: dict[str, tuple[str, str | None]] = {}

html_theme = "alabaster"
html_static_path = ["_static"]
html_theme_options = {"description": "Vanishing ideals for deep learning"}
