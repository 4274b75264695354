"""SARIF 2.1.0, the format GitHub code scanning (and most CI dashboards) read: one run, every rule described."""

from __future__ import annotations

import json
from typing import Any

from lossguard import __version__
from lossguard.findings import Finding
from lossguard.formats.locations import NotebookLines, parse_error_line
from lossguard.rules import RULES

_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def _rule(rule: Any) -> dict[str, Any]:
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": rule.why},
        "help": {"text": f"{rule.why}\n\nFix: {rule.fix}", "markdown": f"{rule.why}\n\n**Fix:** {rule.fix}"},
        "defaultConfiguration": {"level": "error"},
        "properties": {"detection": rule.detection},
    }


def _location(path: str, line: int, column: int, end_line: int | None = None, end_column: int | None = None,
              cell: int | None = None, notebooks: NotebookLines | None = None) -> dict[str, Any]:
    """A SARIF location. In a notebook, the region is the line of the .ipynb's JSON text that holds the source
    line (the whole line: columns of the cell do not map onto columns of the JSON), and the cell, its line and
    column are properties."""
    if cell is None:
        region: dict[str, Any] = {"startLine": line, "startColumn": column}
        if end_line is not None:
            region.update(endLine=end_line, endColumn=end_column)
    else:
        region = {"startLine": (notebooks.line(path, cell, line) if notebooks else None) or 1}
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": path.replace("\\", "/")},
                                                     "region": region}}
    if cell is not None:
        location["properties"] = {"notebookCell": cell, "lineInCell": line, "columnInCell": column}
    return location


def _notification(text: str) -> dict[str, Any]:
    """A file lossguard could not check, as a SARIF tool execution notification (level error)."""
    error = parse_error_line(text)
    notification: dict[str, Any] = {"level": "error", "message": {"text": error.reason}}
    if error.path:
        region = {"startLine": error.line or 1, "startColumn": error.column or 1}
        location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": error.path.replace("\\", "/")}}}
        if error.line is not None and error.cell is None:
            location["physicalLocation"]["region"] = region
        if error.cell is not None:
            location["properties"] = {"notebookCell": error.cell, "lineInCell": error.line,
                                      "columnInCell": error.column}
        notification["locations"] = [location]
    return notification


def render_sarif(findings: list[Finding], errors: list[str] | tuple[str, ...] = ()) -> str:
    """The SARIF document of one run: findings as results, files that could not be checked as
    `invocations[0].toolExecutionNotifications` (and `executionSuccessful: false`)."""
    notebooks = NotebookLines()
    index = {rule.code: position for position, rule in enumerate(RULES)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            "message": {"text": f.message},
            "locations": [_location(f.path, f.line, f.column, f.end_line, f.end_column, f.cell, notebooks)],
        }
        if f.related:
            result["relatedLocations"] = [
                {"id": number, **_location(r.path, r.line, r.column, cell=r.cell, notebooks=notebooks),
                 "message": {"text": "where the value was made"}}
                for number, r in enumerate(f.related)
            ]
        results.append(result)
    document = {
        "$schema": _SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "lossguard", "version": __version__,
                                "informationUri": "https://pypi.org/project/lossguard/",
                                "rules": [_rule(rule) for rule in RULES]}},
            "invocations": [{"executionSuccessful": not errors,
                             "toolExecutionNotifications": [_notification(error) for error in errors]}],
            "results": results,
        }],
    }
    return json.dumps(document, indent=2)
