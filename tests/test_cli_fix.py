"""`lossguard check --fix`, `--diff` and `--unsafe-fixes` as a user runs them, and what `rules`/`explain` say."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main

GOLDEN = Path(__file__).parent / "static" / "fixes"
INLINE = (
    "import torch.nn.functional as F\n"
    "loss = F.binary_cross_entropy_with_logits(logits.sigmoid(), y)\n"
)
SEQUENTIAL = (
    "import torch.nn as nn\n"
    "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"
    "loss = nn.BCEWithLogitsLoss()(model(x), y)\n"
)
NO_FIX = "import torch.nn.functional as F\nloss = F.cross_entropy(logits, F.one_hot(y, 3) * 0 + labels)\n"


def run(*args: str, input: str | None = None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "inline.py").write_text(INLINE)
    (tmp_path / "sequential.py").write_text(SEQUENTIAL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_summary_counts_fixable_findings(project: Path) -> None:
    result = run("check", ".")
    assert result.exit_code == 1
    assert result.output.splitlines()[-1] == (
        "Found 2 problems in 2 of 2 files checked (1 fixable with --fix, 1 more with --unsafe-fixes).")
    assert run("check", ".", "--unsafe-fixes").output.splitlines()[-1].endswith("(2 fixable with --fix).")


def test_fix_writes_safe_fixes_and_reports_what_remains(project: Path) -> None:
    result = run("check", "--fix", ".")
    assert result.exit_code == 1
    assert (project / "inline.py").read_text() == INLINE.replace("logits.sigmoid()", "logits")
    assert (project / "sequential.py").read_text() == SEQUENTIAL
    assert "sequential.py:3:8: LG101" in result.output
    assert result.output.splitlines()[-1] == "Found 2 problems (1 fixed, 1 remaining)."
    again = run("check", "--fix", ".")
    assert (project / "inline.py").read_text() == INLINE.replace("logits.sigmoid()", "logits")
    assert again.output.splitlines()[-1] == (
        "Found 1 problem in 1 of 2 files checked (1 fixable with --fix --unsafe-fixes).")


def test_unsafe_fixes_fix_everything_and_exit_0(project: Path) -> None:
    result = run("check", "--fix", "--unsafe-fixes", ".")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[-1] == "Found 2 problems (2 fixed, 0 remaining)."
    assert "nn.Sequential(nn.Linear(4, 1))" in (project / "sequential.py").read_text()


def test_diff_prints_and_writes_nothing(project: Path) -> None:
    result = run("check", "--diff", ".")
    assert result.exit_code == 1
    assert "--- inline.py\n+++ inline.py\n" in result.stdout
    assert "-loss = F.binary_cross_entropy_with_logits(logits.sigmoid(), y)\n" in result.stdout
    assert "+loss = F.binary_cross_entropy_with_logits(logits, y)\n" in result.stdout
    assert "Would fix 1 problem." in result.stderr
    assert (project / "inline.py").read_text() == INLINE
    (project / "inline.py").write_text(NO_FIX)
    (project / "sequential.py").unlink()
    clean = run("check", "--diff", ".")
    assert clean.exit_code == 0 and clean.stdout == ""


def test_a_file_that_does_not_parse_is_never_written(project: Path) -> None:
    broken = INLINE + "def broken(:\n"
    (project / "inline.py").write_text(broken)
    result = run("check", "--fix", "--unsafe-fixes", "inline.py")
    assert result.exit_code == 2
    assert "inline.py:3:12: error: cannot parse" in result.stderr
    assert (project / "inline.py").read_text() == broken


def test_fix_keeps_the_file_encoding_and_line_endings(project: Path) -> None:
    data = ("# -*- coding: latin-1 -*-\r\n# caf\xe9\r\n" + INLINE.replace("\n", "\r\n")).encode("latin-1")
    (project / "inline.py").write_bytes(data)
    run("check", "--fix", "inline.py")
    assert (project / "inline.py").read_bytes() == data.replace(b"logits.sigmoid()", b"logits")


def test_notebook_fixed_in_place(project: Path) -> None:
    shutil.copy(GOLDEN / "notebook.before.ipynb", project / "scores.ipynb")
    result = run("check", "--fix", "scores.ipynb")
    assert result.exit_code == 0, result.output
    assert (project / "scores.ipynb").read_text(encoding="utf-8") == \
        (GOLDEN / "notebook.after.ipynb").read_text(encoding="utf-8")


def test_a_notebook_whose_json_layout_cannot_be_kept_is_not_rewritten(project: Path) -> None:
    document = json.loads((GOLDEN / "notebook.before.ipynb").read_text(encoding="utf-8"))
    odd = json.dumps(document, indent=3)  # not a layout json.dumps can be asked to reproduce from nbformat's
    odd = odd.replace('"cells": [', '"cells":  [')
    (project / "scores.ipynb").write_text(odd, encoding="utf-8")
    result = run("check", "--fix", "scores.ipynb")
    assert result.exit_code == 1
    assert (project / "scores.ipynb").read_text(encoding="utf-8") == odd


def test_rules_and_explain_say_which_rules_have_a_fix() -> None:
    lines = {line.split()[0]: line for line in run("rules").output.splitlines()}
    assert "--fix --unsafe-fixes" in lines["LG101"]
    assert "--fix" in lines["LG202"] and "--unsafe-fixes" not in lines["LG202"]
    assert " - " in lines["LG304"]
    assert "Autofix: safe, with `lossguard check --fix`" in run("explain", "LG202").output
    assert "Autofix: none" in run("explain", "LG304").output
    assert "Fixed by" not in run("explain", "LG304").output


def test_explain_shows_each_fixable_bad_example_fixed() -> None:
    page = run("explain", "LG202").output
    assert page.count("Fixed by `lossguard check --fix`:") == 2
    assert "    -loss = F.cross_entropy(model(x), y.float())  # LG202\n" \
           "    +loss = F.cross_entropy(model(x), y.long())  # LG202" in page
    assert "Fixed by `lossguard check --fix --unsafe-fixes`:\n    -model = nn.Sequential(nn.Linear(10, 1), " \
           "nn.Sigmoid())\n    +model = nn.Sequential(nn.Linear(10, 1))" in run("explain", "LG101").output


def test_fix_keeps_the_file_mode_and_leaves_no_temporary_file(project: Path) -> None:
    (project / "inline.py").chmod(0o750)
    run("check", "--fix", "--no-cache", "inline.py")
    assert (project / "inline.py").stat().st_mode & 0o777 == 0o750
    assert sorted(p.name for p in project.iterdir()) == ["inline.py", "sequential.py"]


def test_notebook_with_a_byte_order_mark_keeps_it(project: Path) -> None:
    before = (GOLDEN / "notebook.before.ipynb").read_bytes()
    (project / "scores.ipynb").write_bytes(b"\xef\xbb\xbf" + before)
    run("check", "--fix", "scores.ipynb")
    assert (project / "scores.ipynb").read_bytes() == b"\xef\xbb\xbf" + (GOLDEN / "notebook.after.ipynb").read_bytes()
