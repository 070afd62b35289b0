"""The API reference documents every public name: each entry of a package's ``__all__``
is listed in ``docs/api/<package>.rst``.

A name counts as listed when a line of the page consists of it alone, optionally
qualified (``algebra.lex``) and optionally after a directive (``.. autofunction::
algebra.fit_oavi``, ``.. data:: algebra.lex``): an ``autosummary`` entry, a directive,
or a continuation line of a multi-name directive. Mentions in prose do not count.
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

API = Path(__file__).resolve().parents[1] / "docs" / "api"
PACKAGES = ["algebra", "neural", "bridge"]


def documented_names(package: str, text: str) -> set[str]:
    """The names a reST page lists as entries (see the module docstring)."""
    entry = re.compile(
        rf"^\s*(?:\.\.\s+[\w:-]+::\s+)?(?:{re.escape(package)}\.)?([A-Za-z_]\w*)\s*$"
    )
    return {m.group(1) for line in text.splitlines() if (m := entry.match(line))}


def test_documented_names_rules():
    text = "\n".join([
        ".. autosummary::", "   :toctree: generated", "", "   fit_oavi", "   PolynomialSet",
        ".. data:: algebra.lex", "          algebra.deglex",
        ".. autoexception:: algebra.AlgebraError",
        "The function border is mentioned in prose only.",
    ])
    assert documented_names("algebra", text) == {
        "fit_oavi", "PolynomialSet", "lex", "deglex", "AlgebraError"}


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_name_is_in_the_api_reference(package):
    module = importlib.import_module(package)
    page = API / f"{package}.rst"
    listed = documented_names(package, page.read_text(encoding="utf-8"))
    missing = [name for name in module.__all__ if name not in listed]
    assert not missing, (
        f"docs/api/{package}.rst does not list {missing} from {package}.__all__; add them "
        f"to an autosummary block (functions, classes) or a '.. data::' entry (constants)."
    )
