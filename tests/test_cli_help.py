"""`lossguard --help` and a bare `lossguard` in the static-only install (libcst and click, no torch)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def without_torch(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """An environment whose `import torch` fails as it does where torch is not installed."""
    shadow = tmp_path_factory.mktemp("no-torch")
    (shadow / "torch").mkdir()
    (shadow / "torch" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'torch'\", name='torch')\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(shadow), str(ROOT)])}


@pytest.mark.parametrize("arguments", [["--help"], ["-h"], []])
def test_help_needs_no_torch(arguments: list[str], without_torch: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "lossguard", *arguments], capture_output=True, text=True,
                          timeout=60, env=without_torch)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr and "needs torch" not in done.stderr
    commands = done.stdout.split("Commands:")[1].splitlines()
    listed = [line.split()[0] for line in commands if line.startswith("  ") and not line.startswith("   ")]
    assert listed == ["check", "demo", "explain", "rules", "run"]


def test_the_shadow_really_hides_torch(without_torch: dict[str, str]) -> None:
    done = subprocess.run([sys.executable, "-m", "lossguard", "demo"], capture_output=True, text=True, timeout=60,
                          env=without_torch)
    assert done.returncode == 2
    assert "'lossguard demo' needs torch" in done.stderr
