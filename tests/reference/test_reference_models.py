"""The correct reference models: the contract (logits out, target helpers), and each one learns its task."""

from __future__ import annotations

import pytest
import torch

from lossguard.reference.data import make_data
from lossguard.reference.models import (
    REFERENCES, LogisticClassifier, SoftmaxClassifier, binary_target, multiclass_target, regression_target,
)
from lossguard.reference.training import accuracy, fit_reference, r_squared, seeded


def test_target_helpers_give_the_dtype_and_shape_the_loss_expects() -> None:
    labels = torch.tensor([0, 1, 1, 0])
    assert regression_target(torch.tensor([0.5, 1.5], dtype=torch.float64)).dtype == torch.float32
    assert regression_target(torch.tensor([0.5, 1.5])).shape == (2, 1)
    assert binary_target(labels).dtype == torch.float32 and binary_target(labels).shape == (4, 1)
    assert multiclass_target(labels.float()).dtype == torch.int64 and multiclass_target(labels).shape == (4,)


@pytest.mark.parametrize("task, minimum", [("regression", 0.95), ("binary", 0.95), ("multiclass", 0.95)])
def test_each_reference_model_learns_its_task(task: str, minimum: float) -> None:
    model, history = fit_reference(make_data(task), epochs=150)
    assert history.final_metric >= minimum
    data = make_data(task)
    if task == "regression":
        assert r_squared(model.predict(data.x), data.labels) >= minimum
    else:
        assert accuracy(model.predict(data.x), data.labels) >= minimum


def test_logistic_classifier_returns_logits_and_applies_sigmoid_only_to_predict() -> None:
    with seeded(0):
        model = LogisticClassifier(4)
    x = 3 * torch.randn(64, 4)
    logits = model(x)
    assert logits.shape == (64, 1)
    assert logits.grad_fn is not None and "Sigmoid" not in type(logits.grad_fn).__name__
    assert torch.allclose(model.predict_proba(x), torch.sigmoid(logits))
    assert torch.equal(model.predict(x), (logits >= 0).long().squeeze(1))


def test_softmax_classifier_predicts_argmax_of_logits() -> None:
    with seeded(0):
        model = SoftmaxClassifier(4, 3)
    x = torch.randn(64, 4)
    logits = model(x)
    assert logits.shape == (64, 3)
    assert torch.equal(model.predict(x), logits.argmax(dim=1))
    assert torch.allclose(model.predict_proba(x).sum(dim=1), torch.ones(64))


def test_training_is_deterministic_for_a_seed() -> None:
    data = make_data("multiclass")
    _, first = fit_reference(data, epochs=20, seed=5)
    _, again = fit_reference(data, epochs=20, seed=5)
    assert first.loss == again.loss and first.metric == again.metric


def test_references_pair_each_model_with_its_loss() -> None:
    assert {task: type(r.build_loss()).__name__ for task, r in REFERENCES.items()} == {
        "regression": "MSELoss", "binary": "BCEWithLogitsLoss", "multiclass": "CrossEntropyLoss",
    }


def test_docstrings_say_why() -> None:
    from lossguard.reference import models

    assert "(y_hat - y) x" in models.LinearRegressor.__doc__
    assert "(y_hat - y) x" in models.LogisticClassifier.__doc__
    assert "numerically stable" in models.LogisticClassifier.__doc__
