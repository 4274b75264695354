"""The shipped fixtures: the pitfall programs report exactly their marked lines, their correct twins nothing.

Covers plain scripts, classes, Lightning-style modules, aliased imports, a multi-file project (a finding that
spans files) and a notebook (findings located by cell).
"""

from __future__ import annotations

import json
from pathlib import Path

from lossguard.rules import RULES
from lossguard.static.checker import check_paths
from tests.markers import expected_findings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def _sources(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix in (".py", ".ipynb"))


def _marked(path: Path) -> set[tuple[str, int | None, str, int]]:
    """(file name relative to its folder, cell, code, line) for every `# LGnnn` marker of a .py or .ipynb file."""
    if path.suffix == ".py":
        return {(path.name, None, code, line) for code, line in expected_findings(path.read_text())}
    cells = json.loads(path.read_text())["cells"]
    return {
        (path.name, index, code, line)
        for index, cell in enumerate(cells, start=1) if cell["cell_type"] == "code"
        for code, line in expected_findings("".join(cell["source"]))
    }


def test_pitfall_fixtures_report_exactly_their_markers() -> None:
    result = check_paths([str(FIXTURES / "pitfalls")])
    assert result.errors == []
    expected = set().union(*(_marked(p) for p in _sources(FIXTURES / "pitfalls")))
    assert {(Path(f.path).name, f.cell, f.code, f.line) for f in result.findings} == expected
    assert len(result.findings) == len(expected)


def test_correct_twins_are_silent() -> None:
    result = check_paths([str(FIXTURES / "correct")])
    assert (result.findings, result.errors) == ([], [])


def test_every_fixture_has_a_twin() -> None:
    pitfalls = {p.relative_to(FIXTURES / "pitfalls") for p in _sources(FIXTURES / "pitfalls")}
    correct = {p.relative_to(FIXTURES / "correct") for p in _sources(FIXTURES / "correct")}
    assert pitfalls == correct


def test_fixtures_cover_every_static_rule() -> None:
    covered = {code for path in _sources(FIXTURES / "pitfalls") for _, _, code, _ in _marked(path)}
    assert {rule.code for rule in RULES if rule.static} <= covered


def test_cross_module_finding_points_into_the_other_file() -> None:
    result = check_paths([str(FIXTURES / "pitfalls" / "project")])
    (finding,) = result.findings
    assert Path(finding.path).name == "engine.py"
    # the activation in heads.py, and the call in train.py that passed the model into engine.py
    assert [Path(loc.path).name for loc in finding.related] == ["heads.py", "train.py"]
    assert "heads.py:7" in finding.message


def test_notebook_finding_names_cell_and_line() -> None:
    result = check_paths([str(FIXTURES / "pitfalls" / "digits_notebook.ipynb")])
    first = result.findings[0]
    assert (first.code, first.cell, first.line) == ("LG102", 6, 5)
    assert first.related[0].cell == 5 and "cell 5, line 5" in first.message
