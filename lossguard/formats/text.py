"""The text format: `path:line:col: CODE [name] message`, a hint line, and a closing summary, like ruff.

Colour (on a terminal only, never with NO_COLOR; the caller decides) and source excerpts (`--show-source`) are
options of this format only.
"""

from __future__ import annotations

from dataclasses import dataclass

import click

from lossguard.findings import Finding
from lossguard.formats.excerpt import render_excerpt
from lossguard.static.source_lines import SourceLines

_COLOURS = {"path": {"bold": True}, "code": {"fg": "red", "bold": True}, "hint": {"fg": "cyan"},
            "gutter": {"fg": "blue", "bold": True}, "marker": {"fg": "red", "bold": True}}


@dataclass(frozen=True)
class Fixable:
    """How many of the findings a fix run would fix: with `--fix`, and in addition with `--unsafe-fixes`."""

    safe: int = 0
    unsafe: int = 0
    unsafe_enabled: bool = False

    def summary(self) -> str:
        with_fix = self.safe + (self.unsafe if self.unsafe_enabled else 0)
        more = self.unsafe if not self.unsafe_enabled else 0
        parts = []
        if with_fix:
            parts.append(f"{with_fix} fixable with --fix")
        if more:
            parts.append(f"{more} more with --unsafe-fixes" if with_fix
                         else f"{more} fixable with --fix --unsafe-fixes")
        return f" ({', '.join(parts)})" if parts else ""


def location_text(path: str, line: int, column: int, cell: int | None) -> str:
    """`path:line:col`, or `path:cell N:line:col` inside a notebook."""
    where = f"cell {cell}:" if cell is not None else ""
    return f"{path}:{where}{line}:{column}"


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def render_text(findings: list[Finding], *, quiet: bool = False, files_checked: int = 0, errors: int = 0,
                fixable: Fixable | None = None, fixed: int | None = None, sources: SourceLines | None = None,
                colour: bool = False, skipped: int = 0) -> str:
    """The report. `fixed` (a `--fix` run) turns the summary into `Found N problems (F fixed, R remaining).`;
    `sources` adds an excerpt under each finding; `skipped` counts files over the size bounds."""
    def style(text: str, role: str) -> str:
        return click.style(text, **_COLOURS[role]) if colour else text

    lines: list[str] = []
    for finding in findings:
        head = style(location_text(finding.path, finding.line, finding.column, finding.cell), "path")
        lines.append(f"{head}: {style(finding.code, 'code')} [{finding.name}] {finding.message}")
        if sources is not None:
            lines.extend(render_excerpt(finding, sources, style))
        if not quiet:
            lines.append(style(f"  hint: {finding.hint}", "hint"))
    if not quiet:
        lines.append(_summary(findings, files_checked, errors, fixable, fixed, skipped))
    return "\n".join(lines)


def _summary(findings: list[Finding], files_checked: int, errors: int, fixable: Fixable | None,
             fixed: int | None, skipped: int = 0) -> str:
    unchecked = f"; {errors} could not be checked (see the errors above)" if errors else ""
    if skipped:
        unchecked += f"; {skipped} skipped as too large (see above)"
    if fixed is not None and fixed:
        total = fixed + len(findings)
        noun = "problem" if total == 1 else "problems"
        return f"Found {total} {noun} ({fixed} fixed, {len(findings)} remaining){unchecked}."
    if findings:
        files = len({f.path for f in findings})
        noun = "problem" if len(findings) == 1 else "problems"
        extra = fixable.summary() if fixable else ""
        return f"Found {len(findings)} {noun} in {files} of {_files(files_checked)} checked{extra}{unchecked}."
    if errors or skipped:
        return f"No problems found in {_files(files_checked)} checked{unchecked}."
    return f"All checks passed ({_files(files_checked)} checked)."
