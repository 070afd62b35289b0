"""The bundled data set: scikit-learn's 8×8 handwritten digits as image tensors."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch

from neural._errors import NeuralError

#: The fixed split of :func:`load_digits`: a quarter of each class is held out.
DIGITS_TEST_SIZE = 0.25
DIGITS_RANDOM_STATE = 0
_SPLITS = ("train", "test", "all")


@lru_cache(maxsize=1)
def _digits_arrays() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    # Imported lazily: scikit-learn is only needed for the bundled data.
    from sklearn.datasets import load_digits as sk_load_digits
    from sklearn.model_selection import train_test_split

    bunch = sk_load_digits()
    # Pixels are integers 0..16; dividing by 16 puts them in [0, 1].
    X = (bunch.images / 16.0).astype(np.float32)[:, None, :, :]
    y = bunch.target.astype(np.int64)
    X_tr, X_te, y_tr, y_te = train_test_split(
        X, y, test_size=DIGITS_TEST_SIZE, random_state=DIGITS_RANDOM_STATE, stratify=y
    )
    return X_tr, X_te, y_tr, y_te


def load_digits(split: str = "train") -> tuple[torch.Tensor, torch.Tensor]:
    """Load scikit-learn's handwritten digits as ``(N, 1, 8, 8)`` image tensors.

    The split is fixed and stratified (``test_size=0.25``, ``random_state=0``), so every
    run, test and cached model sees the same 1347 training and 450 test images.

    Parameters
    ----------
    split : {"train", "test", "all"}, default="train"
        Which part; ``"all"`` is train followed by test.

    Returns
    -------
    X : torch.Tensor of shape (N, 1, 8, 8), float32
        Pixel intensities scaled to ``[0, 1]``.
    y : torch.Tensor of shape (N,), int64
        Digit labels 0-9.
    """
    if split not in _SPLITS:
        raise NeuralError(f"split={split!r} is not one of {_SPLITS}; pass one of them.")
    X_tr, X_te, y_tr, y_te = _digits_arrays()
    if split == "train":
        X, y = X_tr, y_tr
    elif split == "test":
        X, y = X_te, y_te
    else:
        X, y = np.concatenate([X_tr, X_te]), np.concatenate([y_tr, y_te])
    # Copies, so a caller writing into the tensors cannot corrupt the cached arrays.
    return torch.tensor(X), torch.tensor(y)
