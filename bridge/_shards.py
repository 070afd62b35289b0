"""VI-Net from a folder of latent shards: every phase linear in the data, memory bounded.

The pipeline of :func:`bridge.build_vinet` (``bridge._build``) for latents too many to
hold in memory (ImageNet: 1.28 M images, 1,000 classes), read from the shards that
``vinet extract --shard i/n`` writes (:func:`neural.save_shard`), memory-mapped
(:func:`neural.open_shards`). Each phase is a pass over the data whose memory does not
grow with it, and the heavy ones are maps whose results add up, run through joblib, so
that under ``joblib.parallel_config(backend="dask")`` they run on a Dask cluster:

1. **projection**: the latents' count, sum and Gram matrix per shard (a map, summed:
   the reduce) give the exact PCA (the eigenvectors of the covariance, scikit-learn's
   sign convention); a second map gives the scaling's statistics of the projected
   latents; both are folded into one affine map as in memory;
2. **grouping**: one sequential pass writes the projected latents ``z`` (float32) into
   a file in ``work_dir``, grouped by class, so that each class's rows are one slice;
3. **per-class fits**: one task per class reads its slice (the same rows, in the same
   order, as the in-memory pipeline) and fits its generators;
4. **pruning**: per-class sums of ``|p|`` and ``p²`` (:func:`algebra.class_sums`) over
   blocks of the grouped ``z`` (a map), summed (the reduce), give the scores
   (:func:`algebra.scores_from_sums`), the choice (``keep`` per class, at most
   ``max_generators`` in all, :func:`algebra.top_generators`) and
   the kept generators' RMS, which scales the compiled layer's outputs
   (:func:`compile_layer`);
5. **head and fine-tuning**: the head's L-BFGS start on at most ``head_samples`` rows,
   then the epochs over mini-batches drawn shard by shard (a random order of shards,
   a random order of rows within each; the rows of a batch read in file order), the
   full network's logits read beside the latents when distilling.

With every class's rows scored (``score_samples=None``, or ``"auto"`` when no class has
more than ``max(SCORE_MIN, SCORE_ROWS // K)`` rows) and the head started on all rows
(when their features fit ``HEAD_BYTES``), the result equals the in-memory pipeline's on
the same latents up to float rounding (the PCA is computed another way); with one shard
the mini-batches are the same too.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from joblib import Parallel, delayed
from torch import nn

import neural
from algebra import (
    PolynomialSet,
    class_sums,
    scores_from_sums,
)
from bridge._build import (
    PHASES,
    check_components,
    check_labels,
    fit_class,
    fit_settings,
    fold_projection,
    kept_generators,
    run_fits,
    train_standardised,
)
from bridge._config import VINetConfig, resolve_config
from bridge._errors import BridgeError
from bridge._layer import PolynomialLayer
from bridge._training import TailInputs, new_head
from bridge._vinet import VINet

__all__ = ["CHUNK_ROWS", "HEAD_BYTES", "SCORE_BLOCK_ROWS", "SCORE_MIN", "SCORE_ROWS", "ShardInputs",
           "build_vinet_from_shards", "compile_layer", "fit_projection_streamed", "fit_streamed",
           "group_by_class", "open_source", "select_streamed", "tail_vinet"]

#: Rows read at a time by the passes over the latents (a few MB each).
CHUNK_ROWS = 65536
#: Rows of the grouped latents per task of the pruning map.
SCORE_BLOCK_ROWS = 1 << 18
#: Memory for the features of the head's L-BFGS start when ``head_samples`` is None:
#: all rows if they fit, else as many rows (drawn at random) as fit.
HEAD_BYTES = 256 << 20
#: ``score_samples="auto"``: each class is scored on ``max(SCORE_MIN, SCORE_ROWS // K)``
#: of its rows, about ``SCORE_ROWS`` in all whatever ``K``, so pruning costs
#: (rows) × (generators, ∝ K): linear in K, where a fixed count per class costs K².
SCORE_ROWS = 32768
SCORE_MIN = 32


@dataclass
class _Source:
    """A folder of shards, checked: the shards, their row offsets and all labels."""

    shards: list[neural.Shard]
    bounds: np.ndarray  # (S + 1,) the global index of each shard's first row, and N
    labels: np.ndarray  # (N,) int64, in memory (8 bytes per sample)
    n_classes: int
    meta: dict[str, Any]

    @property
    def width(self) -> int:
        return int(self.shards[0].latents.shape[1])

    def __len__(self) -> int:
        return int(self.bounds[-1])


def open_source(latents: Any) -> _Source:
    """The shards of the folder ``latents``, checked (labels, every class present)."""
    try:
        shards = neural.open_shards(latents)
    except neural.NeuralError as exc:
        raise BridgeError(f"latents={str(latents)!r}: {exc}") from exc
    if shards[0].labels is None:
        raise BridgeError(
            f"the shards in {str(latents)!r} carry no labels; VI-Net needs labelled latents: "
            "extract them from labelled data (vinet extract --data with 'y')."
        )
    bounds = np.cumsum([0] + [s.latents.shape[0] for s in shards]).astype(np.int64)
    if bounds[-1] == 0:
        raise BridgeError(f"the shards in {str(latents)!r} hold no samples; extract some.")
    labels = np.concatenate([np.asarray(s.labels, dtype=np.int64) for s in shards])
    meta = {k: v for k, v in shards[0].meta.items() if k != "format"}
    source = _Source(shards, bounds, labels, 0, meta)
    _set_classes(source, meta.get("n_classes") or int(labels.max()) + 1, latents)
    return source


def _set_classes(source: _Source, n_classes: int, latents: Any) -> None:
    """Every class ``0..n_classes-1`` has samples in the shards, and no other label."""
    check_labels(source.labels, n_classes, f"the shards in {str(latents)!r}",
                  "extract samples of every class")
    if n_classes < 2:
        raise BridgeError(f"the shards in {str(latents)!r} hold a single class; VI-Net "
                          "separates at least 2 classes.")
    source.n_classes = n_classes


def _chunks(n_rows: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n_rows, CHUNK_ROWS):
        yield start, min(start + CHUNK_ROWS, n_rows)


def _map(func: Any, args: Sequence[tuple[Any, ...]], n_jobs: int | None) -> list[Any]:
    """``[func(*a) for a in args]`` through joblib (a Dask cluster under its backend)."""
    return Parallel(n_jobs=n_jobs)(delayed(func)(*a) for a in args)


# -- step 1: the projection ------------------------------------------------------------

def _moments(shard: neural.Shard, shift: np.ndarray) -> tuple[int, np.ndarray, np.ndarray]:
    """Map task: row count, sum and Gram matrix of ``x - shift`` over one shard."""
    shard = shard.reopen()
    width = shift.shape[0]
    total, gram = np.zeros(width), np.zeros((width, width))
    for a, b in _chunks(shard.latents.shape[0]):
        x = np.asarray(shard.latents[a:b], dtype=np.float64) - shift
        total += x.sum(axis=0)
        gram += x.T @ x
    return shard.latents.shape[0], total, gram


def _scale_stats(shard: neural.Shard, pca: nn.Module | None) -> np.ndarray:
    """Map task: per column of the PCA's output (float64), min, max, sum and sum of squares."""
    shard = shard.reopen()
    stats: np.ndarray | None = None
    for a, b in _chunks(shard.latents.shape[0]):
        x = torch.from_numpy(np.array(shard.latents[a:b], dtype=np.float64))
        with torch.no_grad():
            pc = (x if pca is None else pca(x)).numpy()
        part = np.stack([pc.min(axis=0), pc.max(axis=0), pc.sum(axis=0), (pc * pc).sum(axis=0)])
        if stats is None:
            stats = part
        else:
            stats = np.stack([np.minimum(stats[0], part[0]), np.maximum(stats[1], part[1]),
                              stats[2] + part[2], stats[3] + part[3]])
    assert stats is not None  # every shard has rows (checked when opened)
    return stats


