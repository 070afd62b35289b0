"""The ``vinet`` command line: ``vinet demo``, ``vinet ideal``, ``vinet fit`` and friends.

Sub-commands live one per module in :mod:`bridge.commands`; each is imported only when
it runs, so ``vinet --version`` and ``vinet --help`` stay fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from vinet import __version__

#: Sub-command name -> module in :mod:`bridge.commands` and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("bridge.commands.demo", "Run the whole pipeline on the bundled default data."),
    "ideal": (
        "bridge.commands.ideal",
        "Print the generators of the approximate vanishing ideal of a .csv or .npy file.",
    ),
    "extract": (
        "bridge.commands.extract",
        "Extract pooled latent features of a cut network into a shard file.",
    ),
    "fit": (
        "bridge.commands.fit",
        "Build and train VI-Net from a model, a cut node and data; save it as one file.",
    ),
    "inspect": (
        "bridge.commands.inspect",
        "Print a saved VI-Net's configuration and each class's generators as sympy.",
    ),
    "evaluate": (
        "bridge.commands.evaluate",
        "Accuracy, parameters and throughput of a saved VI-Net on labelled data.",
    ),
}


def build_parser() -> argparse.ArgumentParser:
    """Build the ``vinet`` argument parser with one sub-parser per command.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each sub-parser stores its module name in ``args._module``.
    """
    parser = argparse.ArgumentParser(
        prog="vinet",
        description="Approximate vanishing ideals, their sympy form, and VI-Net.",
    )
    parser.add_argument("--version", action="version", version=f"vinet {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        module = importlib.import_module(module_name)
        p = sub.add_parser(name, help=help_text, description=help_text)
        module.add_arguments(p)
        p.set_defaults(_module=module_name)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vinet`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 on success, 2 on a usage error, 1 on a failed run.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except ValueError as exc:  # every vinet.VinetError (AlgebraError, ...) is a ValueError
        print(f"vinet {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
