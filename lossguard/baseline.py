"""Baselines: adopt lossguard on a big project and fail only on new pitfalls.

`--write-baseline FILE` records every current finding; `--baseline FILE` then hides the findings it records. A
finding is fingerprinted by its code, its path (relative to the baseline file's folder, so the file can be
committed) and the text of the lines involved (the loss call's lines and the other end of the flow, whitespace
trimmed), never by line numbers: code added or removed above a finding keeps it matched, while editing the lines
involved makes it new again. Identical fingerprints are counted, so a second copy of a recorded pitfall is new.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import Counter
from pathlib import Path

from lossguard.findings import Finding
from lossguard.static.source_lines import SourceLines

VERSION = 1


class BaselineError(Exception):
    """A baseline file that cannot be read or written; the message is one line for the user."""


def _relative(path: str, baseline: Path) -> str:
    absolute = os.path.abspath(path)
    try:
        return Path(os.path.relpath(absolute, os.path.abspath(baseline.parent))).as_posix()
    except ValueError:  # another drive on Windows
        return Path(absolute).as_posix()


def fingerprint(finding: Finding, sources: SourceLines, baseline: Path) -> str:
    lines = sources.lines(finding.path, finding.cell)
    involved = [line.strip() for line in lines[finding.line - 1: finding.end_line]]
    for related in finding.related:
        text = sources.line(related.path, related.cell, related.line)
        involved.append(f"{_relative(related.path, baseline)}\0{(text or '').strip()}")
    key = "\0".join([finding.code, _relative(finding.path, baseline), *involved])  # no cell: cells get inserted
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:20]


def write_baseline(path: Path, findings: list[Finding], sources: SourceLines) -> None:
    entries = [{"code": f.code, "path": _relative(f.path, path), "fingerprint": fingerprint(f, sources, path),
                "line": f.line, "message": f.message} for f in findings]
    document = {"lossguard-baseline": VERSION, "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"{path}: cannot write the baseline: {error.strerror or error}") from None


def load_baseline(path: Path) -> Counter[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
    except ValueError as error:
        raise BaselineError(f"{path}: not a lossguard baseline (invalid JSON: {error})") from None
    if not isinstance(document, dict) or document.get("lossguard-baseline") != VERSION \
            or not isinstance(document.get("findings"), list):
        raise BaselineError(f"{path}: not a lossguard baseline (write one with --write-baseline)")
    try:
        return Counter(str(entry["fingerprint"]) for entry in document["findings"])
    except (TypeError, KeyError):
        raise BaselineError(f"{path}: not a lossguard baseline (an entry has no fingerprint)") from None


def new_findings(findings: list[Finding], recorded: Counter[str], sources: SourceLines,
                 baseline: Path) -> tuple[list[Finding], int]:
    """(the findings the baseline does not record, how many it hid)."""
    left = Counter(recorded)
    fresh: list[Finding] = []
    hidden = 0
    for finding in findings:
        key = fingerprint(finding, sources, baseline)
        if left[key] > 0:
            left[key] -= 1
            hidden += 1
        else:
            fresh.append(finding)
    return fresh, hidden
