"""Shards of extracted latents on disk: written one per worker, read back memory-mapped.

Extraction is the embarrassingly parallel step of VI-Net (Pelleriti et al., ICML 2025,
Sec. 4): ``extract_latents(..., shard=(i, n))`` on ``n`` machines, each writing its part
with :func:`save_shard` into one shared folder. :func:`load_shards` concatenates them in
memory; :func:`open_shards` memory-maps them instead, so a fit over millions of latents
reads them shard by shard and never holds them all (``bridge.build_vinet_from_shards``).

The file of shard ``i`` of ``n`` is ``shard-0000i-of-0000n.npy`` (latents only) or
``.npz``, an uncompressed NumPy archive of the arrays ``latents`` (N_i, D), ``labels``
(N_i,) int64 and, from format 2, optionally ``teacher`` (N_i, C) (the full network's
logits, for distillation) and ``meta`` (a JSON string: the format version and what the
extraction was, e.g. the cut node and the pooling). An uncompressed archive stores each
array's bytes in one piece, so :func:`open_shards` maps them straight from the file
(format-1 files written by earlier versions too); a compressed archive
(``np.savez_compressed``) is read into memory instead.
"""

from __future__ import annotations

import json
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from neural._errors import NeuralError
from neural._util import is_int

__all__ = ["SHARD_FORMAT", "Shard", "check_shard", "load_shards", "open_shards", "save_shard",
           "shard_path"]

#: Version of the shard files :func:`save_shard` writes: 1 = latents and labels; 2 adds
#: the optional ``teacher`` and ``meta`` arrays. :func:`open_shards` reads 1 and 2.
SHARD_FORMAT = 2
_SHARD_RE = re.compile(r"^shard-(\d+)-of-(\d+)\.(npy|npz)$")


class Shard(NamedTuple):
    """One shard of latents as :func:`open_shards` returns it (arrays memory-mapped).

    Attributes
    ----------
    path : pathlib.Path
        The shard's file.
    latents : ndarray of shape (N_i, D)
        The pooled latents, read-only.
    labels : ndarray of shape (N_i,), int64, or None
        The labels, if the shard has them.
    teacher : ndarray of shape (N_i, C) or None
        The full network's logits of the same samples (for distillation).
    meta : dict
        What :func:`save_shard` was given as ``meta`` (empty for format-1 files), and
        ``format``, the file's version.

    Notes
    -----
    A shard pickles as its path: unpickled (in a joblib or Dask worker, say) it maps
    the file again, so a task is sent the file's name, never its data.
    """

    path: Path
    latents: np.ndarray
    labels: np.ndarray | None
    teacher: np.ndarray | None
    meta: dict[str, Any]

    def reopen(self) -> Shard:
        """The same shard, mapped afresh.

        Pages of a mapping that were read stay in the process's memory (the resident
        set) until the mapping is dropped: a pass over many shards that reopens each one
        and drops it afterwards holds one shard's pages at a time.

        Returns
        -------
        Shard
        """
        return _open_one(self.path)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _open_one, (str(self.path),)


def check_shard(shard: Any) -> tuple[int, int] | None:
    """Validate ``shard=(i, n)`` (``0 <= i < n``); None passes through."""
    if shard is None:
        return None
    try:
        i, n = shard
        ok = is_int(i, 0) and is_int(n, 1) and i < n
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise NeuralError(
            f"shard={shard!r} must be a pair (i, n) of integers with 0 <= i < n (the i-th "
            "of n contiguous parts); pass e.g. shard=(0, 4)."
        )
    return int(i), int(n)


def shard_path(directory: str | os.PathLike, shard: tuple[int, int], archive: bool) -> Path:
    """Path of shard ``(i, n)``: ``directory/shard-0000i-of-0000n.npz`` (``.npy`` if not
    ``archive``: latents alone)."""
    i, n = shard
    return Path(directory) / f"shard-{i:05d}-of-{n:05d}.{'npz' if archive else 'npy'}"


