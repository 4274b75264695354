"""Hostile paths and sources for `lossguard check`: each is one clean line (or silence) with the right exit code, and
the other files are still checked. (Symlink loops, unreadable folders, bad encodings, bad notebook JSON, nbformat 3
and deep nesting are in test_discover.py, test_notebook.py, test_cli.py and test_bounds.py.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.static import checker
from lossguard.static.checker import check_paths

ROOT = Path(__file__).resolve().parents[2]
BAD = ("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
       "loss = nn.CrossEntropyLoss()(model(x), y)\n")


def _check(*args: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "lossguard", "check", "-q", *args], capture_output=True, text=True,
                          timeout=60, env=environment)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_like_a_python_file_is_one_line_not_a_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.py")  # opening it for reading would wait forever for a writer
    (tmp_path / "bad.py").write_text(BAD)
    done = _check(str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path / 'x.py'}: error: cannot read: not a regular file"]
    assert "bad.py:3:8: LG102" in done.stdout


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_named_on_the_command_line_is_one_line_not_silence(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "x.py")
    done = _check(str(tmp_path / "x.py"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path / 'x.py'}: error: cannot read: not a regular file"]


def test_a_directory_named_like_a_python_file_is_walked(tmp_path: Path) -> None:
    (tmp_path / "x.py").mkdir()
    (tmp_path / "x.py" / "inner.py").write_text(BAD)
    (tmp_path / "x.ipynb").mkdir()
    result = check_paths([str(tmp_path)])
    assert result.errors == [] and [(Path(f.path).name, f.code) for f in result.findings] == [("inner.py", "LG102")]


def test_a_file_deleted_between_discovery_and_reading(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "gone.py").write_text(BAD)
    (tmp_path / "bad.py").write_text(BAD)
    real_discover = checker.discover

    def discover_then_delete(paths: list[str]) -> tuple[list[str], list[str]]:
        found = real_discover(paths)
        (tmp_path / "gone.py").unlink()
        return found

    monkeypatch.setattr(checker, "discover", discover_then_delete)
    result = check_paths([str(tmp_path)])
    assert result.errors == [f"{tmp_path / 'gone.py'}:1:1: error: cannot read: No such file or directory"]
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("bad.py", "LG102")]
    (tmp_path / "gone.py").write_text(BAD)
    done = CliRunner().invoke(main, ["check", "-q", "--no-cache", str(tmp_path)])
    assert (done.exit_code, done.stderr) == (2, result.errors[0] + "\n")
    assert done.stdout.startswith(f"{tmp_path / 'bad.py'}:3:8: LG102")


@pytest.mark.parametrize("source,error", [
    ('print "loss", nn.CrossEntropyLoss\n', "1:1: error: cannot parse: Missing parentheses in call to 'print'"),
    ("exec 'x = 1'\nnn.CrossEntropyLoss()\n", "1:1: error: cannot parse: Missing parentheses in call to 'exec'"),
    ("try:\n    pass\nexcept ValueError, e:\n    nn.CrossEntropyLoss()\n", "3:8: error: cannot parse: "),
    ("x = 0777\nnn.CrossEntropyLoss()\n", "1:5: error: cannot parse: "),
    ("s = ur'x'\nnn.CrossEntropyLoss()\n", "1:7: error: cannot parse: "),
])
def test_python_2_syntax_is_one_parse_error(tmp_path: Path, source: str, error: str) -> None:
    (tmp_path / "old.py").write_text(source)
    (tmp_path / "bad.py").write_text(BAD)
    result = check_paths([str(tmp_path)])
    assert len(result.errors) == 1 and result.errors[0].startswith(f"{tmp_path / 'old.py'}:{error}")
    assert [f.code for f in result.findings] == ["LG102"]


NEWER_SYNTAX = {  # PEP 695 (3.12): type aliases, generic classes and functions, next to a pitfall
    "type-alias": "type Batch = list[int]\n",
    "generic-class": "class Box[T]:\n    def get(self) -> T: ...\n",
    "generic-function": "def first[T](items: list[T]) -> T:\n    return items[0]\n",
}


@pytest.mark.parametrize("name", sorted(NEWER_SYNTAX))
def test_syntax_newer_than_the_running_python(tmp_path: Path, name: str) -> None:
    # On a Python that has it, the file is checked like any other; on an older one, it is one parse error.
    (tmp_path / "new.py").write_text(NEWER_SYNTAX[name] + BAD)
    (tmp_path / "bad.py").write_text(BAD)
    result = check_paths([str(tmp_path)])
    if sys.version_info >= (3, 12):
        assert result.errors == [] and [f.code for f in result.findings] == ["LG102", "LG102"]
    else:
        assert len(result.errors) == 1 and result.errors[0].startswith(f"{tmp_path / 'new.py'}:1:")
        assert "error: cannot parse: " in result.errors[0]
        assert [f.code for f in result.findings] == ["LG102"]


def _notebook(cells: list, nbformat: int = 4) -> bytes:
    return json.dumps({"nbformat": nbformat, "nbformat_minor": 5, "metadata": {}, "cells": cells}).encode()


def test_a_notebook_with_no_cells_is_clean(tmp_path: Path) -> None:
    (tmp_path / "empty.ipynb").write_bytes(_notebook([]))
    (tmp_path / "bad.py").write_text(BAD)
    done = _check(str(tmp_path))
    assert (done.returncode, done.stderr) == (1, "") and done.stdout.count("LG102") == 1


def test_non_python_cell_magics_are_not_read_as_python(tmp_path: Path) -> None:
    # The bash, HTML and JavaScript cells would be syntax errors (and mention losses); the Python cells still count.
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in [["%%bash\n", "for f in *.py; do echo CrossEntropyLoss $f; done\n"],
                            "%%html\n<b>nn.CrossEntropyLoss()(</b>\n",
                            "%%javascript\nconst loss = CrossEntropyLoss({);\n",
                            ["%%time\n", "import torch.nn as nn\n",
                             "model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"],
                            "loss = nn.CrossEntropyLoss()(model(x), y)\n"]]
    (tmp_path / "magics.ipynb").write_bytes(_notebook(cells))
    done = _check(str(tmp_path))
    assert (done.returncode, done.stderr) == (1, "")
    assert done.stdout.splitlines()[0].startswith(f"{tmp_path / 'magics.ipynb'}:cell 5:1:")


def test_an_unreadable_file_is_one_line_and_the_rest_is_checked(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    # As root, mode 000 does not stop a read: the kernel's refusal is simulated. As another user, mode 000 is used.
    locked = tmp_path / "locked.py"
    locked.write_text(BAD)
    (tmp_path / "bad.py").write_text(BAD)
    locked.chmod(0)
    if os.geteuid() == 0:
        real_read_bytes = Path.read_bytes

        def read_bytes(self: Path) -> bytes:
            if self == locked:
                raise PermissionError(13, os.strerror(13), str(self))
            return real_read_bytes(self)

        monkeypatch.setattr(Path, "read_bytes", read_bytes)
    try:
        done = CliRunner().invoke(main, ["check", "-q", "--no-cache", str(tmp_path)])
    finally:
        locked.chmod(0o644)
    assert done.exit_code == 2, done.output
    assert done.stderr.splitlines() == [f"{locked}:1:1: error: cannot read: {os.strerror(13)}"]
    assert done.stdout.splitlines()[0].startswith(f"{tmp_path / 'bad.py'}:3:8: LG102")


def test_a_dangling_symlink_in_a_folder_is_one_line_and_the_rest_is_checked(tmp_path: Path) -> None:
    (tmp_path / "gone.py").symlink_to(tmp_path / "never_written.py")
    (tmp_path / "bad.py").write_text(BAD)
    done = _check(str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path / 'gone.py'}: error: cannot read: No such file or directory"]
    assert "bad.py:3:8: LG102" in done.stdout


def test_a_dangling_symlink_named_on_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "gone.py").symlink_to(tmp_path / "never_written.py")
    (tmp_path / "bad.py").write_text(BAD)
    done = _check(str(tmp_path / "gone.py"), str(tmp_path / "bad.py"))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [f"{tmp_path / 'gone.py'}: error: cannot read: No such file or directory"]
    assert "bad.py:3:8: LG102" in done.stdout


def test_a_huge_notebook_is_skipped_with_one_line_before_it_is_read(tmp_path: Path) -> None:
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": ["import torch.nn as nn\n", "loss = nn.CrossEntropyLoss()(nn.Softmax(1)(z), y)\n"] * 20}
    (tmp_path / "huge.ipynb").write_bytes(_notebook([cell] * 1200))  # about 2 MB
    (tmp_path / "bad.py").write_text(BAD)
    size = (tmp_path / "huge.ipynb").stat().st_size
    done = _check("--max-file-size", "1MB", str(tmp_path))
    assert (done.returncode, done.stdout.count("LG102")) == (1, 1)
    assert done.stderr.splitlines() == [
        f"{tmp_path / 'huge.ipynb'}: skipped: {size / 1e6:.1f} MB is over max-file-size (1.0 MB)"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_every_bad_input_at_once_is_one_line_each_and_the_good_file_is_still_checked(tmp_path: Path) -> None:
    # The battery in one folder, as a user's repository may hold several of them: exit 2, one line per bad path,
    # no traceback, and the pitfall of the one good file is still found.
    bad = {
        "a_python2.py": 'print "loss", nn.CrossEntropyLoss\n',
        "b_newer.py": "type Batch = list[int]\nnn.CrossEntropyLoss()\n" if sys.version_info < (3, 12) else None,
        "c_invalid_json.ipynb": "{ cross_entropy",
        "d_nbformat3.ipynb": json.dumps({"nbformat": 3, "worksheets": [], "metadata": {"loss": "cross_entropy"}}),
        "e_string_source.ipynb": _notebook([{"cell_type": "code", "source": "nn.CrossEntropyLoss()(\n"}]).decode(),
    }
    for name, text in bad.items():
        if text is not None:
            (tmp_path / name).write_text(text)
    (tmp_path / "f_loop.py").symlink_to("f_loop.py")
    (tmp_path / "g_dangling.py").symlink_to(tmp_path / "never_written.py")
    os.mkfifo(tmp_path / "h_fifo.py")
    (tmp_path / "i_folder.py").mkdir()
    (tmp_path / "j_no_cells.ipynb").write_bytes(_notebook([]))
    (tmp_path / "z_good.py").write_text(BAD)
    done = _check(str(tmp_path))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    expected = [name for name, text in bad.items() if text is not None] + ["f_loop.py", "g_dangling.py", "h_fifo.py"]
    lines = done.stderr.splitlines()
    assert sorted(Path(line.split(":", 1)[0]).name for line in lines) == expected, done.stderr
    assert all(": error: " in line for line in lines)
    assert len(done.stdout.splitlines()) == 1 and done.stdout.startswith(f"{tmp_path / 'z_good.py'}:3:8: LG102 ")
