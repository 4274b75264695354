"""Each loss floor formula against a direct numerical minimisation of the real PyTorch loss.

The outputs are free parameters (the most a model could ever produce), passed through the pitfall's activation;
Adam drives them towards the infimum, which the formula must match and never exceed what was found.
"""

from __future__ import annotations

import math
from typing import Callable

import pytest
import torch
import torch.nn.functional as F

from lossguard.reference import floors
from lossguard.reference.data import binary_data, multiclass_data, regression_data


N = 64  # the floors depend on the data only through class shares or the target variance: a small set will do


def _minimise(loss_of: Callable[[torch.Tensor], torch.Tensor], shape: tuple[int, ...], steps: int = 400) -> float:
    torch.manual_seed(0)
    free = torch.randn(shape, requires_grad=True)
    optimizer = torch.optim.Adam([free], lr=0.2)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_of(free)
        loss.backward()
        optimizer.step()
    return float(loss_of(free).detach())


def test_known_values() -> None:
    assert floors.softplus(-1.0) == pytest.approx(0.3133, abs=1e-4)
    assert floors.softmax_into_cross_entropy(multiclass_data(N)) == pytest.approx(math.log(1 + 2 / math.e))


def test_double_sigmoid_floor() -> None:
    data = binary_data(N)
    target = data.labels.float().view(-1, 1)
    found = _minimise(lambda z: F.binary_cross_entropy_with_logits(torch.sigmoid(z), target), (len(target), 1))
    floor = floors.double_sigmoid(data)
    assert floor <= found + 1e-6
    assert found - floor < 0.01


def test_softmax_into_cross_entropy_floor() -> None:
    data = multiclass_data(N)
    found = _minimise(lambda z: F.cross_entropy(torch.softmax(z, dim=1), data.labels), (len(data.labels), 3))
    floor = floors.softmax_into_cross_entropy(data)
    assert floor <= found + 1e-6
    assert found - floor < 0.01


def test_softmax_into_nll_floor() -> None:
    data = multiclass_data(N)
    found = _minimise(lambda z: F.nll_loss(torch.softmax(z, dim=1), data.labels), (len(data.labels), 3))
    assert floors.softmax_into_nll(data) <= found + 1e-6
    assert found - floors.softmax_into_nll(data) < 0.01


def test_broadcast_mse_floor() -> None:
    data = regression_data(N)
    with pytest.warns(UserWarning, match="broadcasting"):
        found = _minimise(lambda out: F.mse_loss(out, data.labels), (len(data.labels), 1))
    floor = floors.broadcast_mse(data)
    assert floor <= found + 1e-5
    assert found - floor < 0.01
