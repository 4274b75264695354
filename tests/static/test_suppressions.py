"""`# noqa: LG101` and `# lossguard: ignore[LG101]` on the reported call silence exactly what they name."""

from __future__ import annotations

import pytest

from lossguard.static.checker import check_source
from lossguard.static.suppressions import suppressed_codes

HEAD = "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n"


@pytest.mark.parametrize("comment,silenced", [
    ("# noqa: LG101", True),
    ("# noqa:LG101,LG102", True),
    ("# NOQA: lg1", True),
    ("# noqa", True),
    ("# lossguard: ignore[LG101]", True),
    ("# lossguard: ignore", True),
    ("# noqa: E501", False),
    ("# lossguard: ignore[LG102]", False),
    ("# a comment", False),
])
def test_suppression_comments(comment: str, silenced: bool) -> None:
    source = HEAD + f"loss = nn.BCEWithLogitsLoss()(model(x), y)  {comment}\n"
    assert (check_source(source) == []) is silenced


def test_a_comment_on_any_line_of_a_multi_line_call() -> None:
    source = HEAD + "loss = nn.BCEWithLogitsLoss()(\n    model(x),  # noqa: LG101\n    y,\n)\n"
    assert check_source(source) == []


def test_a_comment_elsewhere_does_not_silence() -> None:
    source = HEAD + "# noqa: LG101\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
    assert [f.code for f in check_source(source)] == ["LG101"]


def test_suppressed_codes_parsing() -> None:
    assert suppressed_codes("x = 1  # noqa: LG101, LG2") == {"LG101", "LG2"}
    assert suppressed_codes("x = '#'") == frozenset()
