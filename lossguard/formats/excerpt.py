"""`--show-source`: the source lines under a finding, with both ends of its flow underlined, as ruff shows them.

The loss call is underlined over the finding's own range; the other end (`related`: the activation, the one-hot,
the layer) over the expression that starts at its column, found by matching brackets on its line.
"""

from __future__ import annotations

from typing import Callable

from lossguard.findings import Finding
from lossguard.static.source_lines import SourceLines

Style = Callable[[str, str], str]  # (text, role) -> text, where role is "gutter" or "marker"


_TAB = 4


def _plain(text: str, role: str) -> str:
    return text


def expression_end(text: str, start: int) -> int:
    """The end (exclusive) of the expression that starts at `start` on this line: a dotted name and its calls."""
    position = start
    while position < len(text) and (text[position].isalnum() or text[position] in "_."):
        position += 1
    while position < len(text) and text[position] in "([":
        depth = 0
        for index in range(position, len(text)):
            if text[index] in "([{":
                depth += 1
            elif text[index] in ")]}":
                depth -= 1
                if depth == 0:
                    position = index + 1
                    break
        else:
            return len(text.rstrip())
        while position < len(text) and (text[position].isalnum() or text[position] in "_."):
            position += 1
    return max(position, start + 1)


def render_excerpt(finding: Finding, sources: SourceLines, style: Style = _plain) -> list[str]:
    """The excerpt lines (each end of the flow in its file, in source order), or [] when the source is gone."""
    ends: list[tuple[str, int | None, int, int, int, str]] = []  # path, cell, line, start, end, label
    own = sources.line(finding.path, finding.cell, finding.line)
    if own is None:
        return []
    own_end = finding.end_column - 1 if finding.end_line == finding.line else len(own.rstrip())
    ends.append((finding.path, finding.cell, finding.line, finding.column - 1, own_end, finding.code))
    for related in finding.related:
        text = sources.line(related.path, related.cell, related.line)
        if text is not None:
            start = related.column - 1
            ends.append((related.path, related.cell, related.line, start, expression_end(text, start), "made here"))
    ends.sort(key=lambda end: (end[0] != finding.path, end[0], end[1] or 0, end[2], end[5] == finding.code))
    width = len(str(max(end[2] for end in ends)))
    gutter = style(" " * width + " |", "gutter")
    lines = [gutter]
    shown: tuple[str, int | None, int] | None = None
    place = (finding.path, finding.cell)
    for path, cell, number, start, stop, label in ends:
        if (path, cell, number) != shown:
            if shown is not None:
                lines.append(style(" " * width + " :", "gutter"))
            if (path, cell) != place:
                place = (path, cell)
                lines.append(style(f"{' ' * width}--> {path}" + (f":cell {cell}" if cell is not None else ""),
                                   "gutter"))
            text = sources.line(path, cell, number) or ""
            lines.append(style(f"{number:>{width}} |", "gutter") + f" {text.rstrip().expandtabs(_TAB)}")
            shown = (path, cell, number)
        left, right = (len(text[:column].expandtabs(_TAB)) for column in (start, stop))  # as the line is shown
        lines.append(gutter + " " * (left + 1) + style("^" * max(1, right - left) + f" {label}", "marker"))
    lines.append(gutter)
    return lines
