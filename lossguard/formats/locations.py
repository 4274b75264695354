"""What the CI formats need beyond a Finding: error lines taken apart, and notebook cells placed in the .ipynb.

SARIF viewers and GitHub annotations can only point at lines of a file, and a notebook's file is JSON: a finding
in cell 5, line 12 is placed at the line of the .ipynb that holds that source line (see `json_positions`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lossguard.static.notebook import json_positions

_ERROR_LINE = re.compile(r"^(?P<path>.+?):(?:cell (?P<cell>\d+):)?(?:(?P<line>\d+):(?P<column>\d+):)? error: "
                         r"(?P<reason>.*)$")


@dataclass(frozen=True)
class ErrorLine:
    """One `path[:cell N][:line:col]: error: reason` line of `lossguard check`, taken apart."""

    path: str
    reason: str
    line: int | None = None
    column: int | None = None
    cell: int | None = None


def parse_error_line(text: str) -> ErrorLine:
    match = _ERROR_LINE.match(text)
    if match is None:
        return ErrorLine("", text)
    line, column, cell = (int(match.group(name)) if match.group(name) else None for name in ("line", "column", "cell"))
    return ErrorLine(match.group("path"), match.group("reason"), line, column, cell)


class NotebookLines:
    """The .ipynb line of a cell's line, each notebook read once per report."""

    def __init__(self) -> None:
        self._positions: dict[str, dict[tuple[int, int], tuple[int, int]]] = {}

    def line(self, path: str, cell: int, line: int) -> int | None:
        """The line of the .ipynb file holding line `line` of cell `cell`; None when it cannot be told."""
        if path not in self._positions:
            try:
                with open(path, "rb") as handle:
                    self._positions[path] = json_positions(handle.read())
            except OSError:
                self._positions[path] = {}
        position = self._positions[path].get((cell, line))
        return position[0] if position else None
