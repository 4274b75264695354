"""Jupyter notebooks as one program: code cells in order, IPython syntax neutralised without shifting lines.

The checker analyses the joined program and maps each finding back to (cell, line in cell). Cells are numbered
1-based among *all* cells, markdown included, as a notebook user counts them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from lossguard.static.source import SourceError

# Cell magics whose body is still Python; any other `%%magic` (bash, html, writefile, ...) is not Python at all.
_PYTHON_CELL_MAGICS = frozenset({"time", "timeit", "capture", "prun", "debug", "pypy", "python", "python3"})
# `%magic`, `%%magic`, `!command`; not a continuation line starting with the `%` operator or with `!=`.
_LINE_MAGIC = re.compile(r"^(\s*)(%{1,2}[A-Za-z_]|!(?!=))")
_ASSIGNED_MAGIC = re.compile(r"^(\s*)[\w.\[\], ]+=\s*[%!]")
_HELP = re.compile(r"^(\s*)[\w.]*\?\??\s*$|^(\s*)\?")


@dataclass(frozen=True)
class CellSpan:
    cell: int  # 1-based among all cells
    first_line: int  # 1-based line of the cell's first line in the joined program
    line_count: int


@dataclass(frozen=True)
class NotebookProgram:
    source: str
    spans: tuple[CellSpan, ...]

    def locate(self, line: int) -> tuple[int | None, int]:
        """(cell, line inside the cell) for a line of the joined program."""
        for span in self.spans:
            if span.first_line <= line < span.first_line + span.line_count:
                return span.cell, line - span.first_line + 1
        return None, line


def _cell_lines(cell: dict, index: int) -> list[str]:
    """A code cell's lines; nbformat 4 allows a string or a list of strings, anything else is invalid."""
    source = cell.get("source", "")
    if isinstance(source, list) and all(isinstance(part, str) for part in source):
        return "".join(source).split("\n")
    if isinstance(source, str):
        return source.split("\n")
    raise SourceError(f"invalid notebook: the source of cell {index} is not a string or a list of strings")


def neutralise(lines: list[str]) -> list[str]:
    """IPython-only lines become `pass` (keeping indentation); a non-Python cell magic blanks the whole cell."""
    if lines and lines[0].lstrip().startswith("%%"):
        magic = lines[0].lstrip()[2:].split(maxsplit=1)
        if not magic or magic[0] not in _PYTHON_CELL_MAGICS:
            return ["" for _ in lines]
        lines = [""] + lines[1:]
    out = []
    for line in lines:
        match = _LINE_MAGIC.match(line) or _ASSIGNED_MAGIC.match(line) or _HELP.match(line)
        if match:
            indent = match.group(1) or ""
            out.append(f"{indent}pass")
        else:
            out.append(line)
    return out


def read_notebook(data: bytes) -> NotebookProgram:
    """The joined program of a notebook file's bytes. Raises SourceError with one-line reasons."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as error:
        raise SourceError(f"cannot decode notebook: {error.reason}") from None
    except json.JSONDecodeError as error:
        raise SourceError(f"invalid notebook JSON: {error.msg}", error.lineno, error.colno) from None
    if not isinstance(document, dict):
        raise SourceError("invalid notebook: the top level is not a JSON object")
    version = document.get("nbformat")
    if version != 4:
        raise SourceError(f"unsupported notebook format: nbformat {version!r} (lossguard reads nbformat 4)")
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise SourceError("invalid notebook: it has no list of cells")
    lines: list[str] = []
    spans: list[CellSpan] = []
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        cell_lines = neutralise(_cell_lines(cell, index))
        spans.append(CellSpan(index, len(lines) + 1, len(cell_lines)))
        lines.extend(cell_lines)
    return NotebookProgram("\n".join(lines) + "\n", tuple(spans))
