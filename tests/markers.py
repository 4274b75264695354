"""Expected findings written into example sources: a line ending in `# LGnnn` expects that code on that line."""

from __future__ import annotations

import re

_MARKER = re.compile(r"#\s*(LG\d{3})\s*$")


def expected_findings(source: str) -> list[tuple[str, int]]:
    expected = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _MARKER.search(line)
        if match:
            expected.append((match.group(1), number))
    return sorted(expected)
