"""The API reference documents every public name: each entry of a package's ``__all__``
is listed in ``docs/api/<package>.rst``, and every parameter of a public function or
method has a description in its numpydoc docstring.

A name counts as listed when a line of the page consists of it alone, optionally
qualified (``algebra.lex``) and optionally after a directive (``.. autofunction::
algebra.fit_oavi``, ``.. data:: algebra.lex``): an ``autosummary`` entry, a directive,
or a continuation line of a multi-name directive. Mentions in prose do not count.
"""

from __future__ import annotations

import importlib
import inspect
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


def public_callables(package: str) -> list[tuple[str, object]]:
    """``(qualified name, object)`` of every public function and class of ``package`` and
    of every public method its classes define themselves (not inherited ones)."""
    module = importlib.import_module(package)
    out = []
    for name in module.__all__:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        out.append((f"{package}.{name}", obj))
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                func = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
                if not attr.startswith("_") and inspect.isfunction(func):
                    out.append((f"{package}.{name}.{attr}", func))
    return out


@pytest.mark.parametrize("package", PACKAGES)
def test_every_public_parameter_is_described(package):
    """numpydoc's validation: no parameter missing (PR01), unknown (PR02) or without a
    description (PR07). ruff's D417 checks only docstrings that have a Parameters
    section; this also catches a public function or method that has none."""
    validate = pytest.importorskip("numpydoc.validate").validate
    from numpydoc.docscrape import ClassDoc

    problems = []
    for qualname, obj in public_callables(package):
        if inspect.isclass(obj) and issubclass(obj, tuple) and hasattr(obj, "_fields"):
            # A NamedTuple's fields are its parameters, documented as its Attributes.
            described = {n.strip() for item in ClassDoc(obj)["Attributes"]
                         for n in item.name.split(",") if item.desc}
            problems += [f"{qualname}: field {f!r} not described"
                         for f in obj._fields if f not in described]
            continue
        problems += [f"{qualname}: {code} {message}"
                     for code, message in validate(qualname)["errors"]
                     if code in ("PR01", "PR02", "PR07")]
    assert not problems, "\n".join(problems)