def _pca_from_moments(n: int, mean: np.ndarray, cov: np.ndarray, k: int) -> nn.Module:
    """:class:`neural.PCA` of the latents from their mean and covariance (``n - 1``).

    The principal axes are the covariance's leading eigenvectors (``numpy.linalg.eigh``),
    each with scikit-learn's sign (``svd_flip(u_based_decision=False)``: its
    largest-magnitude entry positive), so they equal what :func:`neural.make_preprocessing`
    fits on the same latents up to rounding.
    """
    values, vectors = np.linalg.eigh(cov)
    top = np.argsort(values)[::-1][:k]
    components = vectors[:, top].T
    biggest = np.argmax(np.abs(components), axis=1)
    components *= np.sign(components[np.arange(k), biggest])[:, None]
    variance = np.clip(values[top], 0.0, None)
    total = float(np.trace(cov))
    pca = neural.PCA(k, dtype=torch.float64)
    pca.load_state_dict({
        "mean_": torch.from_numpy(mean.copy()),
        "components_": torch.from_numpy(np.ascontiguousarray(components)),
        "explained_variance_": torch.from_numpy(variance),
        "explained_variance_ratio_": torch.from_numpy(variance / total if total > 0
                                                      else np.zeros_like(variance)),
    })
    return pca


def fit_projection_streamed(source: _Source, config: VINetConfig, *, n_jobs: int | None
                            ) -> tuple[nn.Linear, torch.Tensor, torch.Tensor]:
    """Step 1: the projection from two maps over the shards; also the latents' mean and
    standard deviation (``n - 1``), which standardise them for training."""
    n, width = len(source), source.width
    check_components(config, width, n)
    first = source.shards[0].latents
    # Moments of x - shift, shift ≈ the mean: no cancellation in Gram - n·mean·meanᵀ.
    shift = np.asarray(first[:min(first.shape[0], CHUNK_ROWS, 1024)], dtype=np.float64).mean(0)
    parts = _map(_moments, [(s, shift) for s in source.shards], n_jobs)
    total = sum(p[1] for p in parts)
    gram = sum(p[2] for p in parts)
    centre = total / n
    cov = (gram - n * np.outer(centre, centre)) / max(n - 1, 1)
    mean = shift + centre
    steps: OrderedDict[str, nn.Module] = OrderedDict()
    if config.n_components is not None:
        steps["pca"] = _pca_from_moments(n, mean, cov, config.n_components)
    if config.scaling is not None:
        stats = _map(_scale_stats, [(s, steps.get("pca")) for s in source.shards], n_jobs)
        low = np.min([s[0] for s in stats], axis=0)
        high = np.max([s[1] for s in stats], axis=0)
        z_mean = np.sum([s[2] for s in stats], axis=0) / n
        z_std = np.sqrt(np.clip(np.sum([s[3] for s in stats], axis=0) / n - z_mean ** 2,
                                0.0, None))
        # The scaler fitted on two rows with the data's statistics: [min; max] has its
        # range, [mean - std; mean + std] its mean and (population) standard deviation.
        rows = (np.stack([low, high]) if config.scaling == "minmax"
                else np.stack([z_mean - z_std, z_mean + z_std]))
        steps["scale"] = neural.SCALERS[config.scaling](dtype=torch.float64).fit(rows)
    prep = nn.Sequential(steps).to(torch.get_default_dtype())
    std = torch.from_numpy(np.sqrt(np.clip(np.diag(cov), 0.0, None))).float()
    return fold_projection(prep, width), torch.from_numpy(mean).float(), std


