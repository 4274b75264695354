"""The shipped fixtures: each pitfall program reports exactly its marked lines, each correct twin nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from lossguard.static.checker import check_paths
from tests.markers import expected_findings

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
PITFALLS = sorted((FIXTURES / "pitfalls").glob("*.py"))
CORRECT = sorted((FIXTURES / "correct").glob("*.py"))


@pytest.mark.parametrize("path", PITFALLS, ids=lambda p: p.name)
def test_pitfall_fixture_reports_its_markers(path: Path) -> None:
    result = check_paths([str(path)])
    assert result.errors == []
    expected = expected_findings(path.read_text())
    assert expected, "a pitfall fixture marks what it should report"
    assert sorted((f.code, f.line) for f in result.findings) == expected


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: p.name)
def test_correct_twin_is_silent(path: Path) -> None:
    assert (FIXTURES / "pitfalls" / path.name).exists(), "every correct fixture has a pitfall twin"
    result = check_paths([str(path)])
    assert (result.findings, result.errors) == ([], [])


def test_fixtures_cover_every_static_rule() -> None:
    from lossguard.rules import RULES

    covered = {code for path in PITFALLS for code, _ in expected_findings(path.read_text())}
    assert {rule.code for rule in RULES if rule.static} <= covered
