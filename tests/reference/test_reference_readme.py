"""The README's "Reference models" examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[2] / "README.md"


def _section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("## Reference models")
    following = re.search(r"^## ", text[start + 3:], flags=re.MULTILINE)
    return text[start:start + 3 + following.start()] if following else text[start:]


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", _section(), flags=re.DOTALL)


def test_one_example_per_task() -> None:
    examples = _examples()
    assert len(examples) == 3
    for example, model in zip(examples, ("LinearRegressor", "LogisticClassifier", "SoftmaxClassifier")):
        assert model in example


@pytest.mark.parametrize("index", range(3))
def test_example_runs(index: int) -> None:
    exec(compile(_examples()[index], f"README example {index + 1}", "exec"), {})


def test_contract_table_and_picture() -> None:
    section = _section()
    for row in ("| regression | `LinearRegressor`", "| binary | `LogisticClassifier`",
                "| multiclass | `SoftmaxClassifier`"):
        assert row in section
    assert "![" in section and "(docs/demo.png)" in section
    assert (README.parent / "docs" / "demo.png").is_file()
