"""The JSON format: one array of finding objects with a fixed set of keys (see Finding.to_json)."""

from __future__ import annotations

import json

from lossguard.findings import Finding


def render_json(findings: list[Finding]) -> str:
    return json.dumps([finding.to_json() for finding in findings], indent=2)
