"""Training of the tail (features and head) shared by VI-Net and its baselines.

One recipe for every model of a comparison (:class:`~bridge.VINetConfig`): a fresh
seeded head fitted by full-batch L-BFGS on the cached features (with ``warm_start``:
on the pooled latents alone, the other features' weights at zero), then mini-batch
Adam with a cosine decay over ``epochs`` on cross-entropy, mixed with distillation from
the full network's logits (Hinton, Vinyals, Dean 2015, "Distilling the Knowledge in a
Neural Network") when ``config.distill > 0``, keeping the epoch that scores best on
held-out training samples (``holdout``; early stopping, Prechelt 1998). Training
reads its inputs through :class:`TailInputs` (``init_batches`` for the head's start,
``batches`` for an epoch), so latents on disk plug in by overriding those two
(``bridge._shards``).
"""

from __future__ import annotations

from collections.abc import Iterator

import torch
import torch.nn.functional as F
from torch import nn

import neural
from bridge._config import VINetConfig

__all__ = ["TailInputs", "distillation_loss", "fit_tail", "init_head", "new_head"]

#: L2 penalty of the head's L-BFGS initialisation (a multinomial logistic regression).
_LBFGS_L2 = 1e-4


def new_head(n_in: int, n_out: int, random_state: int) -> nn.Linear:
    """A ``Linear(n_in, n_out)`` initialised from ``random_state`` (global RNG untouched)."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        return nn.Linear(n_in, n_out)


def distillation_loss(logits: torch.Tensor, target: torch.Tensor, teacher: torch.Tensor | None,
                      weight: float, temperature: float) -> torch.Tensor:
    """``(1 - a) CE(logits, target) + a T² KL(softmax(teacher / T) || softmax(logits / T))``.

    Hinton et al. (2015): the ``T²`` factor keeps the soft term's gradients on the
    scale of the hard one's as ``T`` changes. ``weight = 0`` (or no teacher) is plain
    cross-entropy.

    Parameters
    ----------
    logits : Tensor of shape (B, C)
        The student's logits.
    target : Tensor of int64, shape (B,)
        The labels.
    teacher : Tensor of shape (B, C) or None
        The full network's logits of the same samples.
    weight : float
        ``a`` in ``[0, 1]``.
    temperature : float
        ``T > 0``.

    Returns
    -------
    Tensor
        The mean loss over the batch (a scalar).
    """
    hard = F.cross_entropy(logits, target)
    if teacher is None or weight == 0:
        return hard
    t = float(temperature)
    soft = F.kl_div(F.log_softmax(logits / t, dim=1), F.log_softmax(teacher / t, dim=1),
                    log_target=True, reduction="batchmean") * (t * t)
    return (1.0 - weight) * hard + weight * soft


class TailInputs:
    """The cached training inputs of a tail: pooled latents, labels, teacher logits.

    Parameters
    ----------
    x : Tensor of shape (N, D)
        Pooled latents at the cut (float32).
    y : Tensor of int64, shape (N,)
    teacher : Tensor of shape (N, C) or None
        The full network's logits, for distillation.
    images : Tensor of shape (N, ...), optional
        The images, when the backbone is fine-tuned too (then ``x`` is recomputed per
        mini-batch by the encoder).
    transform : nn.Module, optional
        Applied to each mini-batch of ``x`` (the standardisation of the latents).
    """

    def __init__(self, x: torch.Tensor, y: torch.Tensor, teacher: torch.Tensor | None = None,
                 images: torch.Tensor | None = None,
                 transform: nn.Module | None = None) -> None:
        self.x, self.y, self.teacher, self.images = x, y, teacher, images
        self.transform = transform if transform is not None else nn.Identity()

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def batch(self, idx: torch.Tensor | slice) -> torch.Tensor:
        """The (transformed) latents of the samples ``idx``."""
        return self.transform(torch.as_tensor(self.x[idx]))

    def init_batches(self, size: int = 4096) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """``(latents, labels)`` of the samples the head's L-BFGS start is fitted on: all
        of them, in order, ``size`` at a time."""
        for start in range(0, len(self), size):
            yield self.batch(slice(start, start + size)), self.y[start:start + size]

    def batches(self, batch_size: int, generator: torch.Generator,
                encoder: nn.Module | None = None
                ) -> Iterator[tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]]:
        """One epoch of mini-batches ``(latents, labels, teacher logits)`` in random order
        (``encoder(images[idx])`` instead of the cached latents when given)."""
        order = torch.randperm(len(self), generator=generator)
        for start in range(0, len(self), batch_size):
            idx = order[start:start + batch_size]
            xb = self.batch(idx) if encoder is None else encoder(self.images[idx])
            yield xb, self.y[idx], None if self.teacher is None else self.teacher[idx]



def _lbfgs_head(head: nn.Linear, feats: torch.Tensor, y: torch.Tensor) -> None:
    """Fit ``head`` on ``feats`` by full-batch L-BFGS: multinomial logistic regression.

    A convex problem (cross-entropy with a small L2 penalty), so the result is the best
    linear read-out of the features whatever the initialisation.
    """
    lbfgs = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=100,
                              line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        lbfgs.zero_grad()
        loss = F.cross_entropy(head(feats), y) + _LBFGS_L2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)


def _features(tail: nn.Module, inputs: TailInputs, encoder: nn.Module | None) -> torch.Tensor:
    """The head's inputs of every sample of ``inputs`` (no gradient), in chunks."""
    with torch.no_grad():
        return torch.cat([
            tail.features(inputs.batch(slice(i, i + 4096)) if encoder is None
                          else encoder(inputs.images[i:i + 4096]))
            for i in range(0, len(inputs), 4096)])


