"""`lossguard check --fix` / `--diff`: apply the fixes of fixes.py to whole files, pass after pass, safely.

Each pass plans the fixes of the current findings and applies those whose edits do not overlap, then re-checks;
it stops when nothing is left to fix. A pass is kept only when its result parses and re-checks with its findings
gone and no new kind of finding, so a fix can never leave a file broken, and a file that does not parse is never
touched. Notebooks are edited cell by
cell: only the changed cells' `source` changes (in the cell's own list-or-string form); outputs, metadata and the
JSON layout stay as they were, and a notebook whose JSON layout cannot be reproduced exactly is not rewritten.
"""

from __future__ import annotations

import ast
import difflib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import libcst as cst

from lossguard.config import Config
from lossguard.findings import Finding
from lossguard.rules import Rule
from lossguard.static.checker import check_file_text
from lossguard.static.fixes import Edit, Fix, PlannedFix, apply_edits, non_overlapping, plan_fixes
from lossguard.static.notebook import NotebookProgram, read_notebook
from lossguard.static.source import SourceError, decode_python

_MAX_PASSES = 8
_NOTEBOOK_LINE = re.compile(r"[^\n]*\n|[^\n]+\Z")


@dataclass
class FileFixes:
    """What fixing one file did: its text before and after, and the fixes applied (in order)."""

    path: str
    original: str
    fixed: str
    applied: list[Fix] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.fixed != self.original

    def diff(self) -> str:
        return "".join(difflib.unified_diff(self.original.splitlines(keepends=True),
                                            self.fixed.splitlines(keepends=True),
                                            fromfile=self.path, tofile=self.path))


def read_text(path: str) -> str:
    """A file's text as fixes edit it (notebooks: their JSON text). Raises SourceError."""
    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    if path.endswith(".ipynb"):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as error:
            raise SourceError(f"cannot decode notebook: {error.reason}") from None
    return decode_python(data)


def _program_line(program: NotebookProgram | None):
    if program is None:
        return lambda cell, line: line
    first = {span.cell: span.first_line for span in program.spans}
    return lambda cell, line: first.get(cell, 1) + line - 1 if cell is not None else line


def plan_for_text(text: str, findings: list[Finding], program: NotebookProgram | None,
                  unsafe: bool) -> list[PlannedFix]:
    source = program.source if program is not None else text
    return plan_fixes(source, findings, unsafe=unsafe, program_line=_program_line(program))


def fix_text(text: str, path: str, *, enabled: frozenset[str] | None, config: Config | None,
             unsafe: bool) -> FileFixes:
    """Fix one file's text (not written anywhere). Raises SourceError when the text cannot be checked."""
    result = FileFixes(path, text, text)
    findings, program = check_file_text(text, path, enabled, config)
    for _ in range(_MAX_PASSES):
        try:
            chosen = non_overlapping(plan_for_text(result.fixed, findings, program, unsafe))
        except (cst.ParserSyntaxError, RecursionError):  # libcst rejects, or nests too deep for its visitors
            break
        candidate = _apply(result.fixed, [edit for item in chosen for edit in item.fix.edits], program)
        if not chosen or candidate is None or candidate == result.fixed:
            break
        try:
            after, after_program = check_file_text(candidate, path, enabled, config)
        except SourceError:
            break
        if not _removed(findings, after, [item.fix for item in chosen]):
            break  # a fix that does not remove its finding, or adds another kind: keep the text before the pass
        result.fixed, findings, program = candidate, after, after_program
        result.applied.extend(item.fix for item in chosen)
    return result


def _removed(before: list[Finding], after: list[Finding], applied: list[Fix]) -> bool:
    """Whether the pass's fixes removed (at least) their findings and introduced no new kind of finding."""
    counts_before = Counter(f.code for f in before)
    counts_after = Counter(f.code for f in after)
    fixed = Counter(fix.code for fix in applied)
    return (all(counts_after[code] <= counts_before[code] - count for code, count in fixed.items())
            and set(counts_after) <= set(counts_before))


