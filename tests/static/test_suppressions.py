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


@pytest.mark.parametrize("line", [
    's = "# noqa"; loss = nn.BCEWithLogitsLoss()(model(x), y)',
    "loss = nn.BCEWithLogitsLoss()(model(x), y); s = '# lossguard: ignore'",
])
def test_noqa_inside_a_string_is_not_a_comment(line: str) -> None:
    assert [f.code for f in check_source(HEAD + line + "\n")] == ["LG101"]


def test_noqa_on_a_line_of_a_triple_quoted_string_is_not_a_comment() -> None:
    source = HEAD + 'loss = nn.BCEWithLogitsLoss()(model(x), y if """\n# noqa""" else y)\n'
    assert [f.code for f in check_source(source)] == ["LG101"]


def test_a_real_comment_after_a_string_with_a_hash_still_silences() -> None:
    source = HEAD + "loss = nn.BCEWithLogitsLoss()(model(x), y); s = '#'  # noqa: LG101\n"
    assert check_source(source) == []
