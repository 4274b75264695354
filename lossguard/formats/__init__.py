"""Output formats for findings: text (ruff-like), JSON, SARIF 2.1.0 (code scanning) and GitHub annotations."""

from __future__ import annotations

from lossguard.findings import Finding
from lossguard.formats.github import render_github
from lossguard.formats.json_format import render_json
from lossguard.formats.sarif import render_sarif
from lossguard.formats.text import render_text


def render(findings: list[Finding], output_format: str, *, quiet: bool = False, files_checked: int = 0,
           errors: int = 0, skipped: int = 0) -> str:
    """Findings as the text of one output format (an empty string when there is nothing to print)."""
    if output_format == "json":
        return render_json(findings)
    if output_format == "sarif":
        return render_sarif(findings)
    if output_format == "github":
        return render_github(findings)
    return render_text(findings, quiet=quiet, files_checked=files_checked, errors=errors, skipped=skipped)
