"""`lossguard check`, `rules` and `explain` as a user runs them: exit codes, formats, selection, bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main
from lossguard.rules import RULES

BAD = (
    "import torch.nn as nn\n"
    "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"
    "loss = nn.BCEWithLogitsLoss()(model(x), y)\n"
)
ONE_HOT = "import torch.nn.functional as F\nloss = F.cross_entropy(logits, F.one_hot(y, 3))\n"
GOOD = "import torch.nn as nn\nmodel = nn.Linear(4, 1)\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
JSON_KEYS = {"code", "name", "path", "line", "column", "end_line", "end_column", "message", "cell", "related"}


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "bad.py").write_text(BAD)
    (tmp_path / "one_hot.py").write_text(ONE_HOT)
    (tmp_path / "good.py").write_text(GOOD)
    return tmp_path


def test_findings_exit_1_with_ruff_like_lines(project: Path) -> None:
    result = run("check", str(project))
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == (
        f"{project / 'bad.py'}:3:8: LG101 [sigmoid-into-bce-with-logits] BCEWithLogitsLoss applies a sigmoid "
        "itself, but its input is already the output of a sigmoid (Sigmoid layer at line 2)"
    )
    assert lines[1].startswith("  hint: Remove the sigmoid")
    assert lines[-1] == "Found 2 problems in 2 of 3 files checked (1 fixable with --fix, 1 more with --unsafe-fixes)."


def test_clean_files_exit_0(project: Path) -> None:
    result = run("check", str(project / "good.py"))
    assert result.exit_code == 0
    assert result.output.strip() == "All checks passed (1 file checked)."


def test_exit_zero_keeps_the_output(project: Path) -> None:
    result = run("check", "--exit-zero", str(project))
    assert result.exit_code == 0
    assert "LG101" in result.output


def test_quiet_prints_only_findings(project: Path) -> None:
    result = run("check", "-q", str(project))
    assert result.exit_code == 1
    assert len(result.output.splitlines()) == 2
    assert all(": LG" in line for line in result.output.splitlines())


def test_json_format_has_exactly_the_documented_keys(project: Path) -> None:
    result = run("check", "--format", "json", str(project))
    assert result.exit_code == 1
    findings = json.loads(result.output)
    assert [f["code"] for f in findings] == ["LG101", "LG201"]
    assert all(set(f) == JSON_KEYS for f in findings)
    first = findings[0]
    assert first["cell"] is None and first["name"] == "sigmoid-into-bce-with-logits"
    assert (first["line"], first["column"], first["end_line"]) == (3, 8, 3)
    assert first["related"] == [{"path": str(project / "bad.py"), "line": 2, "column": 40}]


def test_json_of_nothing_is_an_empty_array(project: Path) -> None:
    result = run("check", "--format", "json", str(project / "good.py"))
    assert (result.exit_code, json.loads(result.output)) == (0, [])


@pytest.mark.parametrize(
    "options,codes",
    [
        (["--select", "LG101"], ["LG101"]),
        (["--select", "LG2"], ["LG201"]),
        (["--ignore", "LG1"], ["LG201"]),
        (["--select", "LG101,LG201"], ["LG101", "LG201"]),
        (["--select", "LG1", "--ignore", "LG101"], []),
    ],
)
def test_select_and_ignore(project: Path, options: list[str], codes: list[str]) -> None:
    result = run("check", "--format", "json", *options, str(project))
    assert [f["code"] for f in json.loads(result.output)] == codes
    assert result.exit_code == (1 if codes else 0)


def test_unknown_code_is_a_usage_error(project: Path) -> None:
    result = run("check", "--select", "LG999", str(project))
    assert result.exit_code == 2
    assert "LG999" in result.output


def test_syntax_error_among_good_files_is_one_line_and_the_rest_is_checked(project: Path) -> None:
    (project / "broken.py").write_text("import torch.nn as nn\ndef f(:\n    nn.CrossEntropyLoss()\n")
    result = CliRunner(mix_stderr=False).invoke(main, ["check", str(project)]) if _mix_stderr_supported() else None
    result = result or CliRunner().invoke(main, ["check", str(project)])
    assert result.exit_code == 2
    errors = [line for line in _stderr(result).splitlines() if "broken.py" in line]
    assert len(errors) == 1
    assert errors[0].startswith(f"{project / 'broken.py'}:2:") and ": error: cannot parse:" in errors[0]
    assert "LG101" in result.stdout and "LG201" in result.stdout
    assert "Traceback" not in result.output


def test_non_utf8_file_is_reported_not_crashed(project: Path) -> None:
    (project / "latin.py").write_bytes(b"# caf\xe9\nimport torch.nn as nn\nnn.CrossEntropyLoss()\n")
    result = run("check", str(project))
    assert result.exit_code == 2
    assert f"{project / 'latin.py'}:" in result.output and "error: cannot decode" in result.output
    assert "LG101" in result.output


def test_encoding_cookie_is_honoured(tmp_path: Path) -> None:
    source = "# -*- coding: latin-1 -*-\n# caf\xe9\n" + BAD
    (tmp_path / "cookie.py").write_bytes(source.encode("latin-1"))
    result = run("check", "--format", "json", str(tmp_path))
    assert [f["code"] for f in json.loads(result.output)] == ["LG101"]


def test_empty_file_is_clean(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    result = run("check", str(tmp_path / "empty.py"))
    assert result.exit_code == 0


def test_missing_path_is_an_error_but_others_are_checked(project: Path) -> None:
    result = run("check", str(project / "nope.py"), str(project / "bad.py"))
    assert result.exit_code == 2
    assert f"{project / 'nope.py'}: error: no such file or directory" in result.output
    assert "LG101" in result.output


def test_discovery_skips_virtualenvs_and_build_folders(tmp_path: Path) -> None:
    for folder in (".git", "build", "dist", "node_modules", "__pycache__", ".venv", "myenv", "src"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "bad.py").write_text(BAD)
    (tmp_path / "myenv" / "pyvenv.cfg").write_text("home = /usr\n")
    result = run("check", "--format", "json", str(tmp_path))
    assert [Path(f["path"]).parent.name for f in json.loads(result.output)] == ["src"]


def test_default_path_is_the_current_folder(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(project)
    result = run("check", "--format", "json")
    assert sorted(Path(f["path"]).name for f in json.loads(result.output)) == ["bad.py", "one_hot.py"]


def test_rules_lists_every_rule_with_its_detection() -> None:
    result = run("rules")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert len(lines) == len(RULES)
    assert lines[0].split()[:3] == ["LG101", "sigmoid-into-bce-with-logits", RULES[0].detection]


def test_explain_prints_why_fix_and_examples() -> None:
    result = run("explain", "lg101")
    assert result.exit_code == 0
    assert result.output.startswith("LG101 [sigmoid-into-bce-with-logits]")
    for part in ("Why this is wrong", "How to fix it", "Bad:", "Good:", "nn.BCEWithLogitsLoss()"):
        assert part in result.output


def test_explain_unknown_code_is_a_usage_error() -> None:
    result = run("explain", "LG999")
    assert result.exit_code == 2 and "unknown rule code" in result.output


def test_python_dash_m_and_console_script_agree(project: Path) -> None:
    module = subprocess.run([sys.executable, "-m", "lossguard", "check", "-q", str(project)],
                            capture_output=True, text=True, timeout=60)
    assert module.returncode == 1 and module.stdout.count(": LG") == 2 and module.stderr == ""


def test_check_does_not_import_torch(project: Path) -> None:
    code = (
        "import sys; from lossguard.cli import main\n"
        "try:\n    main(['check', '-q', sys.argv[1]])\nexcept SystemExit:\n    pass\n"
        "assert 'torch' not in sys.modules, 'the static checker imported torch'\n"
    )
    done = subprocess.run([sys.executable, "-c", code, str(project)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def _mix_stderr_supported() -> bool:
    import inspect

    return "mix_stderr" in inspect.signature(CliRunner.__init__).parameters


def _stderr(result) -> str:
    try:
        return result.stderr
    except ValueError:
        return result.output


def test_an_internal_error_is_one_line_and_the_rest_is_checked(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from lossguard.static import flow

    real_run = flow.ModuleObserver.run

    def failing_run(self):
        if self.path.endswith("good.py"):
            raise AssertionError("simulated bug")
        return real_run(self)

    (project / "good.py").write_text(GOOD.replace("model = ", "criterion = nn.CrossEntropyLoss()\nmodel = "))
    monkeypatch.setattr(flow.ModuleObserver, "run", failing_run)
    result = run("check", str(project))
    assert result.exit_code == 2
    assert "good.py:1:1: error: internal error, please report it: AssertionError: simulated bug" in result.output
    assert "LG101" in result.output and "Traceback" not in result.output


def test_pathological_sources_neither_crash_nor_hang(tmp_path: Path) -> None:
    # Python rejects 3000 nested brackets and 20000 chained operators (both once crashed or hung libcst's native
    # parser): each is one parse error, and the other files are still checked.
    deep = "import torch.nn as nn\nx = " + "(" * 3000 + "1" + ")" * 3000 + "\nnn.CrossEntropyLoss()\n"
    chained = "import torch.nn as nn\ny = " + " + ".join(["a"] * 20000) + "\nnn.CrossEntropyLoss()\n"
    (tmp_path / "deep.py").write_text(deep)
    (tmp_path / "chained.py").write_text(chained)
    (tmp_path / "bad.py").write_text(BAD)
    done = subprocess.run([sys.executable, "-m", "lossguard", "check", str(tmp_path)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert "LG101" in done.stdout
    assert sorted(done.stderr.splitlines()) == [
        f"{tmp_path / 'chained.py'}:1:1: error: cannot parse: the code nests too deeply for Python's parser",
        f"{tmp_path / 'deep.py'}:2:205: error: cannot parse: too many nested parentheses",
    ]


@pytest.mark.parametrize("output_format", ["sarif", "github"])
def test_ci_formats_from_the_command_line(project: Path, output_format: str) -> None:
    result = run("check", "--format", output_format, str(project))
    assert result.exit_code == 1
    if output_format == "sarif":
        assert [r["ruleId"] for r in json.loads(result.output)["runs"][0]["results"]] == ["LG101", "LG201"]
    else:
        assert [line.split("title=")[1].split(" ")[0] for line in result.output.splitlines()] == ["LG101", "LG201"]


@pytest.mark.parametrize("command", [["run", "train.py"], ["demo"]])
def test_torch_commands_without_torch_say_how_to_install_it(command: list[str]) -> None:
    # A pre-commit environment has only libcst and click: `import torch` fails there.
    code = f"import sys; sys.modules['torch'] = None\nfrom lossguard.cli import main\nmain({command!r})\n"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "needs torch: install it with `pip install 'lossguard[torch]'`" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("conversion,dtype", [(".long()", "int64"), (" > 0", "bool")])
def test_lg203_names_the_target_dtype(conversion: str, dtype: str) -> None:
    from lossguard.static.checker import check_source

    source = ("import torch\nimport torch.nn as nn\nmodel = nn.Linear(10, 1)\ny = torch.randint(0, 2, (8, 1))\n"
              f"loss = nn.BCEWithLogitsLoss()(model(x), (y{conversion}))\n")
    (finding,) = check_source(source)
    assert finding.code == "LG203"
    assert finding.message == ("BCEWithLogitsLoss expects float targets of the input's dtype, but the target has "
                               f"another dtype (the target is {dtype})")
