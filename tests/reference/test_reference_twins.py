"""Each broken twin shows its documented failure, and the runtime guard reports exactly its code.

The guard tests need `lossguard.guard` (the runtime half); the reference models must make it report nothing.
"""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn.functional as F

import lossguard
from lossguard.reference import floors, twins
from lossguard.reference.data import TASKS, make_data
from lossguard.reference.training import History, fit_reference, seeded

EPOCHS = 150
BY_CODE = {twin.code: twin for twin in twins.TWINS}


def _train(twin: twins.Twin, epochs: int = EPOCHS) -> History:
    with seeded(0), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return twin.train(make_data(twin.task), epochs)


def test_one_twin_per_runtime_pitfall() -> None:
    assert sorted(BY_CODE) == ["LG101", "LG102", "LG104", "LG106", "LG201", "LG202", "LG301"]


def test_double_sigmoid_stays_above_its_floor_while_the_reference_goes_below_it() -> None:
    data = make_data("binary")
    floor = floors.double_sigmoid(data)
    twin = _train(BY_CODE["LG101"])
    _, reference = fit_reference(data, EPOCHS)
    assert min(twin.loss) >= floor
    assert reference.final_loss < floor / 5


def test_softmax_into_cross_entropy_stays_above_its_floor() -> None:
    data = make_data("multiclass")
    floor = floors.softmax_into_cross_entropy(data)
    twin = _train(BY_CODE["LG102"])
    _, reference = fit_reference(data, EPOCHS)
    assert min(twin.loss) >= floor - 1e-6
    assert reference.final_loss < floor / 10


def test_softmax_into_nll_gives_a_negative_loss() -> None:
    history = _train(BY_CODE["LG104"])
    assert history.final_loss < 0
    assert min(history.loss) >= -1.0


def test_broadcast_regression_fits_only_the_mean() -> None:
    data = make_data("regression")
    twin = _train(BY_CODE["LG301"])
    _, reference = fit_reference(data, EPOCHS)
    assert reference.final_metric >= 0.95
    assert twin.final_metric < 0.1
    assert twin.final_loss >= floors.broadcast_mse(data) - 1e-5


def test_one_hot_twin_matches_the_reference_value_but_not_with_class_weights() -> None:
    """Float one-hot rows are read as probabilities: the same loss, until `weight` normalises differently."""
    data = make_data("multiclass")
    twin = _train(BY_CODE["LG201"], epochs=20)
    _, reference = fit_reference(data, 20)
    assert twin.loss == pytest.approx(reference.loss, rel=1e-4, abs=1e-6)
    logits = torch.randn(len(data.labels), 3, generator=torch.Generator().manual_seed(0))
    weight = torch.tensor([1.0, 2.0, 5.0])
    one_hot = F.one_hot(data.labels, 3).float()
    assert F.cross_entropy(logits, one_hot, weight=weight).item() != pytest.approx(
        F.cross_entropy(logits, data.labels, weight=weight).item(), rel=0.05
    )


@pytest.mark.parametrize("code, message", [
    ("LG106", "all elements of input should be between 0 and 1"),
    ("LG202", "expected target dtype to be Long"),
])
def test_twins_that_pytorch_rejects(code: str, message: str) -> None:
    with pytest.raises(RuntimeError, match=message):
        _train(BY_CODE[code], epochs=1)


@pytest.mark.parametrize("twin", twins.TWINS, ids=lambda twin: twin.code)
def test_runtime_guard_reports_exactly_the_twins_code(twin: twins.Twin) -> None:
    with lossguard.guard(policy="log") as guard:
        try:
            _train(twin, epochs=3)
        except RuntimeError:
            assert twin.raises
    assert sorted({finding.code for finding in guard.findings}) == [twin.code]


@pytest.mark.parametrize("twin", [t for t in twins.TWINS if t.raises], ids=lambda twin: twin.code)
def test_guard_raises_before_pytorch_does(twin: twins.Twin) -> None:
    with lossguard.guard(policy="raise"), pytest.raises(lossguard.LossGuardError, match=twin.code):
        _train(twin, epochs=1)


@pytest.mark.parametrize("task", TASKS)
def test_runtime_guard_reports_nothing_on_the_reference_models(task: str) -> None:
    with lossguard.guard(policy="log") as guard:
        fit_reference(make_data(task), epochs=3)
    assert guard.findings == []
