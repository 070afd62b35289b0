"""Sub-commands of the ``vinet`` command line.

Each module here defines ``NAME`` (the sub-command), ``HELP`` (one line),
``add_arguments(parser)`` and ``run(args) -> int``; :mod:`bridge.cli` lists them in
:data:`bridge.cli.COMMANDS`.
"""
