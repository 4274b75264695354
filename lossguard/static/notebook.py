"""Jupyter notebooks as one program: code cells in order, IPython syntax neutralised without shifting lines.

The checker analyses the joined program and maps each finding back to (cell, line in cell). Cells are numbered
1-based among *all* cells, markdown included, as a notebook user counts them.
"""

from __future__ import annotations

import bisect
import json
import json.decoder
import json.scanner
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
        """(cell, line inside the cell) for a line of the joined program (a binary search: spans are in order)."""
        index = bisect.bisect_right(self.span_starts, line) - 1
        if index >= 0:
            span = self.spans[index]
            if span.first_line <= line < span.first_line + span.line_count:
                return span.cell, line - span.first_line + 1
        return None, line

    @property
    def span_starts(self) -> list[int]:
        starts = self.__dict__.get("_starts")
        if starts is None:
            starts = [span.first_line for span in self.spans]
            object.__setattr__(self, "_starts", starts)
        return starts


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


def _strip_leading_indent(lines: list[str]) -> list[str]:
    """IPython runs a cell whose first line is indented with that indentation removed from every line that has it
    (its `leading_indent` input transformation), so such a cell is valid Python in Jupyter."""
    indent = re.match(r"[ \t]+", lines[0]) if lines else None
    if indent is None:
        return lines
    prefix = indent.group(0)
    return [line[len(prefix):] if line.startswith(prefix) else line for line in lines]


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
        cell_lines = neutralise(_strip_leading_indent(_cell_lines(cell, index)))
        spans.append(CellSpan(index, len(lines) + 1, len(cell_lines)))
        lines.extend(cell_lines)
    return NotebookProgram("\n".join(lines) + "\n", tuple(spans))


def json_positions(data: bytes) -> dict[tuple[int, int], tuple[int, int]]:
    """Where each line of each code cell sits in the notebook file's own JSON text.

    (cell, line in cell) -> (line, column) of the .ipynb, both 1-based: the opening quote of the JSON string that
    holds the start of that source line (Jupyter writes a cell's source as one string per line, so this is the
    line itself; a source written as one string gives that string's position for all its lines). Dashboards that
    can only point at lines of a file (SARIF viewers, GitHub annotations) use it. Empty when the notebook cannot
    be read; reading it costs a pure-Python JSON pass, so only the output formats that need it call this.
    """
    try:
        text = data.decode("utf-8-sig")
        starts: dict[int, tuple[str, int]] = {}  # id(decoded string) -> (the string, kept alive; its offset)

        def parse_string(document: str, end: int, strict: bool = True) -> tuple[str, int]:
            value, after = json.decoder.scanstring(document, end, strict)
            starts[id(value)] = (value, end - 1)
            return value, after

        decoder = json.JSONDecoder()
        decoder.parse_string = parse_string  # type: ignore[assignment]
        decoder.scan_once = json.scanner.py_make_scanner(decoder)  # the C scanner would not call parse_string
        document = decoder.decode(text)
        cells = document["cells"]
    except (ValueError, TypeError, KeyError):
        return {}
    line_starts = [0]
    line_starts += [index + 1 for index, char in enumerate(text) if char == "\n"]

    def position(offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(line_starts, offset)
        return line, offset - line_starts[line - 1] + 1

    positions: dict[tuple[int, int], tuple[int, int]] = {}
    for index, cell in enumerate(cells if isinstance(cells, list) else [], start=1):
        source = cell.get("source") if isinstance(cell, dict) else None
        parts = source if isinstance(source, list) else [source]
        line_in_cell, at_line_start = 1, True
        for part in parts:
            entry = starts.get(id(part)) if isinstance(part, str) else None
            if entry is None or entry[0] is not part:
                break
            where = position(entry[1])
            if at_line_start:
                positions[(index, line_in_cell)] = where
            for _ in range(part.count("\n")):
                line_in_cell += 1
                positions.setdefault((index, line_in_cell), where)
            at_line_start = part.endswith("\n")
            if at_line_start:
                positions.pop((index, line_in_cell), None)  # its own string, next, gives the line's position
    return positions
