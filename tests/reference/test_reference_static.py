"""The static checker on the reference sources: nothing on the correct models, each twin's own code on its twin."""

from __future__ import annotations

from pathlib import Path

import lossguard
from lossguard.reference import models, twins
from lossguard.reference.outcomes import static_codes_of_models, static_codes_of_twins

from lossguard.rules import get_rule

STATIC_TWIN_CODES = {"LG101", "LG102", "LG104", "LG106", "LG201", "LG202"}


def test_nothing_on_the_reference_models() -> None:
    source = Path(models.__file__).read_text(encoding="utf-8")
    assert lossguard.check_source(source, path="models.py") == []
    assert static_codes_of_models() == []


def test_each_twin_gets_its_own_code() -> None:
    """Exactly the twin's code where the catalogue says the static checker detects it (LG301, a shape rule,
    started as runtime-only), and nothing else."""
    expected = {twin.name: [twin.code] if get_rule(twin.code).static else [] for twin in twins.TWINS}
    assert STATIC_TWIN_CODES <= {code for codes in expected.values() for code in codes}
    assert static_codes_of_twins() == expected


def test_every_finding_on_the_twins_module_lies_inside_a_twin() -> None:
    findings = lossguard.check_source(Path(twins.__file__).read_text(encoding="utf-8"), path="twins.py")
    ranges = twins.twin_line_ranges().values()
    assert findings and all(any(f.line in lines for lines in ranges) for f in findings)
