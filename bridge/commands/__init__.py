"""Sub-commands of the ``vinet`` command line.

Each module here defines ``add_arguments(parser)`` and ``run(args) -> int``;
:data:`bridge.cli.COMMANDS` names them with their one-line help (imported only to run
one of them).
"""
