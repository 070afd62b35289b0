"""Baseline training, the cached digits model, accuracy."""

import numpy as np
import pytest
import torch

import neural._train as train_mod
from neural import (
    NeuralError,
    accuracy,
    cache_dir,
    digits_resnet,
    load_digits,
    pretrained_digits_model,
    train_classifier,
)


def test_digits_baseline_accuracy_lower_bound(digits_model):
    # Measured 0.993 on the 450 test digits (10 epochs, seed 0); the bound leaves room
    # for platform differences in floating point.
    assert accuracy(digits_model, load_digits("test")) >= 0.97
    assert not digits_model.training


def test_accuracy_equals_manual_argmax(digits_model):
    X, y = load_digits("test")
    with torch.no_grad():
        pred = digits_model(X).argmax(1)
    assert accuracy(digits_model, (X, y), batch_size=33) == pytest.approx(
        float((pred == y).double().mean())
    )
    with pytest.raises(NeuralError, match=r"accuracy needs labels"):
        accuracy(digits_model, X)


def test_cache_is_reused_and_fresh_retrains(digits_model, digits_cache, monkeypatch):
    files = list(digits_cache.glob("digits_resnet-*.pt"))
    assert len(files) == 1  # keyed by architecture + recipe hash
    calls = []
    real = train_mod.train_classifier
    monkeypatch.setattr(
        train_mod,
        "train_classifier",
        lambda *a, **k: calls.append(k) or real(*a, **{**k, "epochs": 1}),
    )
    again = pretrained_digits_model(cache_dir=digits_cache)
    assert calls == []  # loaded, not trained
    for a, b in zip(again.state_dict().values(), digits_model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    retrained = pretrained_digits_model(fresh=True, cache_dir=digits_cache / "other")
    assert len(calls) == 1 and calls[0]["seed"] == 0
    assert not torch.equal(retrained.fc.weight, digits_model.fc.weight)  # 1 epoch, not 10


def test_cache_dir_honours_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("VINET_CACHE_DIR", str(tmp_path / "v"))
    assert cache_dir() == tmp_path / "v"
    monkeypatch.delenv("VINET_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert cache_dir() == tmp_path / "x" / "vinet"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert cache_dir() == tmp_path / "h" / ".cache" / "vinet"


def test_training_is_reproducible_and_learns():
    X, y = load_digits("train")
    X, y = X[:256], y[:256]

    def run():
        torch.manual_seed(3)
        model = digits_resnet(widths=(8, 8, 8))
        before = accuracy(model, (X, y))
        train_classifier(
            model, (X, y), epochs=8, batch_size=32, lr=0.01, seed=5, progress=False, num_threads=1
        )
        return model, before

    m1, before = run()
    m2, _ = run()
    for a, b in zip(m1.state_dict().values(), m2.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    assert accuracy(m1, (X, y)) > max(before, 0.5)
    assert not m1.training


def test_num_threads_is_restored():
    X, y = load_digits("train")
    before = torch.get_num_threads()  # 1 under the session fixture
    train_classifier(digits_resnet(widths=(4, 4, 4)), (X[:16], y[:16]), epochs=1,
                     batch_size=16, progress=False, num_threads=before + 1)
    assert torch.get_num_threads() == before


def test_training_errors():
    model = digits_resnet()
    X, y = load_digits("test")
    with pytest.raises(NeuralError, match=r"epochs=0 must be a positive integer"):
        train_classifier(model, (X, y), epochs=0)
    with pytest.raises(NeuralError, match=r"a batch of data of shape \(64, 3, 8, 8\) does not fit"):
        train_classifier(model, (X.repeat(1, 3, 1, 1), y), epochs=1, progress=False)
    with pytest.raises(NeuralError, match=r"data of type str is not supported"):
        train_classifier(model, "digits.npz", epochs=1)
    with pytest.raises(NeuralError, match=r"lr='0\.1' must be a positive number"):
        train_classifier(model, (X, y), lr="0.1")
    with pytest.raises(NeuralError, match=r"batch_size=0 must be a positive integer"):
        train_classifier(model, (X, y), batch_size=0)
    with pytest.raises(NeuralError, match=r"labels must be integer class indices, got dtype "
                                          r"torch\.float32; pass y\.long\(\)"):
        train_classifier(model, (X, y.float()), epochs=1, progress=False)
    with pytest.raises(NeuralError, match=r"model must be a torch\.nn\.Module, got str"):
        train_classifier("model.pt", (X, y))
    assert np.isfinite(accuracy(model, (X, y)))
