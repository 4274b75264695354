"""Inline suppressions: `# noqa: LG101` (or `# lossguard: ignore[LG101]`) on a line of the reported call.

A bare `# noqa` silences every code on its line, as in flake8 and ruff; `# noqa: E501` (codes of other tools only)
silences nothing of lossguard's. Only real comments count, found with Python's tokenizer: `s = "# noqa"` on the
reported line, or a line of a triple-quoted string, silences nothing.
"""

from __future__ import annotations

import io
import re
import tokenize

_NOQA = re.compile(r"#\s*noqa(?::\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*))?", re.IGNORECASE)
_OWN = re.compile(r"#\s*lossguard:\s*ignore(?:\[(?P<codes>[^\]]*)\])?", re.IGNORECASE)
ALL = frozenset({"*"})


def suppressed_codes(line: str) -> frozenset[str]:
    """The codes a comment silences (`{"*"}` for all of them)."""
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


def comments(lines: list[str]) -> dict[int, str]:
    """The comment of each line that has one (1-based line -> `# ...`), as Python's tokenizer sees them."""
    found: dict[int, str] = {}
    if not any("#" in line for line in lines):
        return found
    readline = io.StringIO("\n".join(lines) + "\n").readline
    try:
        for token in tokenize.generate_tokens(readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0]] = token.string
    except (tokenize.TokenError, SyntaxError):  # the comments seen up to there still count
        pass
    return found


_cache: tuple[list[str] | None, dict[int, str]] = (None, {})  # the last file's lines and their comments


def _comments_of(lines: list[str]) -> dict[int, str]:
    """`comments(lines)`, tokenized once per file (findings of one file are judged one after the other)."""
    global _cache
    cached = _cache  # one read: another thread may replace it meanwhile
    if cached[0] is not lines:
        cached = _cache = (lines, comments(lines))
    return cached[1]


def is_suppressed(code: str, lines: list[str], first: int, last: int) -> bool:
    """True when a line from `first` to `last` (1-based) carries a comment suppressing `code` (or everything)."""
    found = _comments_of(lines)
    for number in range(first, max(first, last) + 1):
        comment = found.get(number)
        if comment is not None:
            codes = suppressed_codes(comment)
            if "*" in codes or any(code.startswith(listed) for listed in codes):
                return True
    return False
