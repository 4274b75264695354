"""The README's quickstart commands: CI runs the test command as written, and it pins torch."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_test_command() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quickstart = readme.split("## Quickstart", 1)[1].split("```bash", 1)[1].split("```", 1)[0]
    (line,) = [line for line in quickstart.splitlines() if "pytest" in line]
    return line.split("#", 1)[0].strip()


def test_ci_runs_the_readmes_test_command_as_written() -> None:
    command = _readme_test_command()
    assert command in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()


def test_the_test_command_pins_torch_through_the_constraints_file() -> None:
    # Without the pin, `torch>=2.1` resolves to the newest CUDA build on a fresh machine (5.6 GB).
    command = _readme_test_command()
    match = re.search(r"-c (\S+)", command)
    assert match is not None, command
    constraints = (ROOT / match.group(1)).read_text(encoding="utf-8").splitlines()
    assert [line for line in constraints if line.startswith("torch")] == ["torch==2.13.0"]
