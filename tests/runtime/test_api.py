"""The public API: install/uninstall/guard, the three policies, findings(), internal errors, threads."""

from __future__ import annotations

import logging
import threading

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.findings import Finding
from lossguard.runtime import api, observe

N, C = 32, 4


def _softmax_into_ce(steps: int = 3) -> None:
    model = nn.Sequential(nn.Linear(8, C), nn.Softmax(dim=1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        loss = F.cross_entropy(model(torch.randn(N, 8)), torch.randint(0, C, (N,)))  # LG102 here
        loss.backward()
        optimizer.step()


def test_the_public_names_are_exported():
    assert issubclass(lossguard.LossGuardWarning, UserWarning)
    assert issubclass(lossguard.LossGuardError, Exception)
    assert callable(lossguard.install) and callable(lossguard.uninstall) and callable(lossguard.guard)


def test_warn_policy_warns_once_per_call_site_at_the_users_line(quiet):
    with lossguard.guard() as g:
        _softmax_into_ce(steps=5)
    assert len(quiet) == 1 and quiet[0].category is lossguard.LossGuardWarning
    assert quiet[0].filename == __file__ and "LG102" in str(quiet[0].message)
    assert [f.code for f in g.findings] == ["LG102"]
    assert g.findings[0] in api.findings()


def test_lossguard_findings_is_the_runtime_record():
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard("log"):
        F.cross_entropy(logits.softmax(1), torch.randint(0, C, (N,)))
    assert lossguard.findings() == api.findings()
    assert "LG102" in [f.code for f in lossguard.findings()]


def test_raise_policy_raises_before_the_loss_runs():
    logits = torch.randn(N, C, requires_grad=True)
    with lossguard.guard("raise"):
        with pytest.raises(lossguard.LossGuardError, match="LG102 cross_entropy applies log_softmax"):
            F.cross_entropy(logits.softmax(1), torch.randint(0, C, (N,)))
    assert logits.grad is None


def test_raise_policy_fires_on_every_offending_call():
    with lossguard.guard("raise"):
        for _ in range(2):
            with pytest.raises(lossguard.LossGuardError):
                F.mse_loss(torch.randn(N, 1, requires_grad=True), torch.randn(N))


def test_log_policy_uses_the_logging_module(caplog, quiet):
    with caplog.at_level(logging.WARNING, logger="lossguard"), lossguard.guard("log") as g:
        _softmax_into_ce()
    assert quiet == []
    assert [r.name for r in caplog.records] == ["lossguard"] and "LG102" in caplog.records[0].getMessage()
    assert len(g.findings) == 1


def test_an_unknown_policy_is_an_error():
    with pytest.raises(ValueError, match="policy"):
        lossguard.install("explode")


def test_install_returns_a_handle_usable_as_a_context_manager(quiet):
    with lossguard.install() as handle:
        assert handle.active
        _softmax_into_ce()
    assert not handle.active and [f.code for f in handle.findings] == ["LG102"]


def test_a_nested_guard_sees_its_own_findings_and_the_innermost_policy_wins(quiet):
    outer = lossguard.install()
    _softmax_into_ce()
    with lossguard.guard("raise") as inner:
        with pytest.raises(lossguard.LossGuardError):
            _softmax_into_ce()
    assert [f.code for f in inner.findings] == ["LG102"]
    assert [f.code for f in outer.findings] == ["LG102"]
    outer.uninstall()


def test_select_and_ignore_filter_codes(quiet):
    with lossguard.guard(ignore=["LG1"]) as g:
        _softmax_into_ce()
    assert g.findings == []


def test_findings_are_finding_records_with_one_based_positions(quiet):
    with lossguard.guard() as g:
        _softmax_into_ce()
    finding = g.findings[0]
    assert isinstance(finding, Finding) and finding.path == __file__
    assert finding.column >= 1 and finding.end_column > finding.column and finding.end_line >= finding.line


def test_an_internal_error_becomes_one_warning_and_training_goes_on(monkeypatch, quiet):
    def broken(*args, **kwargs):
        raise RuntimeError("observer exploded")

    monkeypatch.setattr(observe, "producer", broken)
    model = nn.Linear(8, C)
    expected = F.cross_entropy(model(torch.ones(N, 8)), torch.zeros(N, dtype=torch.long))
    with lossguard.guard("raise"):
        for _ in range(3):
            loss = F.cross_entropy(model(torch.ones(N, 8)), torch.zeros(N, dtype=torch.long))
            loss.backward()
    assert torch.equal(loss, expected)
    assert len(quiet) == 1 and "internal error" in str(quiet[0].message) and "observer exploded" in str(quiet[0].message)


def test_two_threads_training_at_once_are_both_checked(quiet):
    errors = []

    def train_binary():
        try:
            model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
            for _ in range(20):
                F.binary_cross_entropy_with_logits(model(torch.randn(N, 8)), torch.rand(N, 1).round()).backward()
        except Exception as error:  # pragma: no cover - reported below
            errors.append(error)

    with lossguard.guard() as g:
        threads = [threading.Thread(target=_softmax_into_ce, args=(20,)), threading.Thread(target=train_binary)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert not errors
    assert sorted(f.code for f in g.findings) == ["LG101", "LG102"]


def test_rank_from_the_environment_is_in_the_message(monkeypatch, quiet, tmp_path):
    monkeypatch.setenv("RANK", "3")
    monkeypatch.setenv("MASTER_PORT", str(id(tmp_path)))  # a job of its own: its node-level marker is new
    with lossguard.guard() as g:
        _softmax_into_ce()
    assert g.findings[0].message.endswith("; rank 3)")
    assert len(quiet) == 1


def test_after_uninstall_nothing_is_checked(quiet):
    with lossguard.guard():
        pass
    _softmax_into_ce()
    assert quiet == []


def test_lossguard_auto_installs_and_respects_the_environment():
    import subprocess
    import sys

    program = (
        "import warnings, torch, torch.nn.functional as F\n"
        "import lossguard.auto\n"
        "try:\n"
        "    F.cross_entropy(torch.randn(8, 3, requires_grad=True).softmax(1), torch.randint(0, 3, (8,)))\n"
        "except lossguard.LossGuardError:\n"
        "    print('raised')\n"
        "print('installed' if lossguard.auto.guard else 'off')\n"
    )
    import os

    def run(**env):
        completed = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True,
                                   env={**os.environ, **env}, timeout=120)
        return completed.stdout.split(), completed.stderr

    out, err = run(LOSSGUARD_POLICY="raise")
    assert out == ["raised", "installed"]
    out, err = run(LOSSGUARD="0")
    assert out == ["off"] and "LG102" not in err
    out, err = run()
    assert out == ["installed"] and "LG102" in err


def test_lossguard_auto_decides_one_hot_targets_when_the_process_exits(tmp_path):
    import os
    import subprocess
    import sys

    program = tmp_path / "train.py"
    program.write_text(
        "import torch, torch.nn.functional as F\n"
        "import lossguard.auto\n"
        "logits = torch.randn(8, 3, requires_grad=True)\n"
        "for _ in range(5):\n"
        "    F.cross_entropy(logits, F.one_hot(torch.randint(0, 3, (8,)), 3).float()).backward()\n"
        "print('trained')\n"
    )
    done = subprocess.run([sys.executable, str(program)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LOSSGUARD_POLICY": "raise"})
    assert done.returncode == 0 and done.stdout.split() == ["trained"]
    assert f"{program}:5: LossGuardWarning: LG201" in done.stderr