def init_head(tail: nn.Module, inputs: TailInputs, config: VINetConfig, *, random_state: int,
              n_linear: int | None = None) -> None:
    """The head's starting point: the best linear read-out (L-BFGS), see :func:`fit_tail`.

    With ``config.warm_start`` and ``n_linear`` (the number of leading head inputs that
    are the pooled latents, ``skip``), a fresh ``new_head(n_linear, C, random_state)``
    is fitted on those columns alone and copied into the head, the other columns'
    weights set to zero: the tail then computes exactly the linear probe's logits
    (whose head is the same fit), and fine-tuning starts from them. Otherwise the head
    is fitted on all its inputs.
    """
    head = tail.head
    with torch.no_grad():
        parts = [(tail.features(xb), yb) for xb, yb in inputs.init_batches()]
    feats = torch.cat([f for f, _ in parts])
    y = torch.cat([yb for _, yb in parts])
    del parts
    if not (config.warm_start and n_linear is not None and 0 < n_linear <= head.in_features):
        _lbfgs_head(head, feats, y)
        return
    linear = new_head(n_linear, head.out_features, random_state)
    # Contiguous, so the probe (whose features are these columns) runs the same kernels.
    _lbfgs_head(linear, feats[:, :n_linear].contiguous(), y)
    with torch.no_grad():
        head.weight.zero_()
        head.weight[:, :n_linear].copy_(linear.weight)
        head.bias.copy_(linear.bias)


def _held_out_score(tail: nn.Module, held: TailInputs,
                    encoder: nn.Module | None) -> tuple[float, float]:
    """(accuracy, minus the cross-entropy) of ``tail`` on the held-out samples."""
    was = tail.training
    tail.eval()
    with torch.no_grad():
        logits = tail.head(_features(tail, held, encoder))
    tail.train(was)
    accuracy = float((logits.argmax(dim=1) == held.y).float().mean())
    return accuracy, -float(F.cross_entropy(logits, held.y))


def fit_tail(tail: nn.Module, inputs: TailInputs, config: VINetConfig, *, random_state: int,
             progress: bool | None, encoder: nn.Module | None = None,
             held: TailInputs | None = None,
             n_linear: int | None = None) -> tuple[list[float], dict[str, float]]:
    """Fit ``tail`` (pooled latents to logits) with the recipe of ``config``.

    ``tail`` has a ``head`` (``nn.Linear``) and ``features(x)``, the head's input.
    First the head, full batch with L-BFGS (:func:`init_head`: with ``warm_start`` the
    linear read-out of the first ``n_linear`` inputs, the others at zero weight); then
    ``config.epochs`` of Adam over mini-batches, updating every trainable parameter of
    the tail (the polynomial coefficients inside their fixed support, the head) with
    :func:`distillation_loss`. With ``held`` (held-out samples), the state after the
    initialisation and after each epoch is scored on them and the best (accuracy, ties
    broken by cross-entropy) is restored at the end: early stopping chosen on data the
    tail was not fitted on. With an ``encoder`` (the backbone and pooling, trainable)
    the mini-batches are ``encoder(images[idx])`` and the backbone is fine-tuned too; it
    stays in eval mode, so batch-norm statistics are the pretrained network's.

    Returns
    -------
    history : list of float
        The mean loss of each fine-tuning epoch.
    selection : dict
        ``epoch`` (the state kept: 0 is the initialisation), and with ``held``
        ``holdout_accuracy`` and ``holdout_samples``.
    """
    head = tail.head
    init_head(tail, inputs, config, random_state=random_state, n_linear=n_linear)
    history: list[float] = []
    modules = [tail] if encoder is None else [encoder, tail]
    # By identity: the encoder's backbone is also inside the tail's VINet.
    params = list({id(p): p for m in modules for p in m.parameters() if p.requires_grad}.values())
    if config.epochs == 0 or not params:
        return history, {"epoch": 0}
    # What the selection saves and restores: everything the optimiser can change.
    state = list({id(p): p for p in [*head.parameters(), *params]}.values())
    best_score = _held_out_score(tail, held, encoder) if held is not None else None
    best_epoch, best_state = 0, [p.detach().clone() for p in state]
    opt = torch.optim.Adam(params, lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=config.epochs)
    gen = torch.Generator().manual_seed(random_state)
    bar = neural.progress_bar(range(config.epochs), progress=progress, desc="fine-tune",
                              unit="epoch", leave=False)
    tail.train()
    if encoder is not None:  # the backbone keeps the pretrained batch-norm statistics
        encoder.eval()
    for epoch in bar:
        total, n = 0.0, 0
        for xb, yb, teacher in inputs.batches(config.batch_size, gen, encoder):
            loss = distillation_loss(tail(xb), yb, teacher, config.distill,
                                     config.temperature)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            n += len(yb)
        sched.step()
        history.append(total / n)
        bar.set_postfix(loss=f"{history[-1]:.4f}")
        if held is not None:
            score = _held_out_score(tail, held, encoder)
            if score > best_score:
                best_score, best_epoch = score, epoch + 1
                best_state = [p.detach().clone() for p in state]
    tail.eval()
    if held is None:
        return history, {"epoch": config.epochs}
    with torch.no_grad():
        for p, saved in zip(state, best_state, strict=True):
            p.copy_(saved)
    return history, {"epoch": best_epoch, "holdout_accuracy": round(best_score[0], 6),
                     "holdout_samples": len(held)}
