"""Every Python example of the documentation pages runs, as written.

The pages are ``docs/*.md`` and ``docs/guide/*.md``. A page's examples are the fenced
blocks whose info string is ``python`` or ``{code-block} python`` (``{code}`` too),
outside any other fence; they run top to bottom in one namespace per page (a page
builds its story step by step), in a temporary working directory. A block directly
preceded by the comment ``<!-- no-test -->`` (blank lines between are allowed) is shown
but not run: use it for examples that need a GPU, a user's files or minutes of time.
Line numbers in a failure's traceback are those of the Markdown file.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import pytest

DOCS = Path(__file__).resolve().parents[1] / "docs"
PAGES = sorted([*DOCS.glob("*.md"), *(DOCS / "guide").glob("*.md")])

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>.*?)\s*$")
_PYTHON_INFO = re.compile(r"^(python|py|\{code-block\}\s+python|\{code\}\s+python)$")
_OPTION = re.compile(r"^:[\w-]+:")
_NO_TEST = "<!-- no-test -->"


class Block(NamedTuple):
    """One example: its first code line (1-based, in the page) and its source."""

    line: int
    code: str


def python_blocks(text: str) -> list[Block]:
    """The runnable Python blocks of a Markdown text (see the module docstring)."""
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    previous = ""  # the last non-blank line outside a fence
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            if lines[i].strip():
                previous = lines[i].strip()
            i += 1
            continue
        fence, info = match.group("fence"), match.group("info")
        # The closing fence: the same character, at least as long, nothing after it.
        end = i + 1
        closing = re.compile(rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        while end < len(lines) and not closing.match(lines[end]):
            end += 1
        body = lines[i + 1:end]
        start = i + 2  # 1-based line number of body[0]
        if _PYTHON_INFO.match(info) and previous != _NO_TEST:
            # MyST directive options (":caption: ...") or a "---" YAML header come first.
            if info.startswith("{") and body and body[0].strip() == "---":
                close = body.index("---", 1) if "---" in body[1:] else 0
                start += close + 1
                body = body[close + 1:]
            while info.startswith("{") and body and _OPTION.match(body[0].strip()):
                start += 1
                body = body[1:]
            blocks.append(Block(start, "\n".join(body) + "\n"))
        previous = ""
        i = end + 1
    return blocks


def run_page(page: Path, blocks: list[Block]) -> None:
    namespace = {"__name__": f"docs_example_{page.stem}"}
    for block in blocks:
        # Pad with newlines so that tracebacks give the line numbers of the page.
        code = compile("\n" * (block.line - 1) + block.code, str(page), "exec")
        exec(code, namespace)


def test_extraction_rules():
    text = "\n".join([
        "```python", "a = 1", "```",                                     # 1: runs
        "<!-- no-test -->", "", "```python", "raise SystemExit", "```",   # skipped
        "````markdown", "```python", "raise SystemExit", "```", "````",    # inside a fence
        "```{code-block} python", ":caption: c", ":linenos:", "b = a + 1", "```",
        "~~~py", "c = b + 1", "~~~",
        "```bash", "echo no", "```",
        "```{code-block} python", "---", "caption: c", "---", "d = c + 1", "```",
    ])
    blocks = python_blocks(text)
    assert [b.code for b in blocks] == ["a = 1\n", "b = a + 1\n", "c = b + 1\n", "d = c + 1\n"]
    # Each block's line number points at its first code line in the text.
    text_lines = text.splitlines()
    assert [text_lines[b.line - 1] for b in blocks] == ["a = 1", "b = a + 1", "c = b + 1",
                                                       "d = c + 1"]


def test_tracebacks_point_into_the_page(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("# t\n\n```python\nx = 1\ny = 1 / 0\n```\n", encoding="utf-8")
    with pytest.raises(ZeroDivisionError) as info:
        run_page(page, python_blocks(page.read_text(encoding="utf-8")))
    assert info.traceback[-1].lineno + 1 == 5  # pytest's lineno is 0-based


def test_the_sympy_guide_has_examples():
    assert len(python_blocks((DOCS / "guide" / "sympy.md").read_text(encoding="utf-8"))) >= 5


EXAMPLES = {page: python_blocks(page.read_text(encoding="utf-8")) for page in PAGES}
WITH_EXAMPLES = [page for page, blocks in EXAMPLES.items() if blocks]


@pytest.mark.slow  # the guides train and cut networks: seconds per page
@pytest.mark.parametrize("page", WITH_EXAMPLES,
                         ids=[str(p.relative_to(DOCS)) for p in WITH_EXAMPLES])
def test_page_examples_run(page, tmp_path, monkeypatch):
    blocks = EXAMPLES[page]
    monkeypatch.chdir(tmp_path)
    run_page(page, blocks)
