"""``vinet demo``, ``vinet fit``, ``vinet inspect`` and ``vinet evaluate``."""

import json

import numpy as np
import pytest
import sympy
import torch

from bridge import VINet
from bridge.cli import main
from neural import accuracy, load_digits, pretrained_digits_model

#: Fast `vinet fit` settings: 8 PCA components, 3 generators per class, one epoch.
FAST_FIT = ["--node", "relu_4", "--pooling", "flatten", "--n-components", "8", "--keep", "3",
            "--epochs", "1", "--max-samples", "60", "--no-progress"]


@pytest.fixture(scope="session")
def digits_model():
    """The cached pretrained digits ResNet (trained once per machine, then loaded)."""
    return pretrained_digits_model()


@pytest.fixture(scope="session")
def fitted_file(digits_model, tmp_path_factory):
    """A VI-Net file written by `vinet fit --digits` with the fast settings."""
    path = tmp_path_factory.mktemp("fit") / "vinet.pt"
    assert main(["fit", "--digits", *FAST_FIT, "--out", str(path)]) == 0
    return path


@pytest.mark.slow  # the whole demo pipeline at one cut, with both baselines
def test_demo_quick_prints_saves_and_plots(digits_model, tmp_path, capsys):
    out = tmp_path / "demo"
    # Without --no-progress: stderr is not a terminal here, so the demo shows no bars.
    assert main(["demo", "--quick", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "%|" not in captured.err and "\r" not in captured.err
    payload = json.loads((out / "demo.json").read_text())
    rows = payload["rows"]
    assert [r["kind"] for r in rows] == ["full", "vinet", "linear", "random", "mlp"]
    assert payload["seeds"] == [0, 1]  # --quick: two backbones
    # Seed 0's full network is the cached model, its accuracy measured independently.
    expected = 100 * accuracy(digits_model, load_digits("test"))
    assert rows[0]["accuracy_per_seed"][0] == pytest.approx(expected, abs=0.01)
    for r in rows:
        per_seed = r["accuracy_per_seed"]
        assert len(per_seed) == 2
        assert r["accuracy"] == pytest.approx(np.mean(per_seed), abs=1e-3)
        assert r["accuracy_std"] == pytest.approx(np.std(per_seed, ddof=1), abs=1e-3)
        assert f"{r['accuracy']:.2f}" in text and r["model"] in text
        assert r["params_total"] == pytest.approx(
            r["params_base"] + r["params_prep"] + r["params_poly"] + r["params_head"], abs=2)
    vinet = rows[1]
    for r in rows[2:]:  # the paired differences are VI-Net's minus the row's, per seed
        np.testing.assert_allclose(
            r["diff_vinet"]["per_seed"],
            np.subtract(vinet["accuracy_per_seed"], r["accuracy_per_seed"]), atol=2e-3)
    # Parameters recounted on the models themselves (one count); every model is timed.
    from neural import count_parameters, truncate

    assert rows[0]["params_total"] == count_parameters(digits_model).total
    base = count_parameters(truncate(digits_model, "relu_4")).total
    assert all(r["params_base"] == base for r in rows[1:])
    assert all(r["throughput"] > 0 for r in rows)
    # The cut at the end of layer2 keeps 6 of the 9 convolutions.
    assert rows[1]["node"] == "relu_4" and rows[1]["conv_removed"] == pytest.approx(33.3)
    # The printed verdict is the one saved, with each check's.
    check = payload["acceptance"][0]
    assert check["node"] == "relu_4"
    line = next(t for t in text.splitlines() if t.strip().startswith("relu_4 (33% removed"))
    assert line.endswith(": " + check["verdict"].upper())
    assert f"mean accuracy drop {check['accuracy_drop']:.2f} points" in line
    assert {"within_tolerance", "fewer_params", "faster", "beats_linear",
            "beats_random"} == set(check["checks"])
    assert str(out / "demo.json") in text and str(out / "demo.png") in text
    png = (out / "demo.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    assert matplotlib.image.imread(out / "demo.png").ndim == 3


def test_fit_writes_a_loadable_vinet(fitted_file, capsys):
    net = VINet.load(fitted_file)
    assert net.config["node"] == "relu_4" and net.config["arch"] == "digits_resnet"
    assert net.poly.in_features == 8 and int(net.poly.labels.bincount().max()) <= 3
    assert net.config["n_classes"] == 10


def _printed_generators(lines):
    """{class: {j: sympy expression}} from inspect's "  gJ = expr    # ..." lines."""
    printed: dict[int, dict] = {}
    current = None
    for line in lines:
        if line.startswith("class ") and line.endswith(":"):
            current = int(line.split()[1].rstrip(":"))
            printed[current] = {}
        elif line.startswith("  g") and current is not None:
            name, expr = line.split("#")[0].split(" = ", 1)
            printed[current][int(name.strip()[1:])] = sympy.sympify(expr)
    return printed


def test_inspect_all_prints_every_generator_as_sympy(fitted_file, capsys):
    assert main(["inspect", str(fitted_file), "--all", "--precision", "17"]) == 0
    printed = _printed_generators(capsys.readouterr().out.splitlines())
    net = VINet.load(fitted_file)
    gens = sympy.symbols("z0:8")
    polys = net.generators()
    assert sorted(printed) == sorted(set(net.poly.labels.tolist()))
    pts = np.random.default_rng(0).uniform(-1, 1, (5, 8))
    for label, ps in zip(sorted(printed), polys, strict=True):
        assert sorted(printed[label]) == list(range(len(ps)))
        values = np.array([[float(printed[label][j].subs(dict(zip(gens, p, strict=True))))
                            for j in range(len(ps))] for p in pts])
        np.testing.assert_allclose(values, ps.evaluate(pts), rtol=1e-6, atol=1e-6)


def test_inspect_summarises_and_prints_the_top_generators(fitted_file, capsys):
    assert main(["inspect", str(fitted_file), "--top", "1"]) == 0
    lines = capsys.readouterr().out.splitlines()
    net = VINet.load(fitted_file)
    labels = net.poly.labels.numpy()
    # The head reads the generators in its last columns (with skip, the latents first).
    weight = net.head.weight.detach().double()[:, -len(labels):].norm(dim=0).numpy()
    header = next(i for i, t in enumerate(lines) if t.startswith("class  generators"))
    for row, (label, polys) in zip(lines[header + 1:], zip(np.unique(labels), net.generators(),
                                                            strict=True), strict=False):
        cells = row.split()
        assert cells[:3] == [str(label), str(len(polys)),
                             f"{polys.degrees.min()}-{polys.degrees.max()}"]
        assert int(cells[3]) == int((polys.coef != 0).sum())
    printed = _printed_generators(lines)
    for label in np.unique(labels):
        # The one printed is the generator whose head column has the largest norm.
        (j,) = printed[label]
        assert j == int(np.argmax(weight[labels == label]))
        count = int((labels == label).sum())
        if count > 1:
            assert f"  ... {count - 1} more" in lines
    assert main(["inspect", str(fitted_file), "--top", "0"]) == 0
    assert not _printed_generators(capsys.readouterr().out.splitlines())


def test_evaluate_reports_the_model_accuracy(fitted_file, capsys):
    assert main(["evaluate", str(fitted_file), "--digits", "--repeats", "1", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    net = VINet.load(fitted_file)
    X, y = load_digits("test")
    with torch.no_grad():
        expected = (net(X).argmax(1) == y).double().mean().item()
    assert report["accuracy"] == pytest.approx(expected)
    assert report["params"] == net.parameter_counts() and report["throughput"] > 0


def test_fit_and_evaluate_from_user_files(digits_model, tmp_path, capsys):
    weights = tmp_path / "weights.pt"
    torch.save(digits_model.state_dict(), weights)
    X, y = load_digits("train")
    data = tmp_path / "train.npz"
    np.savez(data, X=X[:300].numpy(), y=y[:300].numpy())
    out = tmp_path / "user.pt"
    assert main(["fit", "--arch", "digits_resnet", "--weights", str(weights), "--data", str(data),
                 *FAST_FIT, "--out", str(out)]) == 0
    assert "saved" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--data", str(data), "--repeats", "1"]) == 0
    text = capsys.readouterr().out
    net = VINet.load(out)
    with torch.no_grad():
        acc = (net(X[:300]).argmax(1) == y[:300]).double().mean().item()
    assert f"accuracy   {100 * acc:.2f} %" in text


def test_command_errors_are_clear(fitted_file, digits_model, tmp_path, capsys):
    assert main(["inspect", str(tmp_path / "missing.pt")]) == 1
    assert "does not exist" in capsys.readouterr().err
    wrong = tmp_path / "wrong.npz"
    np.savez(wrong, X=np.zeros((4, 1, 6, 6), np.float32), y=np.zeros(4, np.int64))
    assert main(["evaluate", str(fitted_file), "--data", str(wrong), "--repeats", "1"]) == 1
    assert "images of data have shape (1, 6, 6) but this VINet was fitted on (1, 8, 8)" in (
        capsys.readouterr().err)
    unlabeled = tmp_path / "unlabeled.npz"
    np.savez(unlabeled, X=np.zeros((4, 1, 8, 8), np.float32))
    weights = tmp_path / "weights.pt"
    torch.save(digits_model.state_dict(), weights)
    assert main(["fit", "--arch", "digits_resnet", "--weights", str(weights),
                 "--data", str(unlabeled), *FAST_FIT, "--out", str(tmp_path / "x.pt")]) == 1
    assert "has no labels 'y'; VI-Net needs labelled data" in capsys.readouterr().err
    assert main(["fit", "--digits", *FAST_FIT, "--node", "fc", "--out",
                 str(tmp_path / "x.pt")]) == 1
    assert "is at or after the classifier 'fc'" in capsys.readouterr().err
    assert not (tmp_path / "x.pt").exists()


def test_fit_and_load_errors_name_the_bad_input(fitted_file, digits_model, tmp_path, capsys):
    weights = tmp_path / "weights.pt"
    torch.save(digits_model.state_dict(), weights)
    out = str(tmp_path / "x.pt")
    user = ["fit", "--arch", "digits_resnet", "--digits", *FAST_FIT, "--out", out]
    assert main([*user, "--weights", str(tmp_path / "none.pt")]) == 1
    err = capsys.readouterr().err
    assert f"--weights {tmp_path / 'none.pt'} is not a file" in err
    assert main(["fit", "--arch", "digits_resnet", "--weights", str(weights), "--data",
                 str(tmp_path / "none.npz"), *FAST_FIT, "--out", out]) == 1
    assert "none.npz' could not be read as an .npz file" in capsys.readouterr().err
    assert main(["fit", "--digits", *FAST_FIT, "--node", "relu_44", "--out", out]) == 1
    assert "--node relu_44 is not a node of the traced model. Did you mean 'relu_4'" in (
        capsys.readouterr().err)
    # Weights of the digits ResNet given for another registered architecture.
    assert main(["fit", "--arch", "resnet18", "--weights", str(weights), "--digits",
                 *FAST_FIT, "--out", out]) == 1
    err = capsys.readouterr().err
    assert "do not fit --arch resnet18" in err and "mis-shaped 'conv1.weight'" in err
    assert not (tmp_path / "x.pt").exists()
    # Options out of range, before any work is done.
    for command, message in (
        (["evaluate", str(fitted_file), "--digits", "--repeats", "0"],
         "--repeats 0 must be at least 1"),
        (["evaluate", str(fitted_file), "--digits", "--threads", "0"],
         "--threads 0 must be at least 1"),
        (["inspect", str(fitted_file), "--precision", "0"], "--precision 0 must be at least 1"),
        (["inspect", str(fitted_file), "--top", "-1"], "--top -1 must be at least 0"),
    ):
        assert main(command) == 1
        assert message in capsys.readouterr().err
    # A plain state_dict is a torch file but not a VI-Net file, for every command.
    for command in (["evaluate", str(weights), "--digits"], ["inspect", str(weights)]):
        assert main(command) == 1
        assert "is a torch file but not a VI-Net file" in capsys.readouterr().err


def test_progress_bars_only_on_a_terminal(monkeypatch):
    import io
    import sys

    from bridge.commands._common import show_progress

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stderr", Terminal())
    assert show_progress(False) and not show_progress(True)
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # a log file or a pipe
    assert not show_progress(False)
