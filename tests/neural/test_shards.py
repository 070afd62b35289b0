"""Shard files: format 2 (teacher logits, meta), memory-mapped reading, format 1 still read."""

import json
import pickle

import numpy as np
import pytest

from neural import SHARD_FORMAT, NeuralError, load_shards, open_shards, save_shard


def _arrays(rows=7, width=3, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(rows, width)).astype(np.float32), rng.integers(0, classes, rows),
            rng.normal(size=(rows, classes)).astype(np.float32))


def test_format_2_round_trip_memory_mapped(tmp_path):
    parts = [_arrays(rows, seed=i) for i, rows in enumerate((7, 5))]
    meta = {"node": "layer3", "pooling": "avg", "input_shape": [3, 32, 32]}
    for i, (x, y, t) in enumerate(parts):
        path = save_shard(tmp_path, x, y, shard=(i, 2), teacher=t, meta=meta)
        assert path.suffix == ".npz"
    shards = open_shards(tmp_path)
    assert [s.path.name for s in shards] == ["shard-00000-of-00002.npz",
                                             "shard-00001-of-00002.npz"]
    for shard, (x, y, t) in zip(shards, parts, strict=True):
        # Mapped from the file, not read into memory; equal to what was saved.
        assert isinstance(shard.latents, np.memmap) and isinstance(shard.teacher, np.memmap)
        np.testing.assert_array_equal(shard.latents, x)
        np.testing.assert_array_equal(shard.labels, y)
        np.testing.assert_array_equal(shard.teacher, t)
        assert shard.meta == {**meta, "format": SHARD_FORMAT}
        # A shard pickles as its path (a task is sent the name, not the data).
        assert len(pickle.dumps(shard)) < 300
        again = pickle.loads(pickle.dumps(shard))
        np.testing.assert_array_equal(again.teacher, t)
        np.testing.assert_array_equal(shard.reopen().latents, x)
    latents, labels = load_shards(tmp_path)
    np.testing.assert_array_equal(latents, np.concatenate([p[0] for p in parts]))
    np.testing.assert_array_equal(labels, np.concatenate([p[1] for p in parts]))


def test_format_1_files_are_mapped_and_compressed_ones_read(tmp_path):
    x, y, _ = _arrays()
    # What earlier versions wrote: np.savez of latents and labels, no meta.
    with open(tmp_path / "shard-00000-of-00002.npz", "wb") as fh:
        np.savez(fh, latents=x, labels=y)
    with open(tmp_path / "shard-00001-of-00002.npz", "wb") as fh:
        np.savez_compressed(fh, latents=x[::-1], labels=y[::-1])
    first, second = open_shards(tmp_path)
    assert isinstance(first.latents, np.memmap) and first.meta == {"format": 1}
    assert not isinstance(second.latents, np.memmap)  # compressed: read into memory
    np.testing.assert_array_equal(first.latents, x)
    np.testing.assert_array_equal(second.labels, y[::-1])
    assert first.teacher is None
    bare = tmp_path / "bare"
    save_shard(bare, x, shard=(0, 1))  # latents alone: a .npy, mapped
    (shard,) = open_shards(bare)
    assert shard.path.suffix == ".npy" and isinstance(shard.latents, np.memmap)


def test_inconsistent_shards_are_errors(tmp_path):
    x, y, t = _arrays()
    save_shard(tmp_path / "t", x, y, shard=(0, 2), teacher=t)
    save_shard(tmp_path / "t", x, y, shard=(1, 2))
    with pytest.raises(NeuralError, match="some shards in .* have teacher and some do not "
                                          r"\(shard 1 has none\)"):
        open_shards(tmp_path / "t")
    save_shard(tmp_path / "tw", x, y, shard=(0, 2), teacher=t)
    save_shard(tmp_path / "tw", x, y, shard=(1, 2), teacher=t[:, :2])
    with pytest.raises(NeuralError, match="teacher logits of different widths"):
        open_shards(tmp_path / "tw")
    save_shard(tmp_path / "m", x, y, shard=(0, 2), meta={"node": "a"})
    save_shard(tmp_path / "m", x, y, shard=(1, 2), meta={"node": "b"})
    with pytest.raises(NeuralError, match="come from different extractions"):
        open_shards(tmp_path / "m")
    with pytest.raises(NeuralError, match=r"teacher of shape \(6, 4\) does not match"):
        save_shard(tmp_path / "bad", x, y, shard=(0, 1), teacher=t[:6])
    with pytest.raises(NeuralError, match="meta must be JSON-serialisable"):
        save_shard(tmp_path / "bad", x, y, shard=(0, 1), meta={"x": object()})
    # A newer format, and arrays that do not fit each other.
    (tmp_path / "new").mkdir()
    with open(tmp_path / "new" / "shard-00000-of-00001.npz", "wb") as fh:
        np.savez(fh, latents=x, labels=y, meta=np.array(json.dumps({"format": 99})))
    with pytest.raises(NeuralError, match="has format 99, but this vinet reads shard formats "
                                          f"1 to {SHARD_FORMAT}"):
        open_shards(tmp_path / "new")
    (tmp_path / "rows").mkdir()
    with open(tmp_path / "rows" / "shard-00000-of-00001.npz", "wb") as fh:
        np.savez(fh, latents=x, labels=y[:3])
    with pytest.raises(NeuralError, match=r"labels of shape \(3,\), which do not match"):
        open_shards(tmp_path / "rows")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "shard-00000-of-00001.npz").write_bytes(b"not a zip file")
    with pytest.raises(NeuralError, match=r"could not be read .* extract it again"):
        open_shards(tmp_path / "broken")
