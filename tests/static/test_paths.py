"""One rule for every path of a report: relative to the working directory below it, absolute elsewhere (ruff)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.static.paths import display_path

PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "pitfalls" / "project"


def _json_paths(*arguments: str) -> list[str]:
    result = CliRunner().invoke(main, ["check", "--format", "json", *arguments])
    findings = json.loads(result.output)
    assert findings
    return [path for f in findings for path in (f["path"], *(r["path"] for r in f["related"]))]


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(PROJECT, tmp_path / "work" / "project")
    monkeypatch.chdir(tmp_path / "work")
    return tmp_path / "work" / "project"


@pytest.mark.parametrize("given", ["absolute", "relative", "dotted"])
def test_paths_below_the_working_directory_are_relative_whatever_was_typed(project_copy: Path, given: str) -> None:
    argument = {"absolute": str(project_copy), "relative": "project", "dotted": "../work/project"}[given]
    # the checked file itself, the module it calls into (engine.py is reached from train.py), and `related`
    paths = _json_paths(argument, str(project_copy / "engine.py"))
    assert {"project/engine.py", "project/nets/heads.py"} <= set(paths)
    assert all(path.startswith("project/") for path in paths)
    message = CliRunner().invoke(main, ["check", "-q", argument]).output
    assert "at project/nets/heads.py:7" in message and str(project_copy) not in message


def test_paths_outside_the_working_directory_are_absolute(project_copy: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    elsewhere = project_copy.parent.parent / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    for argument in (str(project_copy), "../work/project"):
        paths = set(_json_paths(argument))
        assert {str(project_copy / "engine.py"), str(project_copy / "nets/heads.py")} <= paths
        assert all(path.startswith(str(project_copy) + "/") for path in paths)


def test_a_checked_file_given_absolute_is_shown_like_the_module_it_imports(project_copy: Path) -> None:
    paths = _json_paths(str(project_copy / "engine.py"), str(project_copy / "train.py"))
    assert paths[:2] == ["project/engine.py", "project/nets/heads.py"]
    assert all(path.startswith("project/") for path in paths)


def test_sarif_and_text_follow_the_same_rule(project_copy: Path) -> None:
    sarif = json.loads(CliRunner().invoke(main, ["check", "--format", "sarif", str(project_copy)]).output)
    result = sarif["runs"][0]["results"][0]
    uris = [result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            result["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"]]
    assert uris == ["project/engine.py", "project/nets/heads.py"]
    text = CliRunner().invoke(main, ["check", "-q", str(project_copy)]).output
    assert text.startswith("project/engine.py:9:16: LG101")


def test_display_path_leaves_pseudo_paths_alone() -> None:
    assert display_path("<stdin>") == "<stdin>"
