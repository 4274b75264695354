"""Expected findings written into example sources: a line ending in `# LGnnn` expects that code on that line
(`# LG102 LG101`: both codes there)."""

from __future__ import annotations

import re

_MARKER = re.compile(r"#\s*((?:LG\d{3}\s*)+)$")


def expected_findings(source: str) -> list[tuple[str, int]]:
    expected = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            expected.extend((code, number) for code in match.group(1).split())
    return sorted(expected)
