"""The catalogue: complete, consistent with DESIGN.md's codes, and its examples are the truth for the checker."""

from __future__ import annotations

import re

import pytest

from lossguard.rules import BY_CODE, RULES, get_rule, select_codes
from lossguard.static.checker import check_source
from tests.markers import expected_findings

DESIGN_CODES = (
    "LG101 LG102 LG103 LG104 LG105 LG106 LG107 LG108 LG109 LG201 LG202 LG203 LG204 LG205 LG206 "
    "LG301 LG302 LG303 LG304 LG305 LG306 LG401 LG402 LG403 LG404"
).split()

EXAMPLES = [
    pytest.param(rule.code, kind, index, source, id=f"{rule.code}-{kind}-{index}")
    for rule in RULES if rule.static
    for kind, sources in (("bad", rule.bad), ("good", rule.good))
    for index, source in enumerate(sources)
]


def test_every_design_code_is_catalogued_once() -> None:
    assert [rule.code for rule in RULES] == DESIGN_CODES


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.code)
def test_rule_entry_is_complete(rule) -> None:
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.title and rule.why and rule.fix and rule.message
    if rule.static:
        assert rule.bad and rule.good, "a statically detected rule documents itself with examples"
    if rule.runtime_only:
        assert not rule.static


@pytest.mark.parametrize("code,kind,index,source", EXAMPLES)
def test_catalogue_example(code: str, kind: str, index: int, source: str) -> None:
    found = sorted((f.code, f.line) for f in check_source(source, "example.py"))
    if kind == "bad":
        markers = expected_findings(source)
        assert markers and all(marked == code for marked, _ in markers)
        assert found == markers
    else:
        assert found == []


def test_names_are_unique() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)


def test_get_rule_is_case_insensitive_and_rejects_unknown_codes() -> None:
    assert get_rule("lg101") is BY_CODE["LG101"]
    with pytest.raises(KeyError):
        get_rule("LG999")


def test_select_and_ignore_accept_prefixes() -> None:
    assert select_codes(["LG1"], None) == {rule.code for rule in RULES if rule.code.startswith("LG1")}
    assert "LG101" not in select_codes(None, ["LG101"])
    assert select_codes(["LG2"], ["LG201"]) == {rule.code for rule in RULES if rule.code.startswith("LG2")} - {"LG201"}
    with pytest.raises(ValueError, match="LG9"):
        select_codes(["LG9"], None)
