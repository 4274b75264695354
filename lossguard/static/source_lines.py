"""The lines of the files a report names, read once each: what `--show-source`, baselines and noqa checks quote.

A notebook's lines are those of one cell (cells numbered 1-based among all cells, as findings number them).
Unreadable files give no lines; quoting source is never a reason for a report to fail.
"""

from __future__ import annotations

import json
from pathlib import Path

from lossguard.static.source import SourceError, decode_python


class SourceLines:
    """`lines(path, cell)` of the files of one run; `texts` gives text that is not on disk (standard input)."""

    def __init__(self, texts: dict[str, str] | None = None) -> None:
        self._texts = dict(texts or {})
        self._cache: dict[tuple[str, int | None], list[str]] = {}

    def lines(self, path: str, cell: int | None = None) -> list[str]:
        key = (path, cell)
        if key not in self._cache:
            self._cache[key] = self._read(path, cell)
        return self._cache[key]

    def line(self, path: str, cell: int | None, number: int) -> str | None:
        lines = self.lines(path, cell)
        return lines[number - 1] if 1 <= number <= len(lines) else None

    def _read(self, path: str, cell: int | None) -> list[str]:
        try:
            text = self._texts.get(path)
            if cell is None:
                if text is None:
                    text = decode_python(Path(path).read_bytes())
                return text.splitlines()
            document = json.loads(text if text is not None else Path(path).read_text(encoding="utf-8-sig"))
            source = document["cells"][cell - 1].get("source", "")
            return ("".join(source) if isinstance(source, list) else str(source)).split("\n")
        except (OSError, SourceError, ValueError, KeyError, IndexError, TypeError, AttributeError):
            return []
