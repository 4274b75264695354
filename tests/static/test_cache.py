"""The result cache: reused only while the file, every module its analysis read, and the settings are unchanged."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from lossguard.config import Config
from lossguard.static import cache as cache_module
from lossguard.static import project
from lossguard.static.cache import CACHE_FOLDER
from lossguard.static.checker import check_paths

FIXTURE_PROJECT = Path(__file__).resolve().parents[2] / "fixtures" / "pitfalls" / "project"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A copy of the multi-module fixture: train.py -> engine.py, nets/sentiment.py -> nets/heads.py (Sigmoid)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE_PROJECT, root)
    return root


@pytest.fixture
def parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every libcst parse of the run, recorded (the session's parse cache calls `project.parse`)."""
    seen: list[str] = []
    real = project.parse

    def counting(source: str):
        seen.append(source)
        return real(source)

    monkeypatch.setattr(project, "parse", counting)
    return seen


def _check(root: Path, **settings) -> tuple[list[tuple[str, int, str]], list[str]]:
    enabled = settings.pop("enabled", None)
    config = Config(root=root, **settings)
    result = check_paths([str(root)], enabled=enabled, config=config, cache_folder=root / CACHE_FOLDER)
    return [(Path(f.path).name, f.line, f.code) for f in result.findings], result.errors


CROSS_MODULE = [("engine.py", 9, "LG101")]


