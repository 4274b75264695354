"""`--statistics`: one line per rule with its count of findings, most frequent first, as ruff prints it.

`[*]` marks a rule whose findings here all have a fix with `--fix`; `[-]` one where some have an (unsafe) fix.
"""

from __future__ import annotations

from collections import Counter

from lossguard.findings import Finding


def render_statistics(findings: list[Finding], fixable: dict[Finding, bool] | None = None,
                      unsafe_enabled: bool = False) -> str:
    counts = Counter(f.code for f in findings)
    fixable = fixable or {}
    lines = []
    width = len(str(max(counts.values()))) if counts else 1
    for code, count in sorted(counts.items(), key=lambda item: (-item[1], item[0])):
        of_code = [f for f in findings if f.code == code]
        with_fix = [f for f in of_code if f in fixable and (fixable[f] or unsafe_enabled)]
        mark = "[*]" if len(with_fix) == len(of_code) else "[-]" if any(f in fixable for f in of_code) else "   "
        lines.append(f"{count:>{width}}  {code}  {mark} {of_code[0].name}")
    return "\n".join(lines)
