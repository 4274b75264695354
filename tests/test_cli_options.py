"""The linter options of `lossguard check`: statistics, source excerpts, output file, colour, standard input,
unused suppressions, baselines and the resolved settings."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.linter_options import use_colour

ROOT = Path(__file__).resolve().parent.parent
TRAIN = (
    "import torch\n"
    "import torch.nn as nn\n"
    "import torch.nn.functional as F\n"
    "\n"
    "model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
    "x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))\n"
    "loss = nn.CrossEntropyLoss()(model(x), y)\n"
    "other = F.cross_entropy(model(x), F.one_hot(y, 3).float())\n"
)


def run(*args: str, input: str | None = None):
    result = CliRunner().invoke(main, list(args), input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "train.py").write_text(TRAIN)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_statistics_count_per_rule(project: Path) -> None:
    result = run("check", "--statistics", ".")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "2  LG102  [-] softmax-into-cross-entropy",
        "1  LG201  [*] one-hot-targets",
    ]


def test_show_source_underlines_both_ends_of_the_flow(project: Path) -> None:
    lines = run("check", "--show-source", "train.py").output.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("train.py:7:8: LG102")))
    assert lines[start + 1: start + 8] == [
        "  |",
        "5 | model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))",
        "  |                                        ^^^^^^^^^^^^^^^^^ made here",
        "  :",
        "7 | loss = nn.CrossEntropyLoss()(model(x), y)",
        "  |        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^ LG102",
        "  |",
    ]


def test_output_file_takes_the_report(project: Path) -> None:
    result = run("check", "--format", "json", "--output-file", "report.json", ".")
    assert result.exit_code == 1 and result.output == ""
    assert [f["code"] for f in json.loads((project / "report.json").read_text())] == ["LG102", "LG102", "LG201"]


def test_colour_only_on_a_terminal_and_never_with_no_color(project: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("NO_COLOR", None)

    def on_terminal(extra_env: dict[str, str]) -> bytes:
        leader, follower = pty.openpty()
        subprocess.run([sys.executable, "-m", "lossguard", "check", "-q", "train.py"], stdout=follower,
                       stderr=subprocess.DEVNULL, env={**env, **extra_env}, cwd=project, timeout=60)
        os.close(follower)
        output = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
        os.close(leader)
        return output

    assert b"\x1b[" in on_terminal({})
    assert b"\x1b[" not in on_terminal({"NO_COLOR": "1"})
    piped = subprocess.run([sys.executable, "-m", "lossguard", "check", "-q", "train.py"], capture_output=True,
                           env=env, cwd=project, timeout=60)
    assert b"\x1b[" not in piped.stdout and b"train.py:7:8: LG102" in piped.stdout


def test_use_colour_reads_no_color() -> None:
    class Terminal:
        def isatty(self) -> bool:
            return True

    assert use_colour(Terminal(), {}) is True
    assert use_colour(Terminal(), {"NO_COLOR": "1"}) is False


def test_stdin_is_checked_under_the_given_name(project: Path) -> None:
    result = run("check", "-", "--stdin-filename", "pkg/train.py", input=TRAIN)
    assert result.exit_code == 1
    assert result.output.startswith("pkg/train.py:7:8: LG102")
    assert "in 1 of 1 file" in result.output  # "file" or "files checked"
    unnamed = run("check", "-", "-q", input=TRAIN)
    assert unnamed.output.startswith("<stdin>:7:8: LG102")


def test_stdin_fix_prints_the_fixed_source(project: Path) -> None:
    source = "import torch.nn.functional as F\nloss = F.cross_entropy(logits, F.one_hot(y, 3).float())\n"
    result = run("check", "-", "--fix", "--stdin-filename", "train.py", input=source)
    assert result.exit_code == 0
    assert result.stdout == "import torch.nn.functional as F\nloss = F.cross_entropy(logits, y)\n"
    assert "1 fixed, 0 remaining" in result.stderr


def test_stdin_filename_needs_the_dash(project: Path) -> None:
    result = run("check", "train.py", "--stdin-filename", "x.py")
    assert result.exit_code == 2 and "--stdin-filename needs `-`" in result.output


def test_report_unused_noqa(project: Path) -> None:
    (project / "train.py").write_text(TRAIN.replace(
        "loss = nn.CrossEntropyLoss()(model(x), y)\n",
        "loss = nn.CrossEntropyLoss()(model(x), y)  # noqa: LG102, LG201\n",
    ).replace("x, y = ", "x, y = torch.randn(8, 4), torch.randint(0, 3, (8,))  # noqa: LG101\nx, y = ")
     + "print(y)  # noqa\nprint(x)  # noqa: E501\n")
    result = run("check", "--report-unused-noqa", "-q", ".")
    unused = [line for line in result.output.splitlines() if "unused noqa" in line]
    assert unused == [
        "train.py:6:54: unused noqa: LG101 (nothing to silence here)",
        "train.py:8:44: unused noqa: LG201 (nothing to silence here)",
    ]
    assert result.exit_code == 1
    without = run("check", "-q", ".")
    assert "unused noqa" not in without.output


def test_baseline_hides_recorded_findings_across_unrelated_edits(project: Path) -> None:
    written = run("check", "--write-baseline", "lossguard-baseline.json", ".")
    assert written.exit_code == 0 and "Wrote 3 findings" in written.output
    assert run("check", "--baseline", "lossguard-baseline.json", ".").exit_code == 0
    # lines added above move every finding: they stay matched
    (project / "train.py").write_text('"""Training."""\nimport os\n\n' + TRAIN)
    result = run("check", "--baseline", "lossguard-baseline.json", ".")
    assert result.exit_code == 0, result.output
    assert "3 more recorded in the baseline lossguard-baseline.json (not shown)." in result.output
    # a new pitfall fails, and only it is shown
    (project / "train.py").write_text(TRAIN + "third = nn.CrossEntropyLoss()(model(x[:2]), y[:2])\n")
    result = run("check", "--baseline", "lossguard-baseline.json", "-q", ".")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "train.py:9:9: LG102 [softmax-into-cross-entropy] CrossEntropyLoss applies log_softmax itself, but its "
        "input is already the output of a softmax (Softmax layer at line 5)"]


def test_baseline_survives_another_working_directory(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run("check", "--write-baseline", "baseline.json", ".")
    (project / "sub").mkdir()
    monkeypatch.chdir(project / "sub")
    assert run("check", "--baseline", "../baseline.json", "..").exit_code == 0


def test_a_bad_baseline_is_a_usage_error(project: Path) -> None:
    (project / "baseline.json").write_text("[1, 2]")
    result = run("check", "--baseline", "baseline.json", ".")
    assert result.exit_code == 2
    assert "not a lossguard baseline" in result.output


def test_show_settings_names_each_source(project: Path) -> None:
    (project / "pyproject.toml").write_text('[tool.lossguard]\nignore = ["LG103"]\nexclude = ["legacy/"]\n')
    result = run("check", "--show-settings", "--select", "LG1", "--format", "json")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert f"# configuration file: {project / 'pyproject.toml'}" in lines
    assert 'select = ["LG1"]  # from the command line' in lines
    assert f'ignore = ["LG103"]  # from {project / "pyproject.toml"}' in lines
    assert 'per-file-ignores = {}  # default' in lines
    assert 'output-format = "json"  # from the command line' in lines
    assert "fix = false  # default" in lines
    enabled = next(line for line in lines if line.startswith("enabled = "))
    assert '"LG101"' in enabled and '"LG103"' not in enabled and '"LG201"' not in enabled


def test_stdin_diff_and_unparsable_stdin(project: Path) -> None:
    source = "import torch.nn.functional as F\nloss = F.cross_entropy(logits, y.float())\n"
    result = run("check", "-", "--diff", "--stdin-filename", "train.py", input=source)
    assert result.exit_code == 1
    assert "+loss = F.cross_entropy(logits, y.long())\n" in result.stdout
    broken = "def broken(:\n"
    fixed = run("check", "-", "--fix", input=broken)
    assert fixed.exit_code == 2
    assert fixed.stdout == broken
    assert "<stdin>:1:12: error: cannot parse" in fixed.stderr
