"""SARIF 2.1.0 and GitHub Actions annotations: the two CI formats."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main

from lossguard.findings import Finding, Location
from lossguard.formats import render
from lossguard.rules import RULES


def _finding(**overrides) -> Finding:
    values = dict(code="LG101", path="src/train.py", line=12, column=5, end_line=12, end_column=40,
                  message="BCEWithLogitsLoss applies a sigmoid itself, but: its input, already", related=(Location("src/model.py", 8, 9),))
    values.update(overrides)
    return Finding(**values)


def test_sarif_document_shape() -> None:
    document = json.loads(render([_finding(), _finding(code="LG201", cell=3, path="nb.ipynb", related=())], "sarif"))
    assert document["version"] == "2.1.0" and len(document["runs"]) == 1
    run = document["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == [rule.code for rule in RULES]
    first, second = run["results"]
    assert rules[first["ruleIndex"]]["id"] == "LG101" and first["level"] == "error"
    region = first["locations"][0]["physicalLocation"]["region"]
    assert region == {"startLine": 12, "startColumn": 5, "endLine": 12, "endColumn": 40}
    assert first["relatedLocations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/model.py"
    assert second["locations"][0]["properties"] == {"notebookCell": 3, "lineInCell": 12, "columnInCell": 5}
    assert "relatedLocations" not in second


def test_sarif_of_nothing_still_describes_the_rules() -> None:
    run = json.loads(render([], "sarif"))["runs"][0]
    assert run["results"] == [] and len(run["tool"]["driver"]["rules"]) == len(RULES)


def test_github_annotations_escape_their_separators() -> None:
    (line,) = render([_finding()], "github").splitlines()
    assert line.startswith("::error file=src/train.py,line=12,col=5,endLine=12,endColumn=40,"
                           "title=LG101 sigmoid-into-bce-with-logits::")
    assert "applies a sigmoid itself, but: its input, already. Fix: Remove the sigmoid" in line


def test_github_annotation_of_a_notebook_names_the_cell() -> None:
    (line,) = render([_finding(path="nb.ipynb", cell=4, line=2)], "github").splitlines()
    assert line.startswith("::error file=nb.ipynb,line=1,title=") and "::cell 4, line 2: " in line


def _notebook(tmp_path: Path) -> Path:
    cells = [
        {"cell_type": "markdown", "metadata": {}, "source": ["# Digits\n", "A notebook.\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 1,
         "source": ["import torch.nn as nn\n", "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"]},
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": 2,
         "source": ["x = 1\n", "loss = nn.BCEWithLogitsLoss()(model(x), y)"]},
    ]
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}, indent=1))
    return path


def test_sarif_places_a_notebook_finding_at_its_line_of_the_ipynb(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "sarif", str(notebook)])
    (finding,) = json.loads(result.output)["runs"][0]["results"]
    location = finding["locations"][0]
    assert location["properties"] == {"notebookCell": 3, "lineInCell": 2, "columnInCell": 8}
    json_line = notebook.read_text().splitlines()[location["physicalLocation"]["region"]["startLine"] - 1]
    assert "loss = nn.BCEWithLogitsLoss()(model(x), y)" in json_line
    (related,) = finding["relatedLocations"]
    related_line = notebook.read_text().splitlines()[related["physicalLocation"]["region"]["startLine"] - 1]
    assert "nn.Sigmoid()" in related_line and related["properties"]["notebookCell"] == 2


def test_github_places_a_notebook_finding_at_its_line_of_the_ipynb(tmp_path: Path) -> None:
    notebook = _notebook(tmp_path)
    (line,) = CliRunner().invoke(main, ["check", "--format", "github", str(notebook)]).output.splitlines()
    number = int(line.split(",line=")[1].split(",")[0])
    assert "loss = nn.BCEWithLogitsLoss()" in notebook.read_text().splitlines()[number - 1]
    assert "::cell 3, line 2: BCEWithLogitsLoss" in line


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    (tmp_path / "broken.py").write_text("import torch.nn as nn\nloss = nn.CrossEntropyLoss(\n")
    (tmp_path / "nb.ipynb").write_text(json.dumps({"nbformat": 4, "cells": [
        {"cell_type": "code", "source": ["import torch.nn as nn\n", "def f(:\n", "  nn.CrossEntropyLoss()"]}]}))
    return tmp_path


def test_sarif_reports_files_that_could_not_be_checked(broken: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "sarif", str(broken)])
    assert result.exit_code == 2
    (invocation,) = json.loads(result.stdout)["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is False
    module, notebook = invocation["toolExecutionNotifications"]
    assert module["level"] == "error" and module["message"]["text"].startswith("cannot parse: ")
    assert module["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": (broken / "broken.py").as_posix()}, "region": {"startLine": 2, "startColumn": 27}}
    assert notebook["locations"][0]["properties"] == {"notebookCell": 1, "lineInCell": 2, "columnInCell": 7}


def test_sarif_of_a_clean_run_is_successful(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_text("x = 1\n")
    run = json.loads(CliRunner().invoke(main, ["check", "--format", "sarif", str(tmp_path)]).stdout)["runs"][0]
    assert run["invocations"] == [{"executionSuccessful": True, "toolExecutionNotifications": []}]


def test_github_reports_files_that_could_not_be_checked(broken: Path) -> None:
    result = CliRunner().invoke(main, ["check", "--format", "github", str(broken)])
    assert result.exit_code == 2
    module, notebook = result.stdout.splitlines()
    assert module.startswith(f"::error file={broken / 'broken.py'},line=2,col=27,title=lossguard%3A cannot check "
                             "this file::cannot parse: ")
    assert notebook.startswith(f"::error file={broken / 'nb.ipynb'},line=") and "::cell 1, line 2: cannot parse" in notebook
