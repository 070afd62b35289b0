"""The ``vinet`` command line: ``vinet demo``, ``vinet ideal``, ``vinet fit`` and friends.

Sub-commands live one per module in :mod:`bridge.commands`. Only the module of the
command being run is imported (to add its options and run it), and :mod:`bridge` imports
its own modules on first use, so ``vinet --version`` and ``vinet --help`` import neither
torch nor the numerical libraries (``benchmarks/bench_cli.py`` times them).

Conventions (``docs/cli.md``): a vinet error (:class:`vinet.VinetError`) or an operating
system error (a missing or unwritable file) prints one line ``vinet COMMAND: error:
...`` on stderr and exits with status 1 (``--traceback`` shows the stack instead); a
usage error, and a bare ``vinet``, print the usage on stderr and exit with status 2; any
other exception is a bug and propagates with its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence

from vinet import VinetError, __version__

#: Sub-command name -> module in :mod:`bridge.commands` and its one-line help.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("bridge.commands.demo", "Run the whole pipeline on the bundled default data."),
    "ideal": (
        "bridge.commands.ideal",
        "Print the generators of the approximate vanishing ideal of a .csv or .npy file, "
        "or of a folder of latent shards.",
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
        "Summarise a saved VI-Net: its configuration and each class's top generators.",
    ),
    "evaluate": (
        "bridge.commands.evaluate",
        "Accuracy, parameters and throughput of a saved VI-Net on labelled data.",
    ),
    "export": (
        "bridge.commands.export",
        "Write a saved VI-Net as a self-contained torch.export (.pt2) or ONNX file.",
    ),
}

_TRACEBACK_HELP = "on an error, show the full stack instead of one line"


def build_parser(commands: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """Build the ``vinet`` argument parser with one sub-parser per command.

    Parameters
    ----------
    commands : sequence of str, optional
        The sub-commands whose options are added (their modules are imported for
        that); the others are listed with their one-line help only. Default: all, as
        the documentation's reference needs.

    Returns
    -------
    argparse.ArgumentParser
        The parser; each sub-parser stores its module name in ``args._module``.
    """
    parser = argparse.ArgumentParser(
        prog="vinet",
        description="Approximate vanishing ideals, their sympy form, and VI-Net.",
        epilog="Run `vinet COMMAND --help` for the options of a command.",
    )
    parser.add_argument("--version", action="version", version=f"vinet {__version__}")
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, help_text) in COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(_module=module_name)
        if commands is None or name in commands:
            importlib.import_module(module_name).add_arguments(p)
            # Also accepted after the command; SUPPRESS keeps a --traceback given before
            # the command (argparse would otherwise reset it to the sub-parser's default).
            p.add_argument("--traceback", action="store_true", default=argparse.SUPPRESS,
                           help=_TRACEBACK_HELP)
    return parser


def flag_names(message: str, parser: argparse.ArgumentParser) -> str:
    """Rewrite the API parameter names in ``message`` as the command's flags.

    The library's errors name a keyword argument and its value (``psi=-1.0``,
    ``pooling='mean'``); on the command line the same value came from a flag. Every
    option of ``parser`` whose ``dest`` is that keyword becomes its long flag
    (``--psi -1.0``, ``--pooling mean``), which is why the commands name each option's
    ``dest`` after the API parameter it feeds.

    Parameters
    ----------
    message : str
        The error message.
    parser : argparse.ArgumentParser
        The sub-command's parser.

    Returns
    -------
    str
    """
    for action in parser._actions:
        longs = [o for o in action.option_strings if o.startswith("--")]
        if not longs or action.dest in ("help", argparse.SUPPRESS):
            continue
        flag = longs[0]
        # name='token' -> --flag token (a quoted word needs no quotes on a command line),
        # then any other name=value -> --flag value.
        prefix = rf"(?<![\w.\-\[]){re.escape(action.dest)}="
        message = re.sub(prefix + r"'([^'\s]+)'", lambda m, f=flag: f"{f} {m.group(1)}",
                         message)
        message = re.sub(prefix, f"{flag} ", message)
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``vinet`` command line.

    Parameters
    ----------
    argv : sequence of str, optional
        Arguments without the program name; ``sys.argv[1:]`` when omitted.

    Returns
    -------
    int
        The exit status: 0 on success, 1 on a failed run (a :class:`vinet.VinetError` or
        an ``OSError``, reported in one line on stderr), 2 on a usage error or without a
        command, 130 when interrupted.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    # The top-level options take no value, so the first word is the command.
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = build_parser([command] if command in COMMANDS else [])
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    module = importlib.import_module(args._module)
    try:
        return int(module.run(args) or 0)
    except (VinetError, OSError) as exc:
        if args.traceback:
            raise
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        text = " ".join(str(exc).split()) or type(exc).__name__
        print(f"vinet {args.command}: error: {flag_names(text, sub.choices[args.command])}",
              file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        if args.traceback:
            raise
        print(f"vinet {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
