"""The three correct reference models, the loss each goes with, and the helper that makes its target.

The contract every model here follows: the model returns raw outputs (values or logits), the loss applies the
activation, and the target has exactly the dtype and shape the loss expects. Activations appear only in the
`predict`/`predict_proba` methods, which are never on the training path.

| task       | model                | output | loss              | target                          |
|------------|----------------------|--------|-------------------|---------------------------------|
| regression | `LinearRegressor`    | (n, 1) | `MSELoss`         | float32 (n, 1): `regression_target` |
| binary     | `LogisticClassifier` | (n, 1) | `BCEWithLogitsLoss` | float32 (n, 1): `binary_target`  |
| multiclass | `SoftmaxClassifier`  | (n, C) | `CrossEntropyLoss`  | int64 (n,): `multiclass_target`  |
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn


class LinearRegressor(nn.Module):
    """A linear model y_hat = x . w + b with one output column, trained with `MSELoss`.

    The output is (n, 1), so the target must be (n, 1) too: an (n,) target would broadcast against it into an
    (n, n) matrix of every prediction against every target (LG301). With MSE (halved) the gradient with respect
    to the weights is `(y_hat - y) x`, the same form as the logistic neuron's below: the error times the input.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted values, shape (n,)."""
        return self.forward(x).squeeze(1)


class LogisticClassifier(nn.Module):
    """Logistic regression whose sigmoid lives in the loss: `forward` returns one logit per sample, (n, 1).

    `BCEWithLogitsLoss` is sigmoid followed by binary cross-entropy, computed together in the numerically stable
    form `max(z, 0) - z y + log(1 + exp(-|z|))`, which never takes the log of a probability rounded to 0. With the
    sigmoid inside the loss, the gradient with respect to the weights is `(sigmoid(z) - y) x`: the same
    `(y_hat - y) x` as the linear regressor, which is why this pairing trains as easily as least squares. Putting
    a sigmoid in `forward` as well would apply it twice (LG101); use `predict_proba` for probabilities.
    """

    def __init__(self, n_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """P(class 1 | x), shape (n, 1)."""
        return torch.sigmoid(self.forward(x))

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted classes, int64 of shape (n,): probability >= 0.5, i.e. logit >= 0."""
        return (self.predict_proba(x) >= 0.5).long().squeeze(1)


class SoftmaxClassifier(nn.Module):
    """A small MLP returning one logit per class, (n, C), trained with `CrossEntropyLoss` on int64 (n,) targets.

    `CrossEntropyLoss` is `log_softmax` followed by `NLLLoss`, so the model must not apply a softmax of its own:
    a softmax before it caps the loss above `log(1 + (C - 1)/e)` and shrinks the gradients (LG102). The gradient
    with respect to the logits is `softmax(z) - onehot(y)`, again prediction minus target. `predict` is
    `argmax(dim=1)` on the logits: softmax is monotonic, so it would not change the answer.
    """

    def __init__(self, n_features: int, n_classes: int, hidden: int = 32) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, hidden), nn.ReLU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor) -> torch.Tensor:
        """Class probabilities, shape (n, C)."""
        return torch.softmax(self.forward(x), dim=1)

    @torch.no_grad()
    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Predicted classes, int64 of shape (n,)."""
        return self.forward(x).argmax(dim=1)


def regression_target(values: torch.Tensor) -> torch.Tensor:
    """Raw values (n,) -> float32 (n, 1), the shape of `LinearRegressor`'s output."""
    return values.to(torch.float32).reshape(-1, 1)


def binary_target(labels: torch.Tensor) -> torch.Tensor:
    """Raw 0/1 labels (n,) of any dtype -> float32 (n, 1), the shape of `LogisticClassifier`'s output."""
    return labels.to(torch.float32).reshape(-1, 1)


def multiclass_target(labels: torch.Tensor) -> torch.Tensor:
    """Raw class labels (n,) -> int64 (n,): class indices, one dimension fewer than the (n, C) logits."""
    return labels.to(torch.int64).reshape(-1)


@dataclass(frozen=True)
class Reference:
    """The correct combination for one task: how to build the model, its loss, and its target."""

    task: str
    build_model: Callable[[int, int], nn.Module]  # (n_features, n_classes) -> model
    build_loss: Callable[[], nn.Module]
    make_target: Callable[[torch.Tensor], torch.Tensor]


REFERENCES: dict[str, Reference] = {
    "regression": Reference(
        "regression", lambda n_features, n_classes: LinearRegressor(n_features), nn.MSELoss, regression_target
    ),
    "binary": Reference(
        "binary", lambda n_features, n_classes: LogisticClassifier(n_features), nn.BCEWithLogitsLoss, binary_target
    ),
    "multiclass": Reference(
        "multiclass", SoftmaxClassifier, nn.CrossEntropyLoss, multiclass_target
    ),
}
