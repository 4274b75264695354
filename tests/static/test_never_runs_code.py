"""`lossguard check` reads the code it checks and never runs it: not the checked files, not a `conftest.py`, a
`setup.py` or a notebook, not a `sitecustomize.py`/`usercustomize.py`/`.pth` file next to them, and not a module
that shadows a package lossguard imports (`click.py`, `torch.py`), even when started with `python -m` from inside
the checked folder (which puts that folder first on `sys.path`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PITFALL = ("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
           "loss = nn.CrossEntropyLoss()(model(x), y)\nloss.backward()\n")
# Each would write its marker if it ran; each mentions a loss, so that the checker reads it rather than skip it.
RUNNABLE = ["train.py", "conftest.py", "setup.py", "sitecustomize.py", "usercustomize.py", "click.py", "torch.py",
            "libcst.py"]


def _planted(tmp_path: Path) -> tuple[Path, Path]:
    project, markers = tmp_path / "project", tmp_path / "markers"
    project.mkdir()
    markers.mkdir()
    for name in RUNNABLE:
        marker = markers / name
        (project / name).write_text(f"open({str(marker)!r}, 'w').write('ran')\n" + PITFALL)
    (project / "evil.pth").write_text(f"import os; open({str(markers / 'evil.pth')!r}, 'w').write('ran')\n")
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": f"open({str(markers / 'notebook.ipynb')!r}, 'w').write('ran')\n" + PITFALL}
    (project / "notebook.ipynb").write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {},
                                                        "cells": [cell]}))
    return project, markers


@pytest.mark.parametrize("how", ["python -m, inside the folder", "python -m, from elsewhere", "console script"])
def test_checking_a_folder_runs_none_of_its_code(tmp_path: Path, how: str) -> None:
    project, markers = _planted(tmp_path)
    if how == "console script":
        script = shutil.which("lossguard")
        if script is None:
            pytest.skip("the lossguard console script is not installed")
        command, cwd, target = [script, "check", "-q"], project, "."
    else:
        command = [sys.executable, "-m", "lossguard", "check", "-q"]
        cwd, target = (project, ".") if how.endswith("inside the folder") else (tmp_path, str(project))
    done = subprocess.run([*command, target], cwd=cwd, capture_output=True, text=True, timeout=60,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert sorted(p.name for p in markers.iterdir()) == [], "checked code was executed"
    assert (done.returncode, done.stderr) == (1, "")
    # Every planted file was read, and its pitfall found: lossguard still works.
    reported = {Path(line.split(":", 1)[0]).name for line in done.stdout.splitlines()}
    assert reported == {*RUNNABLE, "notebook.ipynb"}


def test_following_imports_and_fixing_run_none_of_the_imported_code(tmp_path: Path) -> None:
    # The analysis reads the project modules a checked file imports (a package's __init__.py, a module, a star
    # import) and --fix rewrites the file: none of them is ever imported.
    project, markers = tmp_path / "project", tmp_path / "markers"
    (project / "models").mkdir(parents=True)
    markers.mkdir()
    for module in ["models/__init__.py", "models/heads.py", "helpers.py"]:
        (project / module).write_text(f"open({str(markers / module.replace('/', '.'))!r}, 'w').write('ran')\n"
                                      "import torch.nn as nn\n")
    with open(project / "models" / "heads.py", "a") as heads:
        heads.write("def head():\n    return nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n")
    (project / "train.py").write_text("import torch.nn as nn\nimport models\nfrom models.heads import head\n"
                                      "from helpers import *\nmodel = head()\n"
                                      "loss = nn.BCEWithLogitsLoss()(model(x), y)\n")
    runs = [subprocess.run([sys.executable, "-m", "lossguard", "check", "-q", *options, "."], cwd=project,
                           capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(ROOT)})
            for options in ([], ["--fix", "--unsafe-fixes"])]
    assert sorted(p.name for p in markers.iterdir()) == [], "imported code was executed"
    assert [(run.returncode, run.stderr) for run in runs] == [(1, "")] * 2
    assert runs[0].stdout.startswith("train.py:6:8: LG101") and "models/heads.py:" in runs[0].stdout
