"""The checker's guards: files over max-file-size are skipped unread, with one line each, and counted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.config import Config
from lossguard.static.checker import check_paths

SIGMOID = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
NOTEBOOK_CELL = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": SIGMOID}


def _notebook(cells: int) -> str:
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [NOTEBOOK_CELL] * cells})


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "small.py").write_text(SIGMOID)
    (tmp_path / "big.py").write_text(SIGMOID + "# padding\n" * 2_000)  # 20.1 kB
    (tmp_path / "big.ipynb").write_text(_notebook(200))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_files_over_the_limit_are_skipped_without_being_read(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    read: list[str] = []
    real = Path.read_bytes

    def recording(self: Path) -> bytes:
        read.append(self.name)
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", recording)
    result = check_paths(["."], config=Config(max_file_size=10_000))
    # the pre-filter's read, then the analysis'; the search for scripts importing it reads small files only
    assert read.count("small.py") == 2 and not {"big.py", "big.ipynb"} & set(read)
    assert [Path(f.path).name for f in result.findings] == ["small.py"]
    assert result.files_checked == 1 and result.errors == []
    big_notebook = (project / "big.ipynb").stat().st_size
    assert result.skipped == [
        f"big.ipynb: skipped: {big_notebook / 1000:.1f} kB is over max-file-size (10.0 kB)",
        "big.py: skipped: 20.1 kB is over max-file-size (10.0 kB)",
    ]


def test_the_default_limit_is_5_mb(project: Path) -> None:
    with open(project / "huge.py", "w") as handle:
        handle.write(SIGMOID)
        handle.write(("x = 1  # " + "p" * 90 + "\n") * 60_000)  # 6.0 MB
    result = check_paths(["."])
    assert result.skipped == ["huge.py: skipped: 6.0 MB is over max-file-size (5.0 MB)"]
    assert {Path(f.path).name for f in result.findings} == {"big.ipynb", "big.py", "small.py"}
    assert result.errors == [] and result.files_checked == 3


def test_an_imported_module_over_the_limit_stays_unknown(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "models.py").write_text(
        "from torch import nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n" + "# padding\n" * 2_000)
    (tmp_path / "train.py").write_text("import torch.nn as nn\nfrom models import model\n"
                                       "loss = nn.BCEWithLogitsLoss()(model(x), y)\n")
    config = Config(root=tmp_path)
    assert [f.code for f in check_paths([str(tmp_path / "train.py")], config=config).findings] == ["LG101"]
    limited = check_paths([str(tmp_path / "train.py")], config=Config(root=tmp_path, max_file_size=10_000))
    assert limited.findings == [] and limited.errors == [] and limited.skipped == []


def test_the_command_line_prints_the_skip_and_counts_it(project: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--no-cache", "--max-file-size", "10kB", "small.py", "big.py"])
    assert result.exit_code == 1
    assert "big.py: skipped: 20.1 kB is over max-file-size (10.0 kB)\n" in result.output
    assert result.output.rstrip().endswith(
        "Found 1 problem in 1 of 1 file checked (1 fixable with --fix --unsafe-fixes); 1 skipped as too large (see above).")
    clean = CliRunner().invoke(main, ["check", "--no-cache", "--max-file-size", "100", "big.py"])
    assert clean.exit_code == 0, "a skipped file is not an error"
    assert clean.output.rstrip().endswith("No problems found in 0 files checked; 1 skipped as too large (see above).")


def test_the_option_replaces_the_configured_limit(project: Path) -> None:
    (project / "pyproject.toml").write_text("[tool.lossguard]\nmax-file-size = 100\n")
    assert CliRunner().invoke(main, ["check", "--no-cache", "-q", "small.py"]).exit_code == 0
    assert CliRunner().invoke(main, ["check", "--no-cache", "-q", "--max-file-size", "1MB", "small.py"]).exit_code == 1
    bad = CliRunner().invoke(main, ["check", "--max-file-size", "lots", "small.py"])
    assert bad.exit_code == 2 and "'lots' is not a size" in bad.output


def test_a_file_with_too_many_syntax_nodes_is_skipped_with_one_line(project: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from lossguard.static import project as project_module

    monkeypatch.setattr(project_module, "MAX_SYNTAX_NODES", 500)
    (project / "table.py").write_text(SIGMOID + "values = [" + "1, " * 600 + "]\n")
    result = check_paths(["small.py", "table.py"])
    assert [Path(f.path).name for f in result.findings] == ["small.py"]
    assert len(result.skipped) == 1 and result.skipped[0].startswith("table.py: skipped: about ")
    assert result.skipped[0].endswith(" syntax nodes, over the 500 one file may have")
    assert result.errors == [] and result.files_checked == 1