"""Training helpers shared by VI-Net and its baselines: step 6 of the pipeline.

A fresh seeded linear head, its full-batch L-BFGS fit on cached features, the
fine-tuning of the polynomial coefficients and the head (``docs/design.md``, "The data
flow of VI-Net"), and the check of the training settings.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from bridge._errors import BridgeError

__all__ = ["check_training", "fit_head", "new_head"]


def check_training(epochs: Any, lr: Any, batch_size: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 0:
        raise BridgeError(f"epochs={epochs!r} must be an integer >= 0; pass e.g. 20.")
    if not isinstance(lr, (int, float)) or not lr > 0:
        raise BridgeError(f"lr={lr!r} must be a positive number; pass e.g. 1e-2.")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise BridgeError(f"batch_size={batch_size!r} must be a positive integer; pass e.g. 128.")


def new_head(n_in: int, n_out: int, random_state: int) -> nn.Linear:
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(random_state)
        return nn.Linear(n_in, n_out)


def fit_head(
    poly: nn.Module | None,
    head: nn.Linear,
    z: torch.Tensor,
    y: np.ndarray,
    *,
    epochs: int,
    lr: float,
    batch_size: int,
    weight_decay: float,
    random_state: int,
    progress: bool,
    encoder: nn.Module | None = None,
    images: torch.Tensor | None = None,
) -> list[float]:
    """Step 6: fit ``head`` on ``poly(z)``, then fine-tune ``poly`` and ``head`` together.

    First the head alone, full batch with L-BFGS on the cached features (a convex
    problem: multinomial logistic regression with an L2 penalty), so fine-tuning
    starts from the best linear read-out; then ``epochs`` of Adam on mini-batches
    of ``z`` with cross-entropy, updating the polynomial coefficients (their mask
    stays fixed, see :class:`PolynomialLayer`) and the head. With an ``encoder``
    (backbone, pooling and preprocessing with a trainable backbone) the mini-batches
    are ``encoder(images)`` instead and the backbone is fine-tuned too; it stays in
    eval mode, so batch-norm statistics are those of the pretrained network. Returns
    the mean loss of each fine-tuning epoch.
    """
    target = torch.as_tensor(y)
    poly = poly if poly is not None else nn.Identity()
    with torch.no_grad():
        feats = poly(z)
    l2 = 1e-4

    lbfgs = torch.optim.LBFGS(head.parameters(), lr=1.0, max_iter=100,
                              line_search_fn="strong_wolfe")

    def closure() -> torch.Tensor:
        lbfgs.zero_grad()
        loss = F.cross_entropy(head(feats), target) + l2 * head.weight.pow(2).sum()
        loss.backward()
        return loss

    lbfgs.step(closure)
    history: list[float] = []
    modules = [poly, head] if encoder is None else [encoder, poly, head]
    params = [p for m in modules for p in m.parameters() if p.requires_grad]
    if epochs == 0 or not params:
        return history
    opt = torch.optim.Adam(params, lr=lr, weight_decay=weight_decay)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    gen = torch.Generator().manual_seed(random_state)
    bar = tqdm(range(epochs), desc="fine-tune", unit="epoch", disable=not progress, leave=False)
    poly.train()
    for _ in bar:
        order = torch.randperm(z.shape[0], generator=gen)
        total = 0.0
        for start in range(0, z.shape[0], batch_size):
            idx = order[start : start + batch_size]
            inputs = z[idx] if encoder is None else encoder(images[idx])
            loss = F.cross_entropy(head(poly(inputs)), target[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        sched.step()
        history.append(total / z.shape[0])
        bar.set_postfix(loss=f"{history[-1]:.4f}")
    poly.eval()
    return history
