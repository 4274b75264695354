"""The README's generated tables are current."""

from __future__ import annotations

from pathlib import Path

from lossguard.contracts import CONTRACTS
from lossguard.formats.markdown import contracts_table, refresh, rules_table
from lossguard.rules import RULES

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_tables_are_current() -> None:
    text = README.read_text(encoding="utf-8")
    assert "<!-- rules:start -->" in text and "<!-- contracts:start -->" in text
    assert refresh(text) == text, "run `python -m lossguard.formats.markdown` to regenerate README.md's tables"


def test_readme_shows_every_rule_and_loss() -> None:
    text = README.read_text(encoding="utf-8")
    assert all(f"| {rule.code} | `{rule.name}` |" in text for rule in RULES)
    assert all(f"| `{contract.module}` |" in text for contract in CONTRACTS)


def test_refresh_fills_an_empty_block() -> None:
    assert refresh("<!-- rules:start -->\n<!-- rules:end -->") == f"<!-- rules:start -->\n{rules_table()}\n<!-- rules:end -->"


def test_tables_have_a_row_per_entry() -> None:
    assert len(rules_table().splitlines()) == len(RULES) + 2
    assert len(contracts_table().splitlines()) == len(CONTRACTS) + 2
