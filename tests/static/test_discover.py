"""Which files `lossguard check` reads, and what becomes of paths it cannot read: one line each, never a crash."""

from __future__ import annotations

import errno
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from lossguard.static.discover import SKIPPED_DIRECTORIES, discover

ROOT = Path(__file__).resolve().parents[2]
BAD = (
    "import torch.nn as nn\n"
    "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"
    "loss = nn.BCEWithLogitsLoss()(model(x), y)\n"
)


def _check(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lossguard", "check", *args], capture_output=True, text=True,
                          timeout=120, cwd=cwd, env=environment)


def test_a_symlink_loop_is_one_line_and_the_rest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "self.py").symlink_to("self.py")
    (tmp_path / "d" / "bad.py").write_text(BAD)
    done = _check(str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path / 'd' / 'self.py'}: error: cannot read: "
                                        f"{os.strerror(errno.ELOOP)}"]
    assert "LG101" in done.stdout


def test_a_symlink_loop_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "self.py").symlink_to("self.py")
    files, errors = discover([str(tmp_path / "self.py")])
    assert files == [] and errors == [f"{tmp_path / 'self.py'}: error: cannot read: {os.strerror(errno.ELOOP)}"]


def _deny(monkeypatch: pytest.MonkeyPatch, folder: Path) -> None:
    """What the kernel does to a non-root user for a folder with mode 000: listing it or a path inside it fails."""
    real_scandir, real_stat = os.scandir, os.stat

    def denied(path) -> bool:
        text = os.fspath(path) if not isinstance(path, int) else ""
        return text == str(folder) or text.startswith(str(folder) + os.sep)

    def scandir(path="."):
        if denied(path):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_scandir(path)

    def stat(path, *args, **kwargs):
        if denied(path) and os.fspath(path) != str(folder):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat)


def test_an_unreadable_folder_is_one_line_and_the_rest_is_checked(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    # As root, mode 000 does not stop anyone: the kernel's refusal is simulated (os.scandir and os.stat raise
    # EACCES for the folder's content). As another user, the real mode 000 is used.
    locked = tmp_path / "locked"
    (locked / "sub").mkdir(parents=True)
    (locked / "bad.py").write_text(BAD)
    (tmp_path / "bad.py").write_text(BAD)
    locked.chmod(0)
    try:
        if os.geteuid() == 0:
            _deny(monkeypatch, locked)
        from lossguard.static.checker import check_paths

        result = check_paths([str(tmp_path)])
    finally:
        locked.chmod(0o755)
    assert result.errors == [f"{locked}: error: cannot read folder: {os.strerror(errno.EACCES)}"]
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("bad.py", "LG101")]
    assert result.findings[0].path == str(tmp_path / "bad.py")


def test_an_unreadable_subfolder_of_a_virtualenv_probe_does_not_crash(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The virtualenv probe stats `<folder>/pyvenv.cfg` of every subfolder: EACCES there is not a crash either.
    (tmp_path / "locked").mkdir()
    (tmp_path / "ok.py").write_text(BAD)
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if os.fspath(path).endswith(os.path.join("locked", "pyvenv.cfg")):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), os.fspath(path))
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    files, errors = discover([str(tmp_path)])
    assert files == [str(tmp_path / "ok.py")] and errors == []


def test_a_missing_path_has_no_line_and_column(tmp_path: Path) -> None:
    assert discover([str(tmp_path / "nope.py")]) == ([], [f"{tmp_path / 'nope.py'}: error: no such file or directory"])


def test_walking_the_current_folder_prints_paths_without_dot_slash(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "bad.py").write_text(BAD)
    (tmp_path / "top.py").write_text(BAD)
    done = _check("-q", ".", "./top.py", cwd=tmp_path)
    assert [line.split(":")[0] for line in done.stdout.splitlines()] == [os.path.join("pkg", "bad.py"), "top.py"]


def test_one_file_is_one_file_in_the_summary(tmp_path: Path) -> None:
    (tmp_path / "bad.py").write_text(BAD)
    assert _check(str(tmp_path)).stdout.splitlines()[-1].startswith("Found 1 problem in 1 of 1 file checked")


@pytest.mark.parametrize("folder", sorted(SKIPPED_DIRECTORIES))
def test_every_skipped_folder_is_skipped(tmp_path: Path, folder: str) -> None:
    (tmp_path / folder).mkdir()
    (tmp_path / folder / "bad.py").write_text(BAD)
    (tmp_path / "kept.py").write_text(BAD)
    assert discover([str(tmp_path)])[0] == [str(tmp_path / "kept.py")]


def test_the_readme_lists_exactly_the_skipped_folders() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    sentence = re.search(r"Folders are searched recursively.*?\n- ", readme, re.S)
    assert sentence is not None
    listed = set(re.findall(r"`([^`]+)`", sentence.group(0))) - {".py", ".ipynb", "pyvenv.cfg"}
    assert listed == set(SKIPPED_DIRECTORIES) | {"*.egg-info"}
