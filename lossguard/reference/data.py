"""Seeded synthetic data for the three reference tasks, made with torch (no downloads).

Each task's data is easy on purpose: a correct model reaches R^2 >= 0.95 or accuracy >= 0.95 in a few hundred
full-batch steps, so whatever a broken twin fails to reach is the pitfall's doing, not the data's. Labels are the
*raw* labels a user would have (float values, 0/1 integers, class integers); turning them into the target a loss
expects is the job of the helpers in `lossguard.reference.models`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

TASKS = ("regression", "binary", "multiclass")


@dataclass(frozen=True)
class Dataset:
    """Inputs `x` (n, d) float32 and raw `labels` (n,): float32 values, or int64 classes in [0, n_classes)."""

    task: str
    x: torch.Tensor
    labels: torch.Tensor
    n_classes: int
    seed: int

    @property
    def n_features(self) -> int:
        return self.x.shape[1]


def regression_data(n: int = 512, n_features: int = 4, noise: float = 0.1, seed: int = 0) -> Dataset:
    """y = x . w + b + noise: a linear model can explain all but the noise (R^2 close to 1)."""
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_features, generator=generator)
    weights = torch.randn(n_features, generator=generator)
    y = x @ weights + 0.5 + noise * torch.randn(n, generator=generator)
    return Dataset("regression", x, y, n_classes=0, seed=seed)


def binary_data(n: int = 512, n_features: int = 4, margin: float = 0.5, seed: int = 0) -> Dataset:
    """Two classes on either side of a random hyperplane, with a gap of `margin`: linearly separable.

    The points are shifted away from the plane instead of being dropped, so `n` is exact and the classes are
    roughly balanced.
    """
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, n_features, generator=generator)
    normal = torch.nn.functional.normalize(torch.randn(n_features, generator=generator), dim=0)
    side = torch.sign(x @ normal)
    side[side == 0] = 1.0
    x = x + (margin / 2) * side[:, None] * normal
    labels = (side > 0).long()
    return Dataset("binary", x, labels, n_classes=2, seed=seed)


def multiclass_data(n: int = 512, n_features: int = 4, n_classes: int = 3, spread: float = 0.6,
                    seed: int = 0) -> Dataset:
    """`n_classes` Gaussian blobs, one per class, centred on orthogonal vectors of length 3 (needs
    `n_classes <= n_features`): centres are 4.2 apart, seven times the spread, so the classes are separable.
    """
    if n_classes > n_features:
        raise ValueError("multiclass_data needs n_classes <= n_features for orthogonal centres")
    generator = torch.Generator().manual_seed(seed)
    centres = 3.0 * torch.linalg.qr(torch.randn(n_features, n_classes, generator=generator)).Q.T
    labels = torch.arange(n) % n_classes
    labels = labels[torch.randperm(n, generator=generator)]
    x = centres[labels] + spread * torch.randn(n, n_features, generator=generator)
    return Dataset("multiclass", x, labels, n_classes=n_classes, seed=seed)


def make_data(task: str, seed: int = 0) -> Dataset:
    """The demo's data for `task` (one of `TASKS`)."""
    makers = {"regression": regression_data, "binary": binary_data, "multiclass": multiclass_data}
    try:
        return makers[task](seed=seed)
    except KeyError:
        raise ValueError(f"unknown task {task!r}; expected one of {', '.join(TASKS)}") from None
