"""Inline suppressions: `# noqa: LG101` (or `# lossguard: ignore[LG101]`) on a line of the reported call.

A bare `# noqa` silences every code on its line, as in flake8 and ruff; `# noqa: E501` (codes of other tools only)
silences nothing of lossguard's.
"""

from __future__ import annotations

import re

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_OWN = re.compile(r"#\s*lossguard:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
ALL = frozenset({"*"})


def suppressed_codes(line: str) -> frozenset[str]:
    """The codes a source line silences (`{"*"}` for all of them)."""
    if "#" not in line:
        return frozenset()
    codes: set[str] = set()
    for pattern in (_NOQA, _OWN):
        for match in pattern.finditer(line):
            listed = match.group("codes")
            if listed is None:
                return ALL
            codes |= {code.upper() for code in re.split(r"[\s,]+", listed.strip()) if code}
    return frozenset(codes)


def is_suppressed(code: str, lines: list[str], first: int, last: int) -> bool:
    """True when a line from `first` to `last` (1-based) carries a suppression of `code` (or of everything)."""
    for number in range(first, max(first, last) + 1):
        if 1 <= number <= len(lines):
            codes = suppressed_codes(lines[number - 1])
            if "*" in codes or any(code.startswith(listed) for listed in codes):
                return True
    return False
