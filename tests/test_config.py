"""[tool.lossguard] in pyproject.toml: select/ignore, exclude (named files too), per-file ignores, bad config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.config import DEFAULT_MAX_FILE_SIZE, ConfigError, load_config, parse_size

SIGMOID = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
ONE_HOT = "import torch.nn.functional as F\nloss = F.cross_entropy(logits, F.one_hot(y, 3))\n"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "train.py").write_text(SIGMOID)
    (tmp_path / "src" / "targets.py").write_text(ONE_HOT)
    (tmp_path / "legacy").mkdir()
    (tmp_path / "legacy" / "old_train.py").write_text(SIGMOID)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _codes(*args: str) -> list[tuple[str, str]]:
    result = CliRunner().invoke(main, ["check", "--format", "json", *args])
    assert result.exit_code in (0, 1), result.output
    return [(Path(f["path"]).name, f["code"]) for f in json.loads(result.output)]


def _configure(project: Path, table: str) -> None:
    (project / "pyproject.toml").write_text(f"[project]\nname = 'x'\n\n[tool.lossguard]\n{table}\n")


def test_without_configuration_everything_is_checked(project: Path) -> None:
    assert _codes(".") == [("old_train.py", "LG101"), ("targets.py", "LG201"), ("train.py", "LG101")]


def test_exclude_skips_folders_and_named_files(project: Path) -> None:
    _configure(project, 'exclude = ["legacy/"]')
    assert _codes(".") == [("targets.py", "LG201"), ("train.py", "LG101")]
    assert _codes("legacy/old_train.py") == []  # pre-commit names files one by one


def test_select_and_ignore_from_the_configuration(project: Path) -> None:
    _configure(project, 'select = ["LG2"]')
    assert _codes(".") == [("targets.py", "LG201")]
    _configure(project, 'ignore = ["LG201"]')
    assert _codes(".") == [("old_train.py", "LG101"), ("train.py", "LG101")]


def test_command_line_selection_replaces_the_configured_one(project: Path) -> None:
    _configure(project, 'select = ["LG2"]')
    assert _codes(".", "--select", "LG101") == [("old_train.py", "LG101"), ("train.py", "LG101")]


def test_per_file_ignores(project: Path) -> None:
    _configure(project, 'per-file-ignores = { "src/*.py" = ["LG1"] }')
    assert _codes(".") == [("old_train.py", "LG101"), ("targets.py", "LG201")]


def test_config_is_found_from_a_subfolder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(project, 'exclude = ["legacy"]')
    monkeypatch.chdir(project / "src")
    assert _codes(str(project)) == [("targets.py", "LG201"), ("train.py", "LG101")]


@pytest.mark.parametrize("table,message", [
    ("select = 3", "select must be a list of strings"),
    ("colour = 'red'", "unknown [tool.lossguard] key 'colour'"),
    ("select = [", "invalid TOML"),
    ("select = ['LG9']", "'LG9' matches no rule code"),
    ("max-file-size = 'big'", "max-file-size: 'big' is not a size"),
    ("max-file-size = 0", "max-file-size: 0 is not a positive size"),
    ("max-file-size = true", "max-file-size: True is not a size"),
])
def test_bad_configuration_is_a_one_line_usage_error(project: Path, table: str, message: str) -> None:
    _configure(project, table)
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2
    assert message in result.output and "Traceback" not in result.output


def test_explicit_config_path(project: Path) -> None:
    other = project / "ci.toml"
    other.write_text("[tool.lossguard]\nexclude = ['src']\n")
    assert _codes(".", "--config", str(other)) == [("old_train.py", "LG101")]


def test_load_config_defaults_without_pyproject(tmp_path: Path) -> None:
    config = load_config(start=tmp_path)
    assert config.select == () and not config.is_excluded("anything.py")


def test_unreadable_config_raises_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


@pytest.mark.parametrize("content,message", [
    (b"[tool.lossguard]\nselect = ['LG9']\n", "select: 'LG9' matches no rule code"),
    (b"[tool.lossguard]\nignore = ['XX1']\n", "ignore: 'XX1' matches no rule code"),
    (b"[tool.lossguard]\nper-file-ignores = { 'a.py' = ['LG9'] }\n", "per-file-ignores a.py: 'LG9' matches no rule code"),
    (b"\xff\xfe[tool.lossguard]\n", "invalid TOML: not UTF-8"),
])
def test_every_configuration_error_names_its_file(project: Path, content: bytes, message: str) -> None:
    (project / "pyproject.toml").write_bytes(content)
    result = CliRunner().invoke(main, ["check", "."])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert result.output.splitlines()[-1].startswith(f"Error: {project / 'pyproject.toml'}: {message}")


@pytest.mark.parametrize("value,size", [
    (1234, 1234), ("1234", 1234), ("5MB", 5_000_000), ("5 mb", 5_000_000), ("500kB", 500_000),
    ("1.5 MB", 1_500_000), ("2MiB", 2 * 1024 * 1024), ("1 GiB", 2**30), ("1GB", 10**9), ("10b", 10),
])
def test_max_file_size_in_bytes_or_with_a_unit(value: object, size: int) -> None:
    assert parse_size(value) == size


def test_max_file_size_from_the_table(project: Path) -> None:
    _configure(project, "max-file-size = '2kB'")
    assert load_config(project / "pyproject.toml").max_file_size == 2000
    _configure(project, "select = ['LG1']")
    assert load_config(project / "pyproject.toml").max_file_size == DEFAULT_MAX_FILE_SIZE == 5_000_000
