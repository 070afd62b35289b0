"""The ``--help`` text of ``vinet`` and of every sub-command (cli_help.md) for docs/cli.md.

Rendered from :func:`bridge.cli.build_parser`, so the reference always matches the
installed command line.
"""

from __future__ import annotations

import argparse
import os

from _common import write_text

os.environ["COLUMNS"] = "88"  # argparse wraps help at the terminal width

from bridge.cli import build_parser

parser = build_parser()
parser.prog = "vinet"
sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
parts = ["## `vinet`", "", "```text", parser.format_help().rstrip(), "```", ""]
for name, command in sub.choices.items():
    parts += [f"## `vinet {name}`", "", "```text", command.format_help().rstrip(), "```", ""]
write_text("cli_help.md", "\n".join(parts))
