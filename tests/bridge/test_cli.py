"""The ``vinet`` command line: version, help, unknown commands."""

import pytest

from algebra import __version__
from bridge.cli import main


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"vinet {__version__}"


def test_no_command_prints_help(capsys):
    assert main([]) == 2
    assert "usage: vinet" in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err