# -- step 2: the projected latents, grouped by class --------------------------------------

def group_by_class(source: _Source, proj: nn.Module, work_dir: Path
                   ) -> tuple[Path, np.ndarray]:
    """Step 2: ``z = proj(x)`` (float32) of every sample into ``work_dir/z.npy``, the rows
    of each class together (in their order in the shards); returns the file and the
    classes' row offsets ``(K + 1,)``."""
    counts = np.bincount(source.labels, minlength=source.n_classes)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    rank = np.empty(len(source), dtype=np.int64)
    rank[np.argsort(source.labels, kind="stable")] = np.arange(len(source))
    path = work_dir / "z.npy"
    width = proj.out_features
    z = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32,
                                  shape=(len(source), width))
    for i, shard in enumerate(source.shards):
        shard = shard.reopen()
        for a, b in _chunks(shard.latents.shape[0]):
            x = torch.from_numpy(np.array(shard.latents[a:b], dtype=np.float32))
            with torch.no_grad():
                z[rank[source.bounds[i] + a:source.bounds[i] + b]] = proj(x).numpy()
    z.flush()
    del z
    return path, offsets


# -- steps 3-4: per-class fits, pruning -----------------------------------------------------

def _fit_rows(path: str, start: int, stop: int, label: int, method: str,
              fit_kwargs: dict[str, Any]) -> tuple[PolynomialSet, float]:
    """Task: class ``label``'s generators on its slice of the grouped latents."""
    z = np.load(path, mmap_mode="r")
    return fit_class(np.asarray(z[start:stop], dtype=np.float64), label, method, fit_kwargs)


