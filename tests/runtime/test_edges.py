"""Edges of the runtime guard a real program meets: -W error, distributed markers, where reports point, worker
processes, long runs, and wrong arguments."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.runtime import api, monitor, observe, report

PROGRAMS = Path(__file__).parent / "programs"
N, C = 16, 3


def _python(*args: str, env: dict | None = None, cwd: Path = PROGRAMS) -> subprocess.CompletedProcess:
    environment = {**os.environ, **(env or {})}
    environment.pop("LOSSGUARD_POLICY", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=environment,
                          timeout=180)


def _softmax_into_ce() -> None:
    logits = torch.randn(N, C, requires_grad=True)
    F.cross_entropy(logits.softmax(dim=1), torch.randint(0, C, (N,)))


# -------------------------------------------------------------------------------- -W error
def test_w_error_raises_the_finding_itself_at_the_users_call():
    # `-W error` asks for warnings to be raised: the finding is raised as a LossGuardWarning, not reported as an
    # internal error of the guard.
    done = _python("-W", "error::UserWarning", "-m", "lossguard", "run", "rank_train.py")
    assert done.returncode == 1
    assert "internal error" not in done.stderr
    assert any(line.startswith("lossguard.LossGuardWarning: LG102 ") for line in done.stderr.splitlines())
    assert 'rank_train.py", line 7' in done.stderr


def test_w_error_never_turns_an_internal_error_into_a_crash(monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise RuntimeError("observer exploded")

    monkeypatch.setattr(observe, "producer", broken)
    logits = torch.randn(N, C, requires_grad=True)
    target = torch.randint(0, C, (N,))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lossguard.guard():
            loss = F.cross_entropy(logits, target)
    assert torch.equal(loss, F.cross_entropy(logits, target))
    assert "internal error in the runtime guard (RuntimeError: observer exploded)" in capsys.readouterr().err


# -------------------------------------------------------------------------------- node markers
def test_a_second_run_from_the_same_shell_reports_again(tmp_path):
    environment = {"RANK": "0", "LOCAL_RANK": "0", "TMPDIR": str(tmp_path)}
    for _ in range(2):
        done = _python("-m", "lossguard", "run", "rank_train.py", env=environment)
        assert done.returncode == 0, done.stderr
        assert "LossGuardWarning: LG102" in done.stderr
    assert list(tmp_path.rglob("*")) == []  # every marker (and folder) removed by the process that made it


def test_a_marker_left_by_a_dead_process_is_taken_over(tmp_path, monkeypatch):
    monkeypatch.setattr(report.tempfile, "gettempdir", lambda: str(tmp_path))
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    key = "train.py:3:1:LG102"
    assert report.first_on_node(key)
    (marker,) = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert not report.first_on_node(key)  # this process is alive: its marker stands
    marker.write_text(f"{pid} 1")  # as if a killed process had made it
    assert report.first_on_node(key)
    report.remove_markers()
    assert list(tmp_path.rglob("*")) == []


# -------------------------------------------------------------------------------- where reports point
def test_log_records_carry_the_users_file_and_line(caplog):
    with caplog.at_level(logging.WARNING, logger="lossguard"):
        with lossguard.guard("log"):
            line = sys._getframe().f_lineno + 1
            _softmax_into_ce()
    (record,) = caplog.records
    # The call is inside _softmax_into_ce, in this file.
    assert record.pathname == __file__ and record.funcName == "_softmax_into_ce"
    assert record.lineno == _softmax_into_ce.__code__.co_firstlineno + 2 and line > 0


def test_pytorchs_own_warning_inside_a_loss_points_at_the_users_line():
    output, target = torch.randn(8, 1), torch.randn(8)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        expected = F.mse_loss(output, target)
        caught.clear()
        with lossguard.guard(ignore=["LG3"]):
            line = sys._getframe().f_lineno + 1
            loss = F.mse_loss(output, target)
    (warning,) = [w for w in caught if "target size" in str(w.message)]
    assert (warning.filename, warning.lineno) == (__file__, line)
    assert torch.equal(loss, expected)


def test_pytorchs_own_warning_in_the_module_form_is_where_pytorch_puts_it():
    def module_form() -> warnings.WarningMessage:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            nn.L1Loss()(torch.randn(8, 1), torch.randn(8))
        (warning,) = [w for w in caught if "target size" in str(w.message)]
        return warning

    without = module_form()
    with lossguard.guard(ignore=["LG3"]):
        with_guard = module_form()
    assert (with_guard.filename, with_guard.lineno) == (without.filename, without.lineno)


def test_warnings_shown_once_per_line_stay_shown_once_with_the_guard():
    # Recording PyTorch's size warning with warnings.catch_warnings told the warnings module that its filters had
    # changed, which resets every "once per location" registry: this warning, and every other warning of the
    # program, was shown again on every step.
    def three_steps() -> list[str]:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default")
            for _ in range(3):
                F.mse_loss(torch.randn(8, 1), torch.randn(8))
                warnings.warn("the program's own warning", UserWarning)
        return [str(w.message)[:24] for w in caught]

    without = three_steps()
    with lossguard.guard(ignore=["LG3"]):
        with_guard = three_steps()
    assert with_guard == without == ["Using a target size (tor", "the program's own warnin"]


def test_pytorchs_warning_under_w_error_is_raised_as_without_the_guard():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lossguard.guard(ignore=["LG3"]), pytest.raises(UserWarning, match="target size"):
            F.huber_loss(torch.randn(8, 1), torch.randn(8))


# -------------------------------------------------------------------------------- worker processes
def test_strict_counts_a_finding_made_only_in_a_forked_worker():
    done = _python("-m", "lossguard", "run", "--strict", "fork_train.py")
    assert "worker exit 0" in done.stdout
    assert done.returncode == 1, done.stderr
    assert "LG102 softmax-into-cross-entropy: 1 call site(s), first at" in done.stderr


def test_strict_counts_a_finding_made_only_in_a_spawned_worker():
    done = _python("-m", "lossguard", "run", "--strict", "spawn_only.py")
    assert done.returncode == 1, done.stderr
    assert "LG104 softmax-into-nll: 1 call site(s), first at" in done.stderr


# -------------------------------------------------------------------------------- long runs
def test_findings_has_one_entry_per_call_site_however_often_the_guard_is_installed(quiet):
    for _ in range(30):
        with lossguard.guard():
            _softmax_into_ce()
    assert [f.code for f in lossguard.findings() if f.path == __file__ and f.code == "LG102"] == ["LG102"]


def test_fresh_code_objects_do_not_grow_the_guards_caches(quiet):
    body = "F.cross_entropy(x, y)\n"
    x, y = torch.randn(4, C), torch.randint(0, C, (4,))
    with lossguard.guard(value_checks=False):
        for index in range(report._INTERNAL_CODE_LIMIT + 500):
            exec(compile(body, f"<cell {index}>", "exec"), {"F": F, "x": x, "y": y})
        assert len(report._internal_code) <= report._INTERNAL_CODE_LIMIT
        assert len(api._monitor.sites) <= monitor._SITE_LIMIT


# -------------------------------------------------------------------------------- arguments
@pytest.mark.parametrize("arguments,error,message", [
    ({"ignore": "LG102"}, TypeError, "ignore must be a list of codes such as ['LG102'], not a string"),
    ({"select": "LG1"}, TypeError, "select must be a list of codes"),
    ({"select": [101]}, TypeError, "select must list codes as strings"),
    ({"first_calls": "8"}, TypeError, "first_calls must be an int, not str"),
    ({"sample_every": 2.5}, TypeError, "sample_every must be an int, not float"),
    ({"first_calls": -1}, ValueError, "first_calls must be 0 or more"),
    ({"value_checks": "no"}, TypeError, "value_checks must be True or False"),
    ({"policy": 1}, TypeError, "policy must be a string"),
    ({"policy": "loud"}, ValueError, "policy must be one of warn, raise, log"),
])
def test_wrong_arguments_are_clear_errors_and_install_nothing(arguments, error, message):
    with pytest.raises(error, match=message.replace("[", r"\[").replace("]", r"\]")):
        lossguard.install(**arguments)
    assert api._handles == []


def test_a_sparse_target_that_pytorch_accepts_is_no_internal_error():
    # cross_entropy takes class probabilities as a sparse tensor; the value checks skip what they cannot read, so
    # even under -W error the valid call goes through.
    logits = torch.randn(N, C, requires_grad=True)
    probabilities = torch.eye(C)[torch.randint(0, C, (N,))].to_sparse()
    expected = F.cross_entropy(logits, probabilities)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with lossguard.guard() as g:
            loss = F.cross_entropy(logits, probabilities)
    assert torch.equal(loss, expected) and g.findings == []
