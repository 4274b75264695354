"""The broken twins: each reference model trained with exactly one pitfall the runtime guard detects.

Every twin is one function, `twin(data, epochs) -> History`, that builds its model, its loss and its target and
then trains with the loss call written out in the same function: the pitfall is visible in the source, in the
plain shape a user would write, so the static checker can be run on this module and its findings attributed to
the twin whose lines contain them (`twin_line_ranges`). Each model has the reference model's layers, so with the
same seed a twin starts from the same weights as its reference and differs only by its pitfall.

Call them under `lossguard.reference.training.seeded(seed)` for reproducible weights.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Callable

import torch.nn.functional as F
from torch import nn

from lossguard.reference import floors
from lossguard.reference.data import Dataset
from lossguard.reference.models import binary_target
from lossguard.reference.training import History, Trainer


def double_sigmoid(data: Dataset, epochs: int) -> History:
    """LG101: the model ends in a sigmoid and BCEWithLogitsLoss applies another one."""
    model = nn.Sequential(nn.Linear(data.n_features, 1), nn.Sigmoid())
    criterion = nn.BCEWithLogitsLoss()
    target = binary_target(data.labels)
    trainer = Trainer(model, data, threshold=0.5)
    for _ in range(epochs):
        trainer.step(criterion(model(data.x), target))
    return trainer.history


def logits_into_bce(data: Dataset, epochs: int) -> History:
    """LG106: raw logits into BCELoss, which wants probabilities: PyTorch raises once a logit leaves [0, 1]."""
    model = nn.Sequential(nn.Linear(data.n_features, 1))
    criterion = nn.BCELoss()
    target = binary_target(data.labels)
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(criterion(model(data.x), target))
    return trainer.history


def softmax_into_cross_entropy(data: Dataset, epochs: int) -> History:
    """LG102: the model ends in a softmax and CrossEntropyLoss applies log_softmax on top of it."""
    model = nn.Sequential(
        nn.Linear(data.n_features, 32), nn.ReLU(), nn.Linear(32, data.n_classes), nn.Softmax(dim=1)
    )
    criterion = nn.CrossEntropyLoss()
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(criterion(model(data.x), data.labels))
    return trainer.history


def softmax_into_nll(data: Dataset, epochs: int) -> History:
    """LG104: softmax probabilities into NLLLoss, which expects log-probabilities: the loss is -mean(p_y)."""
    model = nn.Sequential(
        nn.Linear(data.n_features, 32), nn.ReLU(), nn.Linear(32, data.n_classes), nn.Softmax(dim=1)
    )
    criterion = nn.NLLLoss()
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(criterion(model(data.x), data.labels))
    return trainer.history


def one_hot_targets(data: Dataset, epochs: int) -> History:
    """LG201: one-hot rows instead of class indices. As floats CrossEntropyLoss reads them as probabilities."""
    model = nn.Sequential(nn.Linear(data.n_features, 32), nn.ReLU(), nn.Linear(32, data.n_classes))
    target = F.one_hot(data.labels, data.n_classes).float()
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(F.cross_entropy(model(data.x), target))
    return trainer.history


def float_class_indices(data: Dataset, epochs: int) -> History:
    """LG202: class indices as float32; PyTorch raises (it wants int64)."""
    model = nn.Sequential(nn.Linear(data.n_features, 32), nn.ReLU(), nn.Linear(32, data.n_classes))
    target = data.labels.float()
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(F.cross_entropy(model(data.x), target))
    return trainer.history


def broadcast_regression(data: Dataset, epochs: int) -> History:
    """LG301: (n,) targets against the (n, 1) output: MSE broadcasts to (n, n), every output against every target."""
    model = nn.Sequential(nn.Linear(data.n_features, 1))
    criterion = nn.MSELoss()
    target = data.labels.flatten()  # a 1-D target, as raw values usually come
    trainer = Trainer(model, data)
    for _ in range(epochs):
        trainer.step(criterion(model(data.x), target))
    return trainer.history


@dataclass(frozen=True)
class Twin:
    """A broken twin: its pitfall's code, its task, how to train it, and the lowest loss its pitfall allows.

    `floor` is None for twins that PyTorch rejects (`raises`): they never produce a loss.
    """

    name: str
    code: str
    task: str
    train: Callable[[Dataset, int], History]
    floor: Callable[[Dataset], float] | None
    raises: bool = False


TWINS: tuple[Twin, ...] = (
    Twin("broadcast targets", "LG301", "regression", broadcast_regression, floors.broadcast_mse),
    Twin("double sigmoid", "LG101", "binary", double_sigmoid, floors.double_sigmoid),
    Twin("logits into BCELoss", "LG106", "binary", logits_into_bce, None, raises=True),
    Twin("softmax into CE", "LG102", "multiclass", softmax_into_cross_entropy, floors.softmax_into_cross_entropy),
    Twin("softmax into NLL", "LG104", "multiclass", softmax_into_nll, floors.softmax_into_nll),
    Twin("one-hot targets", "LG201", "multiclass", one_hot_targets, floors.zero),
    Twin("float class indices", "LG202", "multiclass", float_class_indices, None, raises=True),
)


def twins_for(task: str) -> tuple[Twin, ...]:
    return tuple(twin for twin in TWINS if twin.task == task)


def twin_line_ranges() -> dict[str, range]:
    """Each twin's lines in this module (1-based, as findings report them), to attribute static findings."""
    ranges = {}
    for twin in TWINS:
        lines, start = inspect.getsourcelines(twin.train)
        ranges[twin.name] = range(start, start + len(lines))
    return ranges