def fit_streamed(path: Path, offsets: np.ndarray, config: VINetConfig, *, n_jobs: int | None,
                 random_state: int, progress: bool | None, fit_kwargs: dict[str, Any]
                 ) -> tuple[list[PolynomialSet], dict[str, Any]]:
    """Step 3: one task per class on its slice of the grouped latents; the sets and the
    timings ``fits``, ``fits_per_class``."""
    n_classes = offsets.shape[0] - 1
    jobs = (delayed(_fit_rows)(str(path), int(offsets[c]), int(offsets[c + 1]), c,
                               config.method, fit_settings(config, fit_kwargs, random_state, c))
            for c in range(n_classes))
    return run_fits(jobs, n_classes, config, n_jobs=n_jobs, progress=progress)


def _block_sums(path: str, rows: slice | np.ndarray, segment: np.ndarray,
                sets: list[PolynomialSet], n_classes: int
                ) -> list[tuple[np.ndarray, np.ndarray]]:
    """Map task: :func:`algebra.class_sums` of the sets over some rows of the grouped
    latents (a slice, or sorted indices: reads in file order)."""
    z = np.load(path, mmap_mode="r")
    return class_sums(sets, np.asarray(z[rows], dtype=np.float64), segment, n_classes)


def _score_rows(offsets: np.ndarray, score_samples: int | str | None,
                random_state: int) -> list[tuple[slice | np.ndarray, np.ndarray]]:
    """The rows the scores run over, cut into blocks: ``(rows, segment)`` per block."""
    n_classes = offsets.shape[0] - 1
    counts = np.diff(offsets)
    if score_samples == "auto":
        score_samples = max(SCORE_MIN, SCORE_ROWS // n_classes)
        if counts.max() <= score_samples:
            score_samples = None  # every row: the same blocks as the in-memory pipeline
    if score_samples is None:
        segment = np.repeat(np.arange(n_classes), counts)
        return [(slice(a, b), segment[a:b]) for a, b in
                ((a, min(a + SCORE_BLOCK_ROWS, offsets[-1]))
                 for a in range(0, int(offsets[-1]), SCORE_BLOCK_ROWS))]
    rng = np.random.default_rng(random_state)
    picked = [offsets[c] + (np.arange(counts[c]) if counts[c] <= score_samples else
                            np.sort(rng.choice(counts[c], score_samples, replace=False)))
              for c in range(n_classes)]
    rows = np.concatenate(picked)
    segment = np.repeat(np.arange(n_classes), [p.size for p in picked])
    return [(rows[a:a + SCORE_BLOCK_ROWS], segment[a:a + SCORE_BLOCK_ROWS])
            for a in range(0, rows.size, SCORE_BLOCK_ROWS)]


def select_streamed(sets: list[PolynomialSet], path: Path, offsets: np.ndarray,
                    config: VINetConfig, *, score_samples: int | str | None, random_state: int,
                    n_jobs: int | None) -> tuple[list[PolynomialSet], np.ndarray]:
    """Step 4: scores from per-class sums over blocks of the grouped latents (a map and a
    sum), the generators kept (:func:`~bridge._build.kept_generators`: ``config.keep``
    per class, at most ``config.max_generators`` in all), and their RMS.

    Returns the kept sets of the classes that keep any and the RMS of each kept
    generator over all samples, from the same sums (each class's scored rows weighted
    by its share of the samples): :func:`compile_layer` needs no further pass.
    """
    n_classes = offsets.shape[0] - 1
    blocks = _score_rows(offsets, score_samples, random_state)
    parts = _map(_block_sums, [(str(path), rows, seg, sets, n_classes) for rows, seg in blocks],
                 n_jobs)
    sums = [(sum(p[j][0] for p in parts), sum(p[j][1] for p in parts))
            for j in range(n_classes)]
    scored = np.bincount(np.concatenate([seg for _, seg in blocks]), minlength=n_classes)
    kept = kept_generators(sets, scores_from_sums(sums, scored), config)
    weight = np.diff(offsets) / scored / offsets[-1]  # per class: its rows / scored / N
    rms = [np.sqrt(weight @ sums[j][1][:, idx]) for j, idx in enumerate(kept) if idx.size]
    return ([s.select(idx) for s, idx in zip(sets, kept, strict=True) if idx.size],
            np.concatenate(rms))


def compile_layer(sets: list[PolynomialSet], rms: np.ndarray) -> PolynomialLayer:
    """Step 4's end: the kept generators as one layer, each output scaled to unit RMS."""
    poly = PolynomialLayer.from_polynomials(PolynomialSet.concatenate(sets))
    poly.feature_scale_(rms=rms)
    return poly


# -- step 5: training from the shards -----------------------------------------------------

def _gather(array: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``array[idx]`` (float32), read in file order (sorted), returned in ``idx``'s order."""
    order = np.argsort(idx, kind="stable")
    out = np.empty((idx.shape[0], *array.shape[1:]), dtype=np.float32)
    out[order] = array[idx[order]]
    return out


class ShardInputs(TailInputs):
    """Training inputs read from memory-mapped shards, a mini-batch at a time.

    Parameters
    ----------
    shards : list of neural.Shard
        The shards (labels in ``labels``; teacher logits read from the shards).
    labels : ndarray of int64, shape (N,)
        All labels, in shard order.
    teacher : bool
        Read the shards' teacher logits (for distillation).
    head_samples : int or None
        Rows of the head's L-BFGS start (:meth:`init_batches`); None: all.
    random_state : int
        Seeds the rows of the start when they are fewer than all.

    Notes
    -----
    An epoch visits the shards in a random order and each shard's rows in a random
    order, in mini-batches that do not cross shards; a shard is mapped afresh for its
    visit and dropped afterwards, so the memory of an epoch is one shard's pages, the
    model and a batch, whatever the number of shards. With a single shard the batches
    are those of the in-memory :class:`~bridge._training.TailInputs`.
    """

    def __init__(self, shards: list[neural.Shard], labels: np.ndarray, *, teacher: bool,
                 head_samples: int | None, random_state: int) -> None:
        super().__init__(None, torch.from_numpy(np.asarray(labels, dtype=np.int64)))
        self.shards = shards
        self.bounds = np.cumsum([0] + [s.latents.shape[0] for s in shards]).astype(np.int64)
        self.use_teacher = teacher
        self.head_samples = head_samples
        self.random_state = random_state

    def batch(self, idx: torch.Tensor | slice) -> torch.Tensor:
        """The (transformed) latents of the samples ``idx`` (global indices), gathered
        shard by shard."""
        rows = (np.arange(*idx.indices(len(self))) if isinstance(idx, slice)
                else np.asarray(idx))
        out = np.empty((rows.shape[0], self.shards[0].latents.shape[1]), dtype=np.float32)
        which = np.searchsorted(self.bounds, rows, side="right") - 1
        for s in np.unique(which):
            mask = which == s
            out[mask] = _gather(self.shards[s].latents, rows[mask] - self.bounds[s])
        return self.transform(torch.from_numpy(out))

    def init_batches(self, size: int = 4096) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """The head's start: all rows in order (as in memory), or ``head_samples`` rows
        drawn at random, ``size`` at a time."""
        if self.head_samples is None or self.head_samples >= len(self):
            yield from super().init_batches(size)
            return
        rng = np.random.default_rng(self.random_state)
        rows = np.sort(rng.choice(len(self), self.head_samples, replace=False))
        for start in range(0, rows.shape[0], size):
            part = rows[start:start + size]
            yield self.batch(part), self.y[part]

    def batches(self, batch_size: int, generator: torch.Generator,
                encoder: nn.Module | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """One epoch: shards in random order, each one's rows in random order."""
        if encoder is not None:
            raise BridgeError("Training from latent shards keeps the backbone frozen "
                              "(freeze_backbone=True): the images are not at hand.")
        n_shards = len(self.shards)
        visit = [0] if n_shards == 1 else torch.randperm(n_shards, generator=generator).tolist()
        for s in visit:
            shard = self.shards[s].reopen()
            order = torch.randperm(shard.latents.shape[0], generator=generator)
            for start in range(0, shard.latents.shape[0], batch_size):
                idx = order[start:start + batch_size].numpy()
                xb = self.transform(torch.from_numpy(_gather(shard.latents, idx)))
                teacher = (torch.from_numpy(_gather(shard.teacher, idx))
                           if self.use_teacher else None)
                yield xb, self.y[self.bounds[s] + idx], teacher
            del shard


# -- the whole build --------------------------------------------------------------------

def tail_vinet(source: _Source, config: VINetConfig, proj: nn.Module, poly: PolynomialLayer,
               *, backbone: nn.Module | None = None, node: str | None = None,
               input_shape: Any = None, arch: str | None = None,
               arch_kwargs: dict[str, Any] | None = None, random_state: int = 0) -> VINet:
    """The untrained VINet of a projection and a layer: a fresh seeded head; the backbone
    (default: the identity, a VI-Net of pooled latents) and what its file records."""
    n_classes = source.n_classes
    width = (source.width if config.skip else 0) + poly.out_features
    head = new_head(width, n_classes, random_state)
    if backbone is None:
        input_shape = [source.width]
    meta = {"arch": arch, "arch_kwargs": dict(arch_kwargs or {}), "node": node,
            "input_shape": list(input_shape) if input_shape is not None else None,
            "n_classes": n_classes, "latent_width": source.width, "kind": "vinet",
            "method": config.method,
            "n_generators": [int((poly.labels == c).sum()) for c in range(n_classes)]}
    return VINet(nn.Identity() if backbone is None else backbone, proj, poly, head,
                 pooling=config.pooling, grid=config.grid, skip=config.skip,
                 config={**meta, "settings": config.to_dict()})


def _cut_model(model: nn.Module, node: str, input_shape: Sequence[int] | None,
               source: _Source, config: VINetConfig) -> tuple[nn.Module, int]:
    """The frozen backbone of ``model`` at ``node``; checks its pooled width against the
    shards' and returns the model's number of classes."""
    from bridge._build import check_cut

    example = None if input_shape is None else torch.zeros(1, *input_shape)
    if example is not None:
        _, n_classes = check_cut(model, node, example)
    else:
        n_classes = None
    backbone = neural.truncate(model, node, example_input=example).eval()
    for p in backbone.parameters():
        p.requires_grad_(False)
    if example is not None:
        with torch.no_grad():
            width = neural.pool(backbone(example), config.pooling, config.grid).shape[1]
        if width != source.width:
            raise BridgeError(
                f"the model cut at node={node!r} with pooling={config.pooling!r} gives "
                f"latents of width {width}, but the shards hold width {source.width}; pass "
                "the model, node and pooling the shards were extracted with."
            )
    return backbone, n_classes if n_classes is not None else source.n_classes


def build_vinet_from_shards(
    latents: str | os.PathLike[str],
    config: VINetConfig | None = None,
    *,
    model: nn.Module | None = None,
    node: str | None = None,
    input_shape: Sequence[int] | None = None,
    arch: str | None = None,
    arch_kwargs: dict[str, Any] | None = None,
    n_jobs: int | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    score_samples: int | str | None = "auto",
    head_samples: int | None = None,
    progress: bool | None = None,
    random_state: int = 0,
    fit_kwargs: dict[str, Any] | None = None,
    **settings: Any,
) -> VINet:
    """Build and train a VI-Net from a folder of latent shards, memory bounded, on Dask.

    The pipeline of :func:`build_vinet` after extraction, reading the latents that
    ``vinet extract --shard i/n`` (:func:`neural.save_shard`) wrote, memory-mapped, one
    chunk or mini-batch at a time: time and memory linear in the samples, and the
    passes over the data (the projection's statistics, the per-class fits, the pruning
    scores) are joblib maps, so under ``joblib.parallel_config(backend="dask")`` they
    run on a Dask cluster (see the guide, "VI-Net at scale").

    Parameters
    ----------
    latents : path
        The folder of shards, with labels (and the full network's logits ``teacher`` when
        ``distill > 0``). On a cluster: a path every worker can read (shared storage).
    config : VINetConfig or None, default=None
        The settings; ``None``: the defaults. ``pooling`` and ``grid`` come from the
        shards when the extraction recorded them (``vinet extract`` does).
    model : nn.Module, optional
        The pretrained classifier the latents were extracted from: the VI-Net gets its
        backbone cut at ``node``. Without it, the result classifies pooled latents
        (its backbone is the identity).
    node : str, optional
        The cut; default: the node the shards record.
    input_shape : sequence of int, optional
        One sample's shape (e.g. ``(3, 224, 224)``); default: the shards' record. Lets
        the model be cut by hooks when torch.fx cannot trace it, and checked against
        the shards' latent width.
    arch, arch_kwargs : str and dict, optional
        The registered architecture of ``model`` and its options (for
        :meth:`VINet.load`); default: the shards' record.
    n_jobs : int or None, default=None
        Tasks run in parallel by joblib (``None``: joblib's default, 1 outside a
        ``parallel_config``; all of a Dask cluster under ``backend="dask"``).
    work_dir : path, optional
        Where the projected latents, grouped by class, are written (4·k bytes per
        sample); on a cluster a folder every worker can read. Default: a temporary
        folder inside ``latents``, deleted afterwards.
    score_samples : int, "auto" or None, default="auto"
        Score each generator on at most this many samples of each class, drawn at
        random (``None``: all; equal to the in-memory pipeline). The scores' cost is
        (scored samples) × (generators) × (their terms), so a fixed count per class
        costs K² in the classes. ``"auto"``: ``max(SCORE_MIN, SCORE_ROWS // K)`` per
        class (32 at 1,000 classes, 3,276 at 10; every row when no class has more),
        about 32,768 rows in all: measured at 1,000 classes and 1.3 M samples, pruning
        then takes 0.7 × the fits' time and keeps 99.7 % of the generators chosen on
        every row (``docs/benchmarks.md``).
    head_samples : int or None, default=None
        Rows of the head's L-BFGS start, drawn at random; ``None``: all rows if their
        features fit in ``HEAD_BYTES`` (256 MiB), else as many as fit. The epochs then
        read every row.
    progress : bool or None, default=None
        Progress bars (``None``: only on a terminal).
    random_state : int, default=0
        Seeds the fits' subsampling, the scored and start rows, the head's
        initialisation and the mini-batch order.
    fit_kwargs : dict, optional
        Passed on to the generator algorithm.
    **settings
        Fields of :class:`VINetConfig` overriding ``config``'s.

    Returns
    -------
    VINet
        In eval mode, with :attr:`~VINet.timings_` (``preprocessing``: the projection
        and the grouping; ``fits``, ``fits_per_class``, ``pruning``, ``fine_tuning``,
        ``total``; ``extraction`` is 0: it happened before).

    Raises
    ------
    BridgeError
        For a missing or inconsistent folder of shards (missing shards, different
        widths, no labels), a class without samples, ``distill > 0`` without teacher
        logits in the shards, ``freeze_backbone=False``, ``holdout > 0``, a model whose
        cut does not give the shards' latent width, or an invalid setting.
    """
    config = resolve_config(config, settings)
    if not config.freeze_backbone:
        raise BridgeError("freeze_backbone=False needs the images; from latent shards the "
                          "backbone stays frozen: pass freeze_backbone=True, or use "
                          "build_vinet on the images.")
    if config.holdout > 0:
        raise BridgeError(f"holdout={config.holdout} is not supported from latent shards (the "
                          "held-out share would need its own pass over the shards); pass "
                          "holdout=0, or hold samples out at extraction (a separate folder).")
    for name, value, allowed in (("score_samples", score_samples, ', "auto"'),
                                 ("head_samples", head_samples, "")):
        if value is None or (allowed and value == "auto"):
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 2:
            raise BridgeError(f"{name}={value!r} must be an integer >= 2{allowed} or None (all).")
    source = open_source(latents)
    meta = source.meta
    recorded = {k: meta[k] for k in ("pooling", "grid") if k in meta}
    for key, value in recorded.items():
        if key in settings and settings[key] != value:
            raise BridgeError(f"{key}={settings[key]!r} differs from the shards' {key}="
                              f"{value!r} (the extraction's); drop it or extract again.")
    config = config.replace(**recorded)
    node = node if node is not None else meta.get("node")
    input_shape = input_shape if input_shape is not None else meta.get("input_shape")
    if model is not None:
        if node is None:
            raise BridgeError("model is given but no node: pass node=, the cut the shards "
                              "were extracted at (the shards do not record it).")
        backbone, n_classes = _cut_model(model, node, input_shape, source, config)
        _set_classes(source, n_classes, latents)
        arch = arch if arch is not None else meta.get("arch")
        arch_kwargs = arch_kwargs if arch_kwargs is not None else meta.get("arch_kwargs")
    else:
        backbone, node, arch, arch_kwargs = None, None, None, None
    teacher = source.shards[0].teacher
    if config.distill > 0 and teacher is None:
        raise BridgeError(
            f"distill={config.distill} needs the full network's logits, but the shards in "
            f"{str(latents)!r} hold none: extract with teacher logits (vinet extract "
            "--teacher) or pass distill=0."
        )
    if config.distill > 0 and teacher.shape[1] != source.n_classes:
        raise BridgeError(f"the shards' teacher logits have {teacher.shape[1]} columns for "
                          f"{source.n_classes} classes; extract them from the same model.")
    own_dir = work_dir is None
    try:
        work = Path(tempfile.mkdtemp(prefix=".vinet-work-", dir=latents) if own_dir
                    else work_dir)
        work.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BridgeError(f"cannot write the grouped latents ({exc}); pass work_dir=, a "
                          "writable folder (shared by the workers on a cluster).") from None
    try:
        return _build(source, config, backbone, node, input_shape, arch, arch_kwargs, work,
                      n_jobs=n_jobs, score_samples=score_samples, head_samples=head_samples,
                      progress=progress, random_state=random_state,
                      fit_kwargs=fit_kwargs or {})
    finally:
        if own_dir:
            shutil.rmtree(work, ignore_errors=True)


def _build(source: _Source, config: VINetConfig, backbone: nn.Module | None, node: str | None,
           input_shape: Any, arch: str | None, arch_kwargs: dict[str, Any] | None,
           work: Path, *, n_jobs: int | None, score_samples: int | str | None,
           head_samples: int | None, progress: bool | None, random_state: int,
           fit_kwargs: dict[str, Any]) -> VINet:
    timings: dict[str, Any] = {"extraction": 0.0}
    start = time.perf_counter()
    proj, mean, std = fit_projection_streamed(source, config, n_jobs=n_jobs)
    path, offsets = group_by_class(source, proj, work)
    timings["preprocessing"] = time.perf_counter() - start
    sets, fit_timings = fit_streamed(path, offsets, config, n_jobs=n_jobs,
                                     random_state=random_state, progress=progress,
                                     fit_kwargs=fit_kwargs)
    timings.update(fit_timings)
    start = time.perf_counter()
    kept, rms = select_streamed(sets, path, offsets, config, score_samples=score_samples,
                                random_state=random_state, n_jobs=n_jobs)
    poly = compile_layer(kept, rms)
    timings["pruning"] = time.perf_counter() - start
    net = tail_vinet(source, config, proj, poly, backbone=backbone, node=node,
                     input_shape=input_shape, arch=arch, arch_kwargs=arch_kwargs,
                     random_state=random_state)
    width = net.head.in_features
    if head_samples is None:
        head_samples = max(2, HEAD_BYTES // (4 * width))
    inputs = ShardInputs(source.shards, source.labels, teacher=config.distill > 0,
                         head_samples=head_samples, random_state=random_state)
    start = time.perf_counter()
    net.history_ = train_standardised(net, inputs, mean, std, config,
                                      random_state=random_state, progress=progress)
    timings["fine_tuning"] = time.perf_counter() - start
    timings["total"] = sum(timings[k] for k in PHASES)
    net.timings_ = timings
    return net.eval()
