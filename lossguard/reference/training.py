"""A tiny full-batch training loop and its metrics: accuracy for classifiers, R^2 for regression.

Full-batch Adam keeps the loop deterministic (no shuffling) and fast on CPU for the demo's few hundred samples.
`Trainer` is the loop's body, so that a broken twin can write its own loss call in plain sight (where the static
checker can read it) and still be trained and measured exactly like the reference models by `fit`.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import nn

from lossguard.reference.data import Dataset
from lossguard.reference.models import REFERENCES

LossFunction = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@dataclass
class History:
    """Per-epoch training loss and metric (`accuracy`, or `R^2` for regression)."""

    metric_name: str
    loss: list[float] = field(default_factory=list)
    metric: list[float] = field(default_factory=list)

    @property
    def final_loss(self) -> float:
        return self.loss[-1]

    @property
    def final_metric(self) -> float:
        return self.metric[-1]


def r_squared(predicted: torch.Tensor, values: torch.Tensor) -> float:
    """Coefficient of determination of `predicted` against `values`, both flattened: 1 is perfect, 0 is the mean."""
    predicted, values = predicted.reshape(-1).double(), values.reshape(-1).double()
    residual = ((values - predicted) ** 2).sum()
    total = ((values - values.mean()) ** 2).sum()
    return float(1.0 - residual / total)


def accuracy(predicted: torch.Tensor, labels: torch.Tensor) -> float:
    """Fraction of predicted classes equal to the labels, both flattened."""
    return float((predicted.reshape(-1) == labels.reshape(-1)).double().mean())


class Trainer:
    """One model on one data set: `step(loss)` does backward and an Adam step, then records loss and metric.

    The metric is measured on the model's output for the whole data set: R^2 for regression; for classifiers
    the predicted class is `argmax(dim=1)` with several outputs, else `output > threshold` (0 for logits, 0.5 for
    a model whose output is already a probability).
    """

    def __init__(self, model: nn.Module, data: Dataset, *, lr: float = 0.05, threshold: float = 0.0) -> None:
        self.model = model
        self.data = data
        self.threshold = threshold
        self.optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        self.history = History("R^2" if data.task == "regression" else "accuracy")

    def step(self, loss: torch.Tensor) -> None:
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        self.history.loss.append(float(loss.detach()))
        self.history.metric.append(self.measure())

    @torch.no_grad()
    def measure(self) -> float:
        output = self.model(self.data.x)
        if self.data.task == "regression":
            return r_squared(output, self.data.labels)
        if output.ndim == 2 and output.shape[1] > 1:
            return accuracy(output.argmax(dim=1), self.data.labels)
        return accuracy((output > self.threshold).long(), self.data.labels)


def fit(model: nn.Module, loss: LossFunction, data: Dataset, epochs: int, *,
        target: torch.Tensor | None = None, lr: float = 0.05) -> History:
    """Train `model` on `data` for `epochs` full-batch steps of `loss(model(x), target)`; return the history.

    `target` defaults to the task's correct target (`REFERENCES[data.task].make_target(data.labels)`).
    """
    if target is None:
        target = REFERENCES[data.task].make_target(data.labels)
    trainer = Trainer(model, data, lr=lr)
    for _ in range(epochs):
        trainer.step(loss(model(data.x), target))
    return trainer.history


def fit_reference(data: Dataset, epochs: int, seed: int = 0) -> tuple[nn.Module, History]:
    """Build the task's correct model (initialised from `seed`) and train it with its loss and target."""
    reference = REFERENCES[data.task]
    with seeded(seed):
        model = reference.build_model(data.n_features, data.n_classes)
    return model, fit(model, reference.build_loss(), data, epochs)


@contextlib.contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Seed torch's global generator for the block, and restore its previous state afterwards."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        yield
