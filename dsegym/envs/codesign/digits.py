"""scikit-learn's digits (1,797 8x8 images, shipped inside the package) with one fixed stratified split.

>>> s = load_digits_split()
>>> s.x_train.shape, s.x_test.shape, s.y_test.bincount().min().item() >= 35
(torch.Size([1437, 1, 8, 8]), torch.Size([360, 1, 8, 8]), True)
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

TEST_FRACTION = 0.2
SPLIT_SEED = 0  # the split is part of the benchmark: it never changes with the training seed


@dataclass(frozen=True)
class DigitsSplit:
    """Train and test tensors: images (n, 1, 8, 8) float32 in [0, 1], labels (n,) int64."""

    x_train: object
    y_train: object
    x_test: object
    y_test: object


@lru_cache(maxsize=1)
def load_digits_split() -> DigitsSplit:
    """Train/test tensors: pixels scaled to [0, 1] (the raw 0..16 levels / 16), 80/20 stratified."""
    import numpy as np
    import torch
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x = (x / 16.0).astype(np.float32).reshape(-1, 1, 8, 8)
    x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=TEST_FRACTION, stratify=y,
                                              random_state=SPLIT_SEED)
    return DigitsSplit(torch.from_numpy(x_tr), torch.from_numpy(y_tr), torch.from_numpy(x_te),
                       torch.from_numpy(y_te))
