"""GitHub Actions annotations: one `::error` workflow command per finding (and per file that could not be
checked), shown inline on the pull request."""

from __future__ import annotations

from lossguard.findings import Finding
from lossguard.formats.locations import NotebookLines, parse_error_line


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_message(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else text + "."


def render_github(findings: list[Finding], errors: list[str] | tuple[str, ...] = ()) -> str:
    """One `::error` per finding and per file that could not be checked. A notebook finding is annotated at the
    line of the .ipynb that holds its source line (GitHub cannot point inside a cell), with the cell and the line
    in the cell in the message."""
    notebooks = NotebookLines()
    lines = []
    for text in errors:
        error = parse_error_line(text)
        where = f"file={_escape_property(error.path)}" if error.path else ""
        if error.path and error.line is not None and error.cell is None:
            where += f",line={error.line},col={error.column}"
        elif error.cell is not None:
            where += f",line={notebooks.line(error.path, error.cell, error.line or 1) or 1}"
        cell = f"cell {error.cell}, line {error.line}: " if error.cell is not None else ""
        title = f"title={_escape_property('lossguard: cannot check this file')}"
        lines.append(f"::error {where + ',' if where else ''}{title}::{_escape_message(cell + error.reason)}")
    for f in findings:
        title = _escape_property(f"{f.code} {f.name}")
        if f.cell is None:
            where = f"file={_escape_property(f.path)},line={f.line},col={f.column},endLine={f.end_line},endColumn={f.end_column}"
            message = f.message
        else:
            where = f"file={_escape_property(f.path)},line={notebooks.line(f.path, f.cell, f.line) or 1}"
            message = f"cell {f.cell}, line {f.line}: {f.message}"
        lines.append(f"::error {where},title={title}::{_escape_message(_sentence(message) + ' Fix: ' + f.hint)}")
    return "\n".join(lines)