def save_shard(
    directory: str | os.PathLike,
    latents: np.ndarray,
    labels: np.ndarray | None = None,
    *,
    shard: tuple[int, int],
    teacher: np.ndarray | None = None,
    meta: dict[str, Any] | None = None,
) -> Path:
    """Write one shard of latents (and labels, teacher logits) for :func:`open_shards`.

    Parameters
    ----------
    directory : path
        Created if missing; every shard of one extraction goes into the same one.
    latents : ndarray of shape (N_i, D)
        The shard's latent features, as returned by :func:`extract_latents`.
    labels : ndarray of shape (N_i,), optional
        Their labels.
    shard : tuple (i, n)
        Which shard this is, as passed to :func:`extract_latents`.
    teacher : ndarray of shape (N_i, C), optional
        The full network's logits of the same samples (VI-Net's distillation teacher),
        stored as float32.
    meta : dict, optional
        JSON-serialisable facts about the extraction (the cut ``node``, ``pooling``,
        ``grid``, ``input_shape``, ``arch``, ...), stored with the format version and
        returned by :func:`open_shards` as :attr:`Shard.meta`.

    Returns
    -------
    pathlib.Path
        The file written: a ``.npy`` of the latents when nothing else is given, else an
        uncompressed ``.npz`` of the arrays ``latents``, ``labels``, ``teacher`` and
        ``meta`` given. It is written to a temporary name first and then renamed, so a
        reader never sees half a shard.
    """
    shard = check_shard(shard)
    latents = np.asarray(latents)
    if latents.ndim != 2:
        raise NeuralError(
            f"latents must have shape (N, D), got {latents.shape}; pass pooled latents."
        )
    arrays: dict[str, np.ndarray] = {"latents": latents}
    if labels is not None:
        if np.shape(labels) != latents.shape[:1]:
            raise NeuralError(
                f"labels of shape {np.shape(labels)} do not match latents of shape "
                f"{latents.shape}; pass one label per row."
            )
        arrays["labels"] = np.asarray(labels, dtype=np.int64)
    if teacher is not None:
        if np.ndim(teacher) != 2 or np.shape(teacher)[0] != latents.shape[0]:
            raise NeuralError(
                f"teacher of shape {np.shape(teacher)} does not match latents of shape "
                f"{latents.shape}; pass the (N, C) logits of the same samples."
            )
        arrays["teacher"] = np.asarray(teacher, dtype=np.float32)
    if meta is not None:
        try:
            text = json.dumps({**meta, "format": SHARD_FORMAT})
        except TypeError as exc:
            raise NeuralError(f"meta must be JSON-serialisable (numbers, strings, lists, "
                              f"dicts): {exc}.") from None
        arrays["meta"] = np.array(text)
    path = shard_path(directory, shard, archive=len(arrays) > 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        if len(arrays) == 1:
            np.save(fh, latents)
        else:
            np.savez(fh, **arrays)  # uncompressed: open_shards maps its arrays
    os.replace(tmp, path)
    return path


def _map_member(path: Path, info: zipfile.ZipInfo) -> np.ndarray | None:
    """The array of an uncompressed ``.npz`` member, memory-mapped; None if compressed.

    A stored (uncompressed) zip member is its ``.npy`` file byte for byte, after the
    member's local header (30 bytes, then the name and an extra field of the lengths
    the header gives, PKWARE APPNOTE 4.3.7); the ``.npy`` header then gives dtype, shape
    and order, and the data follows it.
    """
    if info.compress_type != zipfile.ZIP_STORED:
        return None
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
        if header[:4] != b"PK\x03\x04":
            return None
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        fh.seek(info.header_offset + 30 + name_len + extra_len)
        version = np.lib.format.read_magic(fh)
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        shape, fortran, dtype = read_header(fh)
        offset = fh.tell()
    if dtype.hasobject:
        return None
    if int(np.prod(shape)) == 0:
        return np.zeros(shape, dtype=dtype)
    return np.memmap(path, dtype=dtype, mode="r", offset=offset, shape=shape,
                     order="F" if fortran else "C")


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    """The arrays of a shard archive: mapped from the file where stored uncompressed."""
    out: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(path) as zf:
            infos = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
        with np.load(path, allow_pickle=False) as archive:
            for name, info in infos.items():
                mapped = _map_member(path, info) if name != "meta" else None
                out[name] = mapped if mapped is not None else archive[name]
    except (OSError, ValueError, zipfile.BadZipFile) as exc:
        raise NeuralError(f"shard {str(path)!r} could not be read ({exc}); it is damaged or "
                          "not written by save_shard: extract it again.") from None
    return out


def _open_one(path: str | os.PathLike) -> Shard:
    """One shard file, its arrays memory-mapped and checked against each other."""
    path = Path(path)
    if path.suffix == ".npy":
        try:
            latents = np.load(path, mmap_mode="r", allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise NeuralError(f"shard {str(path)!r} could not be read ({exc}); extract it "
                              "again.") from None
        return Shard(path, latents, None, None, {"format": 1})
    arrays = _read_npz(path)
    if "latents" not in arrays:
        raise NeuralError(f"shard {str(path)!r} holds no 'latents' array; it was not written "
                          "by save_shard: extract it again.")
    meta: dict[str, Any] = {"format": 1}
    if "meta" in arrays:
        meta = json.loads(str(arrays["meta"][()]))
        if not isinstance(meta.get("format"), int) or meta["format"] > SHARD_FORMAT:
            raise NeuralError(
                f"shard {str(path)!r} has format {meta.get('format')!r}, but this vinet "
                f"reads shard formats 1 to {SHARD_FORMAT}; upgrade vinet or extract again."
            )
    latents = arrays["latents"]
    rows = latents.shape[0] if latents.ndim == 2 else -1
    for name in ("labels", "teacher"):
        if name in arrays and (arrays[name].shape[:1] != (rows,)
                               or arrays[name].ndim != (1 if name == "labels" else 2)):
            raise NeuralError(
                f"shard {str(path)!r} holds latents of shape {latents.shape} and {name} of "
                f"shape {arrays[name].shape}, which do not match; extract it again."
            )
    if latents.ndim != 2:
        raise NeuralError(f"shard {str(path)!r} holds latents of shape {latents.shape}, not "
                          "(N, D); extract it again.")
    return Shard(path, latents, arrays.get("labels"), arrays.get("teacher"), meta)


def open_shards(directory: str | os.PathLike) -> list[Shard]:
    """Open all shards written by :func:`save_shard`, in order, memory-mapped.

    Nothing is read into memory but the files' headers (and the labels' pages when you
    touch them): slicing :attr:`Shard.latents` reads those rows from the file.

    Parameters
    ----------
    directory : path
        The folder holding ``shard-i-of-n`` files ``0 .. n-1``.

    Returns
    -------
    list of Shard
        ``n`` shards, in order; their concatenation is the unsharded extraction.

    Raises
    ------
    NeuralError
        If the folder does not exist or holds no shards, shards of different counts
        ``n``, misses some or holds one twice, or when the shards differ in latent
        width, in having labels or teacher logits (or their width), or in their
        extraction's ``meta``; for a damaged file or a newer format.
    """
    folder = Path(directory)
    if not folder.is_dir():
        raise NeuralError(
            f"directory={str(directory)!r} does not exist; pass the --out folder of the "
            "extraction."
        )
    found: dict[int, Path] = {}
    counts = set()
    for path in sorted(folder.iterdir()):
        match = _SHARD_RE.match(path.name)
        if match:
            i, n = int(match.group(1)), int(match.group(2))
            if i in found:
                raise NeuralError(
                    f"shard {i} appears twice in {str(folder)!r} ({found[i].name}, "
                    f"{path.name}); delete one."
                )
            found[i] = path
            counts.add(n)
    if not found:
        raise NeuralError(
            f"directory={str(directory)!r} holds no shard-i-of-n.npy/.npz files; "
            "run the extraction first."
        )
    if len(counts) != 1:
        raise NeuralError(
            f"{str(folder)!r} mixes shards of different counts n={sorted(counts)}; "
            "keep one extraction per folder."
        )
    n = counts.pop()
    missing = sorted(set(range(n)) - set(found))
    if missing:
        raise NeuralError(
            f"{str(folder)!r} misses shards {missing} of {n}; extract them before fitting."
        )
    shards = [_open_one(found[i]) for i in range(n)]
    widths = sorted({s.latents.shape[1] for s in shards})
    if len(widths) != 1:
        raise NeuralError(
            f"the shards in {str(folder)!r} have different latent widths D={widths}; "
            "they come from different extractions."
        )
    for name in ("labels", "teacher"):
        has = [getattr(s, name) is not None for s in shards]
        if any(has) and not all(has):
            raise NeuralError(
                f"some shards in {str(folder)!r} have {name} and some do not (shard "
                f"{has.index(False)} has none); re-extract them alike."
            )
    if shards[0].teacher is not None and len({s.teacher.shape[1] for s in shards}) != 1:
        raise NeuralError(f"the shards in {str(folder)!r} hold teacher logits of different "
                          "widths; they come from different extractions.")
    metas = {json.dumps({k: v for k, v in s.meta.items() if k != "format"}, sort_keys=True)
             for s in shards}
    if len(metas) != 1:
        raise NeuralError(
            f"the shards in {str(folder)!r} come from different extractions (their meta "
            f"differ: {sorted(metas)}); keep one extraction per folder."
        )
    return shards


def load_shards(directory: str | os.PathLike) -> tuple[np.ndarray, np.ndarray | None]:
    """Read back all shards written by :func:`save_shard` and concatenate them in order.

    Parameters
    ----------
    directory : path
        As for :func:`open_shards`.

    Returns
    -------
    latents : ndarray of shape (N, D)
    labels : ndarray of shape (N,), int64, or None

    Raises
    ------
    NeuralError
        As :func:`open_shards`.
    """
    shards = open_shards(directory)
    latents = np.concatenate([s.latents for s in shards])
    labels = None if shards[0].labels is None else np.concatenate([s.labels for s in shards])
    return latents, labels
