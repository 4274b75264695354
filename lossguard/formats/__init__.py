"""Output formats for findings: text (ruff-like), JSON, SARIF 2.1.0 (code scanning) and GitHub annotations."""

from __future__ import annotations

from lossguard.findings import Finding
from lossguard.formats.github import render_github
from lossguard.formats.json_format import render_json
from lossguard.formats.sarif import render_sarif
from lossguard.formats.text import Fixable, render_text
from lossguard.static.source_lines import SourceLines


def render(findings: list[Finding], output_format: str, *, quiet: bool = False, files_checked: int = 0,
           errors: int = 0, error_lines: list[str] | tuple[str, ...] = (), fixable: Fixable | None = None,
           fixed: int | None = None, sources: SourceLines | None = None, colour: bool = False,
           skipped: int = 0) -> str:
    """Findings as the text of one output format (an empty string when there is nothing to print).

    `errors` counts the files that could not be checked (for the text summary); `error_lines` are their lines,
    which the CI formats carry too (SARIF as tool execution notifications, GitHub as `::error` annotations).
    `fixable`, `fixed`, `sources` (source excerpts), `colour` and `skipped` (files over the size bounds) concern
    the text format only."""
    if output_format == "json":
        return render_json(findings)
    if output_format == "sarif":
        return render_sarif(findings, error_lines)
    if output_format == "github":
        return render_github(findings, error_lines)
    return render_text(findings, quiet=quiet, files_checked=files_checked, errors=errors, fixable=fixable,
                       fixed=fixed, sources=sources, colour=colour, skipped=skipped)
