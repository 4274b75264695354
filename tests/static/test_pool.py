"""`--jobs N`: the same findings and errors, in the same order, whatever the number of processes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossguard.config import Config
from lossguard.static import checker, pool
from lossguard.static.checker import check_paths
from lossguard.static.session import CheckSession

REPOSITORY = Path(__file__).resolve().parents[2]

LAYERS = """
from torch import nn


def head(hidden, classes):
    return nn.Sequential(nn.Linear(hidden, classes), nn.{activation}())
"""
MODELS = """
from torch import nn

from .layers import head


class Net{n}(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Linear(32, 16)
        self.head = head(16, {classes})

    def forward(self, x):
        return self.head(self.body(x))
"""
ENGINE = """
def fit(model, loader, loss_fn, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
"""
TRAIN = """
import torch
from torch import nn

from engine import fit
from pkg{n}.models import Net{n}

model = Net{n}()
criterion = nn.{loss}()
fit(model, [], criterion, torch.optim.SGD(model.parameters(), lr=0.1))
check = criterion(model(torch.randn(8, 32)), target)
"""
BROKEN = "import torch.nn as nn\nloss = nn.MSELoss(\n"
VARIANTS = [("Sigmoid", 1, "BCEWithLogitsLoss"), ("Softmax", 10, "CrossEntropyLoss"),
            ("LogSoftmax", 10, "CrossEntropyLoss"), ("ReLU", 10, "CrossEntropyLoss"), ("Sigmoid", 1, "BCELoss")]


def make_project(root: Path, packages: int = 12) -> Path:
    """train_N.py -> engine.py (the loss call) and pkgN/models.py -> pkgN/layers.py (the activation)."""
    root.mkdir(exist_ok=True)
    (root / "pyproject.toml").write_text("")
    (root / "engine.py").write_text(ENGINE)
    (root / "broken.py").write_text(BROKEN)
    for n in range(packages):
        activation, classes, loss = VARIANTS[n % len(VARIANTS)]
        package = root / f"pkg{n}"
        package.mkdir()
        (package / "__init__.py").write_text("")
        (package / "layers.py").write_text(LAYERS.format(activation=activation))
        (package / "models.py").write_text(MODELS.format(n=n, classes=classes))
        (root / f"train_{n}.py").write_text(TRAIN.format(n=n, loss=loss))
    return root


def _cli_json(paths: list[str], jobs: int, cwd: Path, cache: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    caching = ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return subprocess.run(
        [sys.executable, "-m", "lossguard", "check", "--format", "json", *caching, "--jobs", str(jobs), *paths],
        cwd=cwd, env=environment, capture_output=True, text=True, timeout=300,
    )


@pytest.mark.parametrize("corpus", ["fixtures", "generated"])
def test_jobs_1_and_2_and_a_warm_cache_print_the_same_json_and_errors(tmp_path: Path, corpus: str) -> None:
    if corpus == "fixtures":
        cwd, paths = REPOSITORY, ["fixtures"]
    else:
        cwd, paths = make_project(tmp_path / "project"), ["."]
    one, two = _cli_json(paths, 1, cwd), _cli_json(paths, 2, cwd)
    cold, warm = (_cli_json(paths, 2, cwd, tmp_path / "cache") for _ in range(2))
    assert one.returncode == two.returncode == (2 if corpus == "generated" else 1), one.stderr
    for run in (two, cold, warm):
        assert (run.returncode, run.stdout, run.stderr) == (one.returncode, one.stdout, one.stderr)
    assert one.stdout.count('"code"') >= 10


def test_the_pool_is_used_and_agrees_with_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)
    used: list[int] = []
    real = pool.check_in_pool

    def spy(files, jobs, *args, **kwargs):
        used.append(len(files))
        return real(files, jobs, *args, **kwargs)

    monkeypatch.setattr(pool, "check_in_pool", spy)
    alone = check_paths([str(root)], config=Config(root=root), jobs=1)
    assert used == []
    pooled = check_paths([str(root)], config=Config(root=root), jobs=2)
    assert used and used[0] >= checker.MIN_FILES_FOR_POOL
    assert pooled.findings == alone.findings and pooled.errors == alone.errors
    codes = {f.code for f in alone.findings}
    assert {"LG101", "LG102", "LG103", "LG107"} <= codes
    assert any(Path(f.path).name == "engine.py" and f.related for f in alone.findings), "found through the import"


def test_a_few_files_are_checked_in_this_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path, packages=2)
    monkeypatch.setattr(pool, "check_in_pool", lambda *args, **kwargs: pytest.fail("a pool for three files"))
    assert check_paths([str(root)], config=Config(root=root), jobs=8).findings


def test_a_worker_that_dies_becomes_one_error_line_for_its_file(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    root = make_project(tmp_path)
    expected = check_paths([str(root)], config=Config(root=root), jobs=1)
    real = CheckSession.check

    def crashing(self, file):
        if file.endswith("train_3.py"):
            os._exit(70)  # as a segfault in native code or the OOM killer would end the worker
        return real(self, file)

    monkeypatch.setattr(CheckSession, "check", crashing)
    result = check_paths([str(root)], config=Config(root=root), jobs=2)
    crashed = [e for e in result.errors if "train_3.py" in e]
    assert crashed == [f"{root / 'train_3.py'}:1:1: error: internal error, please report it: the process "
                       "checking it stopped (killed, out of memory, or a crash)"]
    assert [e for e in result.errors if e not in crashed] == expected.errors
    def located(findings):
        return {(Path(f.path).name, f.line, f.code) for f in findings}

    assert located(result.findings) == located(f for f in expected.findings if not f.path.endswith("train_3.py"))


def test_chunks_are_contiguous_and_cover_every_file() -> None:
    files = [f"f{i}.py" for i in range(23)]
    for jobs in (1, 2, 3, 16):
        chunks = pool.chunked(files, jobs)
        assert [file for chunk in chunks for file in chunk] == files
        assert max(map(len, chunks)) - min(map(len, chunks)) <= 1


def test_the_default_is_the_cpus_this_process_may_use() -> None:
    expected = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    assert checker.available_cpus() == (getattr(os, "process_cpu_count", lambda: expected)() or 1)
    assert checker.check_paths.__kwdefaults__["jobs"] == 1, "the library call stays in-process unless asked"
