"""`--report-unused-noqa`: `# noqa: LG101` comments that silence nothing (the pitfall was fixed, or never was).

The file is checked a second time with its suppressions neutralised (same length, so every position stays put);
a listed code is unused when no finding of that code covers the comment's line. Only lossguard's own, enabled
codes are judged: a bare `# noqa` and other tools' codes (`# noqa: E501`) are never reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lossguard.config import Config
from lossguard.static.checker import check_file_text
from lossguard.static.notebook import read_notebook
from lossguard.static.suppressions import suppressed_codes

_NEUTRALISE = re.compile(r"(#\s*)noqa|(lossguard:\s*)ignore", re.IGNORECASE)
_COMMENT = re.compile(r"#\s*(?:noqa|lossguard:\s*ignore)", re.IGNORECASE)


@dataclass(frozen=True)
class UnusedNoqa:
    path: str
    line: int
    column: int
    cell: int | None
    codes: tuple[str, ...]

    def text(self) -> str:
        where = f"cell {self.cell}:" if self.cell is not None else ""
        listed = ", ".join(self.codes)
        return f"{self.path}:{where}{self.line}:{self.column}: unused noqa: {listed} (nothing to silence here)"


def _neutralised(text: str) -> str:
    return _NEUTRALISE.sub(lambda m: (m.group(1) + "noqX") if m.group(1) is not None else m.group(2) + "ignorX", text)


def unused_noqa(text: str, path: str, shown: str, enabled: frozenset[str] | None,
                config: Config | None) -> list[UnusedNoqa]:
    """The unused lossguard codes of each suppression comment in one file's text (raises SourceError)."""
    if not _COMMENT.search(text):
        return []
    findings, program = check_file_text(_neutralised(text), path, enabled, config)
    ignored = (config or Config()).ignored_codes(path)
    if program is None:
        lines = [(None, number, line) for number, line in enumerate(text.splitlines(), start=1)]
    else:
        source = read_notebook(text.encode("utf-8")).source
        lines = [(*program.locate(number), line) for number, line in enumerate(source.splitlines(), start=1)]
    unused: list[UnusedNoqa] = []
    for cell, number, line in lines:
        comment = _COMMENT.search(line)
        if comment is None:
            continue
        listed = sorted(code for code in suppressed_codes(line) if code.startswith("LG"))
        covering = [f for f in findings if f.cell == cell and f.line <= number <= f.end_line]
        idle = tuple(code for code in listed
                     if (enabled is None or any(e.startswith(code) for e in enabled))
                     and not any(code.startswith(i) or i.startswith(code) for i in ignored)
                     and not any(f.code.startswith(code) for f in covering))
        if idle:
            unused.append(UnusedNoqa(shown, number, comment.start() + 1, cell, idle))
    return unused
