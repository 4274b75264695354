"""A fault of the guard itself never reaches the training loop: an exception injected into the observer, the judge
or the reporter leaves every loss value and every parameter bit-identical, becomes one warning, and training goes
on to its last step; reading the findings and removing the guard do not raise either."""

from __future__ import annotations

import warnings

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.runtime import monitor, observe, report

STEPS = 4
pytestmark = pytest.mark.usefixtures("one_thread")


def _train() -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """A few steps whose losses reach every part of the guard: a producer finding on every call (LG102), a value
    check with float one-hot targets (LG201, decided when the findings are read), a prediction without gradient
    (LG401, reported from a hook during backward) and a size warning of PyTorch's (relayed to this line)."""
    generator = torch.Generator().manual_seed(0)
    model = nn.Linear(6, 3)
    with torch.no_grad():
        model.weight.copy_(torch.randn(3, 6, generator=generator))
        model.bias.zero_()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    losses = []
    for _ in range(STEPS):
        x = torch.randn(8, 6, generator=generator)
        labels = torch.randint(0, 3, (8,), generator=generator)
        optimizer.zero_grad()
        out = model(x)
        loss = F.cross_entropy(out.softmax(dim=1), labels)  # LG102
        loss = loss + nn.CrossEntropyLoss()(out, F.one_hot(labels, 3).float())  # LG201
        loss = loss + F.mse_loss(out.round(), torch.zeros(8, 3)) + out.sum() * 0  # LG401
        loss = loss + F.l1_loss(out[:, :1], torch.zeros(8))  # PyTorch's size warning (and LG301)
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses, [p.detach().clone() for p in model.parameters()]


def _same(a: list[torch.Tensor], b: list[torch.Tensor]) -> bool:
    return len(a) == len(b) and all(torch.equal(x, y) for x, y in zip(a, b))


def _boom(*args, **kwargs):
    raise RuntimeError("injected fault")


@pytest.fixture
def fresh_process_findings(monkeypatch, tmp_path):
    """The guard prints a finding once per process and once per node: each case must reach the reporter afresh."""
    monkeypatch.setattr(monitor, "ALL_FINDINGS", [])
    monkeypatch.setattr(monitor, "_ALL_FINDING_KEYS", set())
    monkeypatch.setattr(report.tempfile, "gettempdir", lambda: str(tmp_path))
    yield
    report.remove_markers()


FAULTS = [
    # the observer: the producer walk, the sampled value checks
    (observe, "producer", "warn"), (observe, "check_values", "warn"), (observe, "is_value_checkable", "warn"),
    # the judge
    (monitor, "judge", "warn"),
    # the reporter: where the call is, what was seen, the rank, the node marker, sharing, printing or logging
    (report, "user_frame", "warn"), (monitor, "_place", "warn"), (monitor, "_describe", "warn"),
    (monitor, "get_rule", "warn"), (report, "rank", "warn"), (report, "first_on_node", "warn"),
    (report, "share_finding", "warn"), (report, "emit", "warn"), (report, "_log_at", "log"),
    (report, "warnings_at", "warn"),
]


@pytest.mark.parametrize("owner, name, policy", FAULTS,
                         ids=[f"{o.__name__.rsplit('.', 1)[-1]}.{n}" for o, n, _ in FAULTS])
def test_a_fault_in_the_guard_never_reaches_the_training_loop(owner, name, policy, monkeypatch,
                                                                fresh_process_findings):
    monkeypatch.setenv("RANK", "0")  # the node-marker path is taken
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = _train()
    monkeypatch.setattr(owner, name, _boom)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lossguard.guard(policy) as handle:
            trained = _train()
            handle.findings  # decides LG201: the reporter runs here too
    assert _same(trained[0], expected[0]) and _same(trained[1], expected[1])
    internal = [w for w in caught if "internal error in the runtime guard" in str(w.message)]
    assert len(internal) == 1, [str(w.message)[:200] for w in caught]
    assert "RuntimeError: injected fault" in str(internal[0].message)


def test_a_fault_while_the_findings_are_decided_does_not_raise(monkeypatch, fresh_process_findings):
    # LG201 is decided when the findings are read or the guard is removed, away from any loss call.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with lossguard.guard() as handle:
            logits = torch.randn(8, 3, requires_grad=True)
            for _ in range(4):
                F.cross_entropy(logits, torch.eye(3)[torch.arange(8) % 3])
            monkeypatch.setattr(monitor, "get_rule", _boom)
            assert handle.findings == []
        lossguard.uninstall()
    assert any("internal error in the runtime guard (RuntimeError: injected fault" in str(w.message) for w in caught)


def test_the_guard_still_reports_after_a_fault_in_one_call(monkeypatch, fresh_process_findings):
    # One broken call is one lost check, not a disabled guard: the next call of the site is judged again.
    original = monitor.judge
    calls = []

    def fails_once(*args, **kwargs):
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("injected fault")
        return original(*args, **kwargs)

    monkeypatch.setattr(monitor, "judge", fails_once)
    logits = torch.randn(8, 3, requires_grad=True)
    with warnings.catch_warnings(record=True), lossguard.guard() as handle:
        for _ in range(2):
            F.cross_entropy(logits.softmax(dim=1), torch.randint(0, 3, (8,)))
    assert [f.code for f in handle.findings] == ["LG102"]
