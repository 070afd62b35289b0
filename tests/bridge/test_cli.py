"""The ``vinet`` command line: version, help, exit statuses, errors, lazy imports."""

import subprocess
import sys

import pytest

from bridge.cli import COMMANDS, build_parser, flag_names, main
from vinet import VinetError, __version__

#: Modules ``vinet --help`` and ``--version`` must not import (each costs 0.3-3 s).
HEAVY = ("torch", "numpy", "numba", "sklearn", "sympy", "scipy", "algebra", "neural")


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"vinet {__version__}"


@pytest.mark.parametrize("argv", [["--help"], ["--version"], []])
def test_help_and_version_import_no_numerical_library(argv):
    # What makes them fast (benchmarks/bench_cli.py times them): a fresh interpreter,
    # as the `vinet` script starts one, imports none of the heavy modules.
    code = (f"import sys\nfrom bridge.cli import main\ntry:\n    main({argv!r})\n"
            "except SystemExit:\n    pass\n"
            f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.splitlines()[-1] == "[]"


def test_no_command_prints_help_on_stderr_and_exits_2(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("usage: vinet")
    for name in COMMANDS:  # the help lists every command
        assert name in captured.err


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["no-such-command"])
    assert exc.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_every_command_module_defines_its_interface():
    parser = build_parser()  # imports every command module
    sub = next(a for a in parser._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)
    for name, (module_name, help_text) in COMMANDS.items():
        module = sys.modules[module_name]
        assert callable(module.add_arguments) and callable(module.run)
        assert sub.choices[name].description == help_text


def test_flag_names_rewrites_api_parameters_as_flags():
    parser = build_parser(["fit"])
    fit = next(a for a in parser._actions if a.dest == "command").choices["fit"]
    message = ("pooling='mean' is not one of ('avg', 'max'); psi=-1.0 must be > 0; "
               "n_components=17 is too large at node='layer3.1.bn1'; x_psi=1 and "
               "options['psi']=2 stay")
    assert flag_names(message, fit) == (
        "--pooling mean is not one of ('avg', 'max'); --psi -1.0 must be > 0; "
        "--n-components 17 is too large at --node layer3.1.bn1; x_psi=1 and "
        "options['psi']=2 stay")


class _Failing:
    """A command module whose run raises ``error``."""

    def __init__(self, error):
        self.error = error

    def add_arguments(self, parser):
        parser.add_argument("--psi", type=float)

    def run(self, args):
        raise self.error


@pytest.fixture
def failing(monkeypatch):
    """Install a fake `vinet fail` command whose run raises the given exception."""
    import importlib

    def install(error):
        module = _Failing(error)
        real = importlib.import_module
        monkeypatch.setitem(COMMANDS, "fail", ("fake.fail", "fails"))
        monkeypatch.setattr(importlib, "import_module",
                            lambda name: module if name == "fake.fail" else real(name))

    return install


def test_a_library_error_is_one_line_and_status_1(failing, capsys):
    failing(VinetError("psi=-1.0 must be positive;\n  pass e.g. psi=0.01."))
    assert main(["fail", "--psi", "-1"]) == 1
    captured = capsys.readouterr()
    assert captured.err == "vinet fail: error: --psi -1.0 must be positive; pass e.g. --psi 0.01.\n"


def test_an_os_error_is_one_line_and_status_1(failing, capsys):
    failing(PermissionError(13, "Permission denied", "/root/out.pt"))
    assert main(["fail"]) == 1
    assert capsys.readouterr().err == (
        "vinet fail: error: [Errno 13] Permission denied: '/root/out.pt'\n")


def test_traceback_shows_the_stack_before_or_after_the_command(failing):
    failing(VinetError("bad input"))
    for argv in (["--traceback", "fail"], ["fail", "--traceback"]):
        with pytest.raises(VinetError, match="bad input"):
            main(argv)


def test_a_bug_is_a_real_traceback(failing):
    failing(TypeError("a bug"))
    with pytest.raises(TypeError, match="a bug"):
        main(["fail"])


def test_interrupt_exits_130(failing, capsys):
    failing(KeyboardInterrupt())
    assert main(["fail"]) == 130
    assert capsys.readouterr().err == "vinet fail: interrupted\n"


def test_demo_prints_generators_that_vanish_on_the_circle_points(capsys):
    import sympy

    from algebra import border, buchberger_moller, rational_circle_points

    assert main(["demo", "--algebra"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    start_bb = lines.index("border basis (6 polynomials):")
    start_gb = lines.index("reduced Groebner basis (3 polynomials):")
    x0, x1 = sympy.symbols("x0 x1")
    parsed = [sympy.sympify(line.split(" = ", 1)[1]) for line in lines if line.startswith("  g")]
    points = rational_circle_points(8)
    # 6 border polynomials (|border of O| for the 8 points), then 3 Groebner ones.
    assert len(parsed) == 9 and start_gb == start_bb + 7
    assert len(border(buchberger_moller(points).order_ideal)) == 6
    for expr in parsed:
        for a, b in points:
            value = expr.subs({x0: sympy.Rational(a.numerator, a.denominator),
                               x1: sympy.Rational(b.numerator, b.denominator)})
            assert value == 0, (expr, a, b)
    assert x0**2 + x1**2 - 1 in parsed
    assert "multiplication matrices commute: True" in out