def test_a_warm_run_reuses_every_result_and_parses_nothing(workspace: Path, parses: list[str]) -> None:
    assert _check(workspace) == (CROSS_MODULE, [])
    assert parses, "the cold run parses"
    parses.clear()
    assert _check(workspace) == (CROSS_MODULE, [])
    assert parses == []
    assert (workspace / CACHE_FOLDER / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_changed_file_is_checked_again(workspace: Path, parses: list[str]) -> None:
    _check(workspace)
    train = workspace / "train.py"
    train.write_text(train.read_text().replace("nn.BCEWithLogitsLoss()", "nn.BCELoss()"))
    parses.clear()
    assert _check(workspace) == ([], [])
    assert parses, "train.py was analysed again"


def test_a_change_two_imports_away_rechecks_the_importer(workspace: Path) -> None:
    """train.py imports nets/sentiment.py, which imports nets/heads.py: the Sigmoid removed there ends LG101."""
    assert _check(workspace) == (CROSS_MODULE, [])
    heads = workspace / "nets" / "heads.py"
    heads.write_text(heads.read_text().replace(", nn.Sigmoid()", ""))
    assert _check(workspace) == ([], [])
    heads.write_text(heads.read_text().replace("nn.Linear(hidden, 1))", "nn.Linear(hidden, 1), nn.Sigmoid())"))
    assert _check(workspace) == (CROSS_MODULE, [])


def test_changed_settings_do_not_reuse_results(workspace: Path) -> None:
    assert _check(workspace) == (CROSS_MODULE, [])
    assert _check(workspace, enabled=frozenset({"LG201"})) == ([], [])
    assert _check(workspace, per_file_ignores={"engine.py": ("LG101",)}) == ([], [])
    assert _check(workspace) == (CROSS_MODULE, [])


def test_another_lossguard_version_or_source_does_not_reuse_results(
    workspace: Path, parses: list[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    _check(workspace)
    monkeypatch.setattr(cache_module, "__version__", "0.0.0-other")
    parses.clear()
    assert _check(workspace) == (CROSS_MODULE, [])
    assert parses, "a different version re-checks"
    monkeypatch.setattr(cache_module, "_SOURCE_HASH", "an edited checkout")
    parses.clear()
    assert _check(workspace) == (CROSS_MODULE, [])
    assert parses, "different lossguard sources re-check"


def test_the_source_hash_covers_lossguards_own_files() -> None:
    digest = cache_module.lossguard_source_hash()
    assert len(digest) == 64 and digest == cache_module.lossguard_source_hash()


CORRUPTIONS = {
    "empty": b"",
    "truncated": None,  # the first half of the real entry
    "binary": b"\x00\xff\xfe garbage \x80",
    "not an object": b"[1, 2, 3]",
    "deeply nested": b"[" * 100_000 + b"]" * 100_000,
    "wrong types": None,  # a real entry whose finding line is a string
    "unknown code": None,  # a real entry claiming a code that does not exist
    "foreign settings": None,  # well-formed, with no findings, written under other settings
}


@pytest.mark.parametrize("kind", sorted(CORRUPTIONS))
def test_a_corrupt_entry_is_ignored_and_rebuilt(workspace: Path, kind: str) -> None:
    _check(workspace)
    entries = [p for p in (workspace / CACHE_FOLDER).rglob("*.json")]
    assert entries
    for entry in entries:
        text = entry.read_bytes()
        data = json.loads(text)
        if kind == "truncated":
            entry.write_bytes(text[: len(text) // 2])
        elif kind in ("wrong types", "unknown code") and data["findings"]:
            data["findings"][0]["line"] = "9" if kind == "wrong types" else 9
            if kind == "unknown code":
                data["findings"][0]["code"] = "LG999"
            entry.write_text(json.dumps(data))
        elif kind == "foreign settings":
            data["settings"] = "forged"
            data["findings"] = []
            entry.write_text(json.dumps(data))
        elif CORRUPTIONS[kind] is not None:
            entry.write_bytes(CORRUPTIONS[kind])
    assert _check(workspace) == (CROSS_MODULE, [])
    assert _check(workspace) == (CROSS_MODULE, [])  # and the rebuilt entries serve the next run
    for entry in (workspace / CACHE_FOLDER).rglob("*.json"):
        json.loads(entry.read_text())


def test_an_unusable_cache_folder_is_no_cache_and_no_error(workspace: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    for _ in range(2):
        result = check_paths([str(workspace)], config=Config(root=workspace), cache_folder=blocker / "cache")
        assert [(Path(f.path).name, f.line, f.code) for f in result.findings] == CROSS_MODULE
        assert result.errors == []


def test_errors_are_cached_like_findings(workspace: Path, parses: list[str]) -> None:
    (workspace / "broken.py").write_text("import torch.nn as nn\nloss = nn.MSELoss(\n")
    first = _check(workspace)
    parses.clear()
    assert _check(workspace) == first
    assert parses == []
    assert first[1] == [f"{workspace / 'broken.py'}:2:18: error: cannot parse: '(' was never closed"]


def test_cached_findings_read_back_equal(workspace: Path) -> None:
    config = Config(root=workspace)
    cold = check_paths([str(workspace)], config=config, cache_folder=workspace / CACHE_FOLDER)
    warm = check_paths([str(workspace)], config=config, cache_folder=workspace / CACHE_FOLDER)
    assert [dataclasses.asdict(f) for f in warm.findings] == [dataclasses.asdict(f) for f in cold.findings]
    assert cold.findings[0].related, "the cross-module finding points into nets/heads.py"


def test_the_command_line_keeps_the_cache_next_to_pyproject(workspace: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from lossguard.cli import main

    monkeypatch.chdir(workspace / "nets")
    assert CliRunner().invoke(main, ["check", "-q", ".."]).exit_code == 1
    assert (workspace / CACHE_FOLDER / ".gitignore").is_file(), "next to the pyproject.toml in use"
    shutil.rmtree(workspace / CACHE_FOLDER)
    assert CliRunner().invoke(main, ["check", "-q", "--no-cache", ".."]).exit_code == 1
    assert not (workspace / CACHE_FOLDER).exists()
    elsewhere = tmp_path / "elsewhere"
    assert CliRunner().invoke(main, ["check", "-q", "--cache-dir", str(elsewhere), ".."]).exit_code == 1
    assert list(elsewhere.rglob("*.json")) and not (workspace / CACHE_FOLDER).exists()


def test_without_pyproject_the_cache_is_in_the_common_folder_of_the_paths(tmp_path: Path) -> None:
    from lossguard.static.checker import default_cache_folder

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "x.py").write_text("")
    paths = [str(tmp_path / "a" / "x.py"), str(tmp_path / "a" / "b")]
    assert default_cache_folder(paths, Config()) == tmp_path / "a" / CACHE_FOLDER
    assert default_cache_folder([str(tmp_path / "a" / "x.py")], Config()) == tmp_path / "a" / CACHE_FOLDER
    configured = Config(source=str(tmp_path / "pyproject.toml"))
    assert default_cache_folder(paths, configured) == tmp_path / CACHE_FOLDER
