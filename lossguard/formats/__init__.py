"""Output formats for findings: text (ruff-like) and JSON."""

from __future__ import annotations

from lossguard.findings import Finding
from lossguard.formats.json_format import render_json
from lossguard.formats.text import render_text

FORMATS = ("text", "json")


def render(findings: list[Finding], output_format: str, *, quiet: bool = False, files_checked: int = 0,
           errors: int = 0) -> str:
    """Findings as the text of one output format (an empty string when there is nothing to print)."""
    if output_format == "json":
        return render_json(findings)
    return render_text(findings, quiet=quiet, files_checked=files_checked, errors=errors)
