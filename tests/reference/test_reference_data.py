"""The synthetic data: seeded, exact sizes, raw labels of the documented dtypes."""

from __future__ import annotations

import pytest
import torch

from lossguard.reference.data import TASKS, make_data


@pytest.mark.parametrize("task", TASKS)
def test_same_seed_same_data_other_seed_other_data(task: str) -> None:
    first, again, other = make_data(task, seed=3), make_data(task, seed=3), make_data(task, seed=4)
    assert torch.equal(first.x, again.x) and torch.equal(first.labels, again.labels)
    assert not torch.equal(first.x, other.x)


def test_raw_labels_have_the_dtypes_a_user_would_have() -> None:
    regression, binary, multiclass = (make_data(task) for task in TASKS)
    assert regression.labels.dtype == torch.float32 and regression.labels.shape == (512,)
    assert binary.labels.dtype == torch.int64 and set(binary.labels.tolist()) == {0, 1}
    assert multiclass.labels.dtype == torch.int64 and set(multiclass.labels.tolist()) == {0, 1, 2}
    assert multiclass.n_classes == 3


def test_binary_classes_are_balanced_enough() -> None:
    share = make_data("binary").labels.float().mean().item()
    assert 0.3 < share < 0.7


def test_unknown_task_names_the_choices() -> None:
    with pytest.raises(ValueError, match="regression, binary, multiclass"):
        make_data("ranking")
