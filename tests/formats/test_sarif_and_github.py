"""SARIF 2.1.0 and GitHub Actions annotations: the two CI formats."""

from __future__ import annotations

import json

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
    assert second["locations"][0]["properties"] == {"notebookCell": 3} and "relatedLocations" not in second


def test_sarif_of_nothing_still_describes_the_rules() -> None:
    run = json.loads(render([], "sarif"))["runs"][0]
    assert run["results"] == [] and len(run["tool"]["driver"]["rules"]) == len(RULES)


def test_github_annotations_escape_their_separators() -> None:
    (line,) = render([_finding()], "github").splitlines()
    assert line.startswith("::error file=src/train.py,line=12,col=5,endLine=12,endColumn=40,"
                           "title=LG101 sigmoid-into-bce-with-logits::")
    assert "applies a sigmoid itself, but: its input, already Fix: Remove the sigmoid" in line


def test_github_annotation_of_a_notebook_names_the_cell() -> None:
    (line,) = render([_finding(path="nb.ipynb", cell=4, line=2)], "github").splitlines()
    assert line.startswith("::error file=nb.ipynb,line=1,title=") and "::cell 4, line 2: " in line
