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
