"""Finding: the one record every part of lossguard reports, and its canonical order.

Plain data with no dependency on libcst or torch. Lines are 1-based, columns 1-based (as ruff prints them). For a
notebook, `cell` is the 1-based index of the cell among all cells and `line` is the line inside that cell.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from lossguard.rules import get_rule


@dataclass(frozen=True, order=True)
class Location:
    """The other end of a data flow: where the activation or the target was made."""

    path: str
    line: int
    column: int
    cell: int | None = None


@dataclass(frozen=True)
class Finding:
    code: str
    path: str
    line: int
    column: int
    end_line: int
    end_column: int
    message: str
    related: tuple[Location, ...] = field(default=())
    cell: int | None = None

    @property
    def name(self) -> str:
        return get_rule(self.code).name

    @property
    def hint(self) -> str:
        return get_rule(self.code).fix

    def sort_key(self) -> tuple[Any, ...]:
        return (self.path, self.cell or 0, self.line, self.column, self.code)

    def to_json(self) -> dict[str, Any]:
        """The JSON object of `--format json`: exactly the documented keys."""
        return {
            "code": self.code,
            "name": self.name,
            "path": self.path,
            "line": self.line,
            "column": self.column,
            "end_line": self.end_line,
            "end_column": self.end_column,
            "message": self.message,
            "cell": self.cell,
            "related": [
                {k: v for k, v in asdict(loc).items() if k != "cell" or v is not None} for loc in self.related
            ],
        }


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Findings in report order (path, cell, line, column, code), duplicates removed."""
    unique = {(f.path, f.cell, f.line, f.column, f.code): f for f in findings}
    return sorted(unique.values(), key=Finding.sort_key)
