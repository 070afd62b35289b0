"""``vinet ideal``: generators of a data file as text, LaTeX and JSON."""

import json

import numpy as np
import pytest
import sympy

from bridge.cli import main


@pytest.fixture
def circle_npy(tmp_path):
    rng = np.random.default_rng(0)
    t = rng.uniform(0, 2 * np.pi, 200)
    X = np.column_stack([np.cos(t), np.sin(t)]) + rng.normal(scale=0.002, size=(200, 2))
    path = tmp_path / "circle.npy"
    np.save(path, X)
    return path


@pytest.fixture
def two_circles_csv(tmp_path):
    rng = np.random.default_rng(1)
    t = rng.uniform(0, 2 * np.pi, 200)
    r = np.where(np.arange(200) % 2, 1.0, 0.5)
    X = r[:, None] * np.column_stack([np.cos(t), np.sin(t)])
    kind = np.where(r == 1.0, "big", "small")
    path = tmp_path / "circles.csv"
    lines = ["u,v,kind"] + [f"{a:.17g},{b:.17g},{k}" for (a, b), k in zip(X, kind, strict=True)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path, X, kind


def test_text_output_is_the_circle(circle_npy, capsys):
    assert main(["ideal", str(circle_npy), "--psi", "1e-4", "--max-degree", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "# 1 generator (oavi, psi=0.0001)"
    expr = sympy.sympify(out[1].split("=", 1)[1].split("#")[0])
    x0, x1 = sympy.symbols("x0 x1")
    poly = sympy.Poly(expr, x0, x1)
    # x0² + x1² − 1 with leading coefficient 1 (OAVI), up to the noise.
    ref = {(2, 0): 1.0, (0, 2): 1.0, (0, 0): -1.0}
    for monom, coeff in poly.terms():
        assert float(coeff) == pytest.approx(ref.get(monom, 0.0), abs=2e-3)


def test_json_per_class_with_header_names(two_circles_csv, capsys):
    path, X, kind = two_circles_csv
    assert main(["ideal", str(path), "--label-column", "-1", "--method", "abm", "--psi",
                 "1e-6", "--max-degree", "2", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["variables"] == ["u", "v"]
    assert [c["label"] for c in out["classes"]] == ["big", "small"]
    u, v = sympy.symbols("u v")
    for cls in out["classes"]:
        (gen,) = cls["generators"]
        f = sympy.lambdify((u, v), sympy.sympify(gen["expression"]), "numpy")
        values = f(*X[kind == cls["label"]].T)
        # Recomputed independently from the printed expression: it vanishes.
        assert np.mean(values**2) <= 1e-6
        assert gen["mse"] == pytest.approx(np.mean(values**2), abs=1e-9)
        assert gen["degree"] == 2 and gen["leading_term"] == [2, 0]
        assert [0, 0] in cls["order_ideal"]


def test_latex_output(two_circles_csv, capsys):
    path, _, _ = two_circles_csv
    assert main(["ideal", str(path), "--label-column", "2", "--psi", "1e-6", "--max-degree", "2",
                 "--format", "latex", "--oracle", "pcg", "--order", "degrevlex"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "% 1 generator of class big"
    assert "u^{2}" in lines[1] and lines[1].endswith("\\\\")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "FILE 'missing.csv' does not exist"),
        (["data.txt"], "has the suffix '.txt'; pass a .csv or .npy file"),
        (["data.csv", "--label-column", "5"], "--label-column 5 is out of range for 3 columns"),
        (["bad.csv"], "every column except --label-column must hold numbers"),
        (["data.csv", "--psi", "-1"], "Parameter --psi -1.0 must be a finite number > 0"),
        (["data.csv", "--max-degree", "0"], "--max-degree 0 must be at least 1"),
        (["ragged.csv"], "has rows of different lengths (data row 2 has 1 cells)"),
        (["header.csv"], "has a header row but no data"),
        (["object.npy"], "is not a numeric .npy array"),
        (["labels.csv", "--label-column", "-1"],
         "Class 'b' of --label-column has 1 sample; each class needs at least 2"),
    ],
)
def test_errors(tmp_path, monkeypatch, capsys, args, message):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ragged.csv").write_text("1,2\n3\n4,5\n", encoding="utf-8")
    (tmp_path / "header.csv").write_text("u,v\n", encoding="utf-8")
    (tmp_path / "labels.csv").write_text("1,2,a\n3,4,a\n5,6,b\n", encoding="utf-8")
    np.save(tmp_path / "object.npy", np.array([[1.0, None]], dtype=object), allow_pickle=True)
    (tmp_path / "data.txt").write_text("1,2\n", encoding="utf-8")
    (tmp_path / "data.csv").write_text("1,2,3\n4,5,6\n7,8,9\n", encoding="utf-8")
    (tmp_path / "bad.csv").write_text("a,b\n1,2\n3,oops\n", encoding="utf-8")
    assert main(["ideal", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("vinet ideal: error: ") and message in err


def test_a_folder_of_shards_is_fitted_per_class(two_circles_csv, tmp_path, capsys):
    from algebra import fit_vanishing_ideal
    from neural import save_shard

    _, X, kind = two_circles_csv
    y = (kind == "small").astype(np.int64)
    out_dir = tmp_path / "shards"
    for i, rows in enumerate(np.array_split(np.arange(len(X)), 3)):
        save_shard(out_dir, X[rows].astype(np.float32), y[rows], shard=(i, 3))
    assert main(["ideal", str(out_dir), "--method", "abm", "--psi", "1e-6", "--max-degree", "2",
                 "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [c["label"] for c in out["classes"]] == [0, 1]
    x0, x1 = sympy.symbols("x0 x1")
    for cls in out["classes"]:
        # The oracle: the same fit on the class's rows of the unsharded (float32) data.
        ref = fit_vanishing_ideal(X[y == cls["label"]].astype(np.float32).astype(np.float64),
                                  method="abm", psi=1e-6, max_degree=2)
        got = [sympy.sympify(g["expression"]) for g in cls["generators"]]
        assert len(got) == len(ref.to_sympy())
        pts = X[y == cls["label"]][:5]
        for g_expr, r_expr in zip(got, ref.to_sympy(), strict=True):
            f = sympy.lambdify((x0, x1), g_expr - r_expr, "numpy")
            np.testing.assert_allclose(f(*pts.T), 0.0, atol=1e-9)


def test_label_column_with_shards_is_an_error(tmp_path, capsys):
    from neural import save_shard

    save_shard(tmp_path, np.zeros((4, 2), np.float32), None, shard=(0, 1))
    assert main(["ideal", str(tmp_path), "--label-column", "0"]) == 1
    assert "carry their labels themselves. Drop --label-column" in capsys.readouterr().err


def test_degree_is_a_deprecated_alias_of_max_degree(circle_npy, capsys):
    assert main(["ideal", str(circle_npy), "--psi", "1e-4", "--max-degree", "2"]) == 0
    new = capsys.readouterr()
    assert main(["ideal", str(circle_npy), "--psi", "1e-4", "--degree", "2"]) == 0
    old = capsys.readouterr()
    assert old.out == new.out and new.err == ""
    assert old.err == "vinet ideal: warning: --degree is deprecated; use --max-degree.\n"
    with pytest.raises(SystemExit):
        main(["ideal", "--help"])
    text = capsys.readouterr().out
    assert "--max-degree" in text and "--degree" not in text.replace("--max-degree", "")
