"""The pre-commit hook for real: `pre-commit try-repo` installs this project into its own environment and runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PITFALL = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
CLEAN = "import torch.nn as nn\nmodel = nn.Linear(4, 1)\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"

pytestmark = pytest.mark.skipif(shutil.which("pre-commit") is None or shutil.which("git") is None,
                                reason="pre-commit and git are needed")


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def _try_repo(repo: Path, home: Path, hook: str = "lossguard") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PRE_COMMIT_HOME": str(home), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    return subprocess.run(
        ["pre-commit", "try-repo", str(ROOT), hook, "--all-files"],
        cwd=repo, capture_output=True, text=True, timeout=600, env=env,
    )


@pytest.fixture(scope="module")
def hook_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


def _repo_with(tmp_path: Path, source: str) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    _git(repo, "init", "-q")
    (repo / "train.py").write_text(source)
    _git(repo, "add", "train.py")
    return repo


def test_hook_fails_on_a_pitfall(tmp_path: Path, hook_home: Path) -> None:
    done = _try_repo(_repo_with(tmp_path, PITFALL), hook_home)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "train.py:3:8: LG101 [sigmoid-into-bce-with-logits]" in done.stdout


def test_hook_passes_on_a_clean_file(tmp_path: Path, hook_home: Path) -> None:
    done = _try_repo(_repo_with(tmp_path, CLEAN), hook_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Passed" in done.stdout


INLINE = ("import torch.nn.functional as F\n"
          "loss = F.binary_cross_entropy_with_logits(logits.sigmoid(), y)\n")


def test_fix_hook_fixes_the_file_and_fails_so_the_fix_is_reviewed(tmp_path: Path, hook_home: Path) -> None:
    repo = _repo_with(tmp_path, INLINE)
    done = _try_repo(repo, hook_home, "lossguard-fix")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "files were modified by this hook" in done.stdout
    assert (repo / "train.py").read_text() == INLINE.replace("logits.sigmoid()", "logits")
    _git(repo, "add", "train.py")
    again = _try_repo(repo, hook_home, "lossguard-fix")
    assert again.returncode == 0, again.stdout + again.stderr


def test_fix_hook_still_fails_on_what_it_cannot_fix(tmp_path: Path, hook_home: Path) -> None:
    repo = _repo_with(tmp_path, PITFALL)
    done = _try_repo(repo, hook_home, "lossguard-fix")
    assert done.returncode == 1
    assert "train.py:3:8: LG101" in done.stdout
    assert (repo / "train.py").read_text() == PITFALL
