"""SARIF 2.1.0, the format GitHub code scanning (and most CI dashboards) read: one run, every rule described."""

from __future__ import annotations

import json
from typing import Any

from lossguard import __version__
from lossguard.findings import Finding
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
              cell: int | None = None) -> dict[str, Any]:
    region: dict[str, Any] = {"startLine": line, "startColumn": column}
    if end_line is not None:
        region.update(endLine=end_line, endColumn=end_column)
    location: dict[str, Any] = {"physicalLocation": {"artifactLocation": {"uri": path.replace("\\", "/")},
                                                     "region": region}}
    if cell is not None:
        location["properties"] = {"notebookCell": cell}
    return location


def render_sarif(findings: list[Finding]) -> str:
    index = {rule.code: position for position, rule in enumerate(RULES)}
    results = []
    for f in findings:
        result: dict[str, Any] = {
            "ruleId": f.code,
            "ruleIndex": index[f.code],
            "level": "error",
            "message": {"text": f.message},
            "locations": [_location(f.path, f.line, f.column, f.end_line, f.end_column, f.cell)],
        }
        if f.related:
            result["relatedLocations"] = [
                {"id": number, **_location(r.path, r.line, r.column, cell=r.cell),
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
            "results": results,
        }],
    }
    return json.dumps(document, indent=2)