def _apply(text: str, edits: list[Edit], program: NotebookProgram | None) -> str | None:
    """The text with the edits applied, or None when the result would not parse (or not round-trip)."""
    if program is None:
        fixed = apply_edits(text, edits)
        return fixed if _parses(fixed) else None
    return _apply_to_notebook(text, edits, program)


def _parses(source: str) -> bool:
    try:
        ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def _json_layout(text: str, document: object) -> dict | None:
    """The json.dumps options that reproduce `text` exactly (nbformat writes indent=1), or None."""
    for indent in (1, 2, 4, None):
        for sort_keys in (True, False):
            for ensure_ascii in (False, True):
                options = {"indent": indent, "sort_keys": sort_keys, "ensure_ascii": ensure_ascii}
                rendered = json.dumps(document, **options)
                if rendered == text or rendered + "\n" == text:
                    return {**options, "newline": text.endswith("\n")}
    return None


def _apply_to_notebook(text: str, edits: list[Edit], program: NotebookProgram) -> str | None:
    bom = "\ufeff" if text.startswith("\ufeff") else ""
    text = text[len(bom):]
    document = json.loads(text)
    layout = _json_layout(text, document)
    if layout is None:
        return None
    by_cell: dict[int, list[Edit]] = {}
    for edit in edits:
        span = next((s for s in program.spans if s.first_line <= edit.start[0] < s.first_line + s.line_count), None)
        if span is None or not edit.end[0] < span.first_line + span.line_count:
            return None
        by_cell.setdefault(span.cell, []).append(edit)
    for span in program.spans:
        if span.cell not in by_cell:
            continue
        cell = document["cells"][span.cell - 1]
        source = cell.get("source", "")
        cell_text = "".join(source) if isinstance(source, list) else str(source)
        fixed = apply_edits(cell_text, by_cell[span.cell], first_line=span.first_line)
        cell["source"] = _NOTEBOOK_LINE.findall(fixed) if isinstance(source, list) else fixed
    newline = layout.pop("newline")
    rendered = bom + json.dumps(document, **layout) + ("\n" if newline else "")
    try:
        fixed_program = read_notebook(rendered.encode("utf-8"))
    except SourceError:
        return None
    return rendered if _parses(fixed_program.source) else None


# The summary's `(N fixable with --fix)` plans fixes with libcst, which holds ~1-2 kB of memory per byte of source:
# files larger than this are not planned (their findings count as not fixable there; `--fix` still tries them).
MAX_PLANNED_SOURCE = 200_000


def fixability(findings: list[Finding], texts: dict[str, str] | None = None) -> dict[Finding, bool]:
    """For each finding with a fix: True when it is safe, False when only an unsafe fix exists.

    Findings are planned file by file (`texts` holds text not on disk, such as standard input).
    """
    by_path: dict[str, list[Finding]] = {}
    for finding in findings:
        by_path.setdefault(finding.path, []).append(finding)
    result: dict[Finding, bool] = {}
    for path, located in by_path.items():
        try:
            text = texts[path] if texts and path in texts else read_text(path)
            if len(text) > MAX_PLANNED_SOURCE:
                continue  # libcst holds ~1-2 kB per byte of source: a large file's fixes are not counted
            program = read_notebook(text.encode("utf-8")) if path.endswith(".ipynb") else None
            planned = plan_for_text(text, located, program, unsafe=True)
        except Exception:  # counting fixes is an extra of the report: a file it cannot plan counts none
            continue
        result.update((item.finding, item.fix.safe) for item in planned)
    return result


def fixed_examples(rule: Rule) -> dict[int, tuple[str, bool]]:
    """Each bad example of the catalogue that `--fix` changes: its fixed text, and whether that took the unsafe
    fixes (what `lossguard explain` shows under the example)."""
    fixed: dict[int, tuple[str, bool]] = {}
    for index, example in enumerate(rule.bad):
        for unsafe in (False, True):
            try:
                outcome = fix_text(example, f"<{rule.code} example>.py", enabled=None, config=None, unsafe=unsafe)
            except SourceError:
                break
            if outcome.changed:
                fixed[index] = (outcome.fixed, unsafe)
                break
    return fixed
