"""GitHub Actions annotations: one `::error` workflow command per finding, shown inline on the pull request."""

from __future__ import annotations

from lossguard.findings import Finding


def _escape_property(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A").replace(":", "%3A").replace(",", "%2C")


def _escape_message(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def render_github(findings: list[Finding]) -> str:
    """Notebook findings are annotated on the notebook file at line 1, with the cell and line in the message
    (GitHub cannot point inside a cell)."""
    lines = []
    for f in findings:
        title = _escape_property(f"{f.code} {f.name}")
        if f.cell is None:
            where = f"file={_escape_property(f.path)},line={f.line},col={f.column},endLine={f.end_line},endColumn={f.end_column}"
            message = f.message
        else:
            where = f"file={_escape_property(f.path)},line=1"
            message = f"cell {f.cell}, line {f.line}: {f.message}"
        lines.append(f"::error {where},title={title}::{_escape_message(message + ' Fix: ' + f.hint)}")
    return "\n".join(lines)
