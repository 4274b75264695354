"""The static checker on the reference sources: nothing on the correct models, each twin's own code on its twin."""

from __future__ import annotations

from pathlib import Path

import lossguard
from lossguard.reference import models, twins
from lossguard.reference.outcomes import static_codes_of_models, static_codes_of_twins

EXPECTED_STATIC = {
    "double sigmoid": ["LG101"],
    "logits into BCELoss": ["LG106"],
    "softmax into CE": ["LG102"],
    "softmax into NLL": ["LG104"],
    "one-hot targets": ["LG201"],
    "float class indices": ["LG202"],
    "broadcast targets": [],  # LG301 needs shapes of real tensors: runtime only
}


def test_nothing_on_the_reference_models() -> None:
    source = Path(models.__file__).read_text(encoding="utf-8")
    assert lossguard.check_source(source, path="models.py") == []
    assert static_codes_of_models() == []


def test_each_twin_gets_its_own_code() -> None:
    assert static_codes_of_twins() == EXPECTED_STATIC


def test_every_finding_on_the_twins_module_lies_inside_a_twin() -> None:
    findings = lossguard.check_source(Path(twins.__file__).read_text(encoding="utf-8"), path="twins.py")
    ranges = twins.twin_line_ranges().values()
    assert findings and all(any(f.line in lines for lines in ranges) for f in findings)
