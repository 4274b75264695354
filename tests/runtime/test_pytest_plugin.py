"""`pytest --lossguard`: a training smoke test with a pitfall fails; without the flag it passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SMOKE_TEST = '''
import torch, torch.nn as nn

def test_training_smoke():
    model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())
    for _ in range(2):
        nn.BCEWithLogitsLoss()(model(torch.randn(16, 8)), torch.rand(16, 1).round()).backward()
'''


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(folder)],
                          cwd=folder, capture_output=True, text=True, timeout=180, env=dict(os.environ))


def test_lossguard_flag_makes_a_pitfall_fail_the_test(tmp_path):
    (tmp_path / "test_smoke.py").write_text(SMOKE_TEST)
    failing = _pytest(tmp_path, "--lossguard")
    assert failing.returncode == 1, failing.stdout
    assert "LossGuardError" in failing.stdout and "LG101" in failing.stdout
    passing = _pytest(tmp_path)
    assert passing.returncode == 0, passing.stdout


def test_a_failure_points_at_the_tests_line_not_inside_the_guard(tmp_path):
    (tmp_path / "test_smoke.py").write_text(SMOKE_TEST)
    line = next(number for number, text in enumerate(SMOKE_TEST.splitlines(), 1) if "BCEWithLogitsLoss" in text)
    failing = _pytest(tmp_path, "--lossguard")
    assert failing.returncode == 1, failing.stdout
    assert f"test_smoke.py:{line}: LossGuardError" in failing.stdout
    assert "monitor.py" not in failing.stdout and "wrap.py" not in failing.stdout
