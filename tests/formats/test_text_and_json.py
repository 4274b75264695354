"""Text and JSON rendering of findings, including notebook cells and related locations in other files."""

from __future__ import annotations

import json

from lossguard.findings import Finding, Location, sort_findings
from lossguard.formats import render


def _finding(**overrides) -> Finding:
    values = dict(code="LG102", path="train.py", line=12, column=5, end_line=12, end_column=30,
                  message="CrossEntropyLoss applies log_softmax itself", related=(Location("models.py", 8, 9),))
    values.update(overrides)
    return Finding(**values)


def test_text_line_and_hint() -> None:
    text = render([_finding()], "text", files_checked=3)
    assert text.splitlines() == [
        "train.py:12:5: LG102 [softmax-into-cross-entropy] CrossEntropyLoss applies log_softmax itself",
        "  hint: Return logits from the model and pass them to CrossEntropyLoss; apply softmax only for predictions.",
        "Found 1 problem in 1 of 3 files checked.",
    ]


def test_text_names_the_notebook_cell() -> None:
    text = render([_finding(path="nb.ipynb", cell=5, line=3, column=1)], "text", quiet=True)
    assert text.startswith("nb.ipynb:cell 5:3:1: LG102")


def test_json_related_and_cell() -> None:
    (obj,) = json.loads(render([_finding(cell=2)], "json"))
    assert obj["cell"] == 2
    assert obj["related"] == [{"path": "models.py", "line": 8, "column": 9}]


def test_sorting_is_by_path_cell_line_and_deduplicates() -> None:
    a = _finding(path="b.py", line=1)
    b = _finding(path="a.py", line=9)
    c = _finding(path="a.py", line=2)
    assert sort_findings([a, b, c, c]) == [c, b, a]
