"""The optional behaviours of `lossguard check` that linter users expect: fixes, standard input, baselines,
unused suppressions, statistics and where the output goes. cli.py parses the options; this module does the work.
"""

from __future__ import annotations

import io
import os
import shutil
import sys
import tokenize
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

import click

from lossguard.config import Config
from lossguard.static.checker import CheckResult
from lossguard.findings import Finding
from lossguard.rules import RULES
from lossguard.static.paths import display_path
from lossguard.static.source import SourceError
from lossguard.static.source_lines import SourceLines

if TYPE_CHECKING:
    from lossguard.static.autofix import FileFixes

# From the catalogue, so that a check that fixes nothing never imports the fix engine (and libcst).
_FIXABLE = frozenset(rule.code for rule in RULES if rule.autofix)
# Planning a fix re-reads the file for each finding: past this many findings in one file, the rest are not counted
# in the summary's `(N fixable with --fix)` (a generated notebook of 2,000 findings took minutes).
MAX_PLANNED_PER_FILE = 20


@dataclass
class FixRun:
    """What `--fix` / `--diff` did over the files of a run."""

    files: list["FileFixes"] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def fixed(self) -> int:
        return sum(len(file.applied) for file in self.files)


def use_colour(stream: TextIO, environ: dict[str, str] | os._Environ = os.environ) -> bool:
    """Colour only on a terminal, and never when NO_COLOR is set (https://no-color.org)."""
    if environ.get("NO_COLOR"):
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def fix_files(findings: list[Finding], *, enabled: frozenset[str], config: Config, unsafe: bool,
              write: bool) -> FixRun:
    """Fix every file that has a finding of a rule with a fix; write the changed ones when `write`."""
    from lossguard.static.autofix import fix_text, read_text

    run = FixRun()
    paths = sorted({f.path for f in findings if f.code in _FIXABLE})
    for path in paths:
        try:
            fixed = fix_text(read_text(path), path, enabled=enabled, config=config, unsafe=unsafe)
        except SourceError as error:
            run.errors.append(error.located(path))
            continue
        except Exception as error:  # a bug of lossguard's must not stop the other files from being fixed
            run.errors.append(f"{path}:1:1: error: internal error while fixing, please report it: "
                              f"{type(error).__name__}: {error}")
            continue
        if not fixed.changed:
            continue
        if write:
            try:
                _write(path, fixed.fixed)
            except OSError as error:
                run.errors.append(f"{path}:1:1: error: cannot write the fix: {error.strerror or error}")
                continue
        run.files.append(fixed)
    return run


def _write(path: str, text: str) -> None:
    """Write fixed text back in the file's own encoding (a notebook: UTF-8), through a temporary file in the same
    folder and a rename, so an interrupted run never leaves a half-written file; the file's mode is kept."""
    if path.endswith(".ipynb"):
        data = text.encode("utf-8")
    else:
        with open(path, "rb") as handle:
            encoding, _ = tokenize.detect_encoding(handle.readline)
        data = text.encode(encoding)
    temporary = f"{path}.lossguard-fix.tmp"
    try:
        Path(temporary).write_bytes(data)
        shutil.copymode(path, temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def print_diff(result: CheckResult, texts: dict[str, str], stdin_filename: str | None, *,
               enabled: frozenset[str], config: Config, unsafe: bool, exit_zero: bool) -> int:
    """`--diff`: the fixes as a unified diff on stdout, what it would fix on stderr; the exit status."""
    from lossguard.static.autofix import fix_text

    if texts:
        (name, text), = texts.items()
        try:
            files = [fix_text(text, stdin_filename or name, enabled=enabled, config=config, unsafe=unsafe)]
        except SourceError as error:
            result.errors.append(error.located(name))
            files = []
    else:
        run = fix_files(result.findings, enabled=enabled, config=config, unsafe=unsafe, write=False)
        result.errors.extend(run.errors)
        files = run.files
    for error in result.errors:
        click.echo(error, err=True)
    click.echo("".join(file.diff() for file in files if file.changed), nl=False)
    count = sum(len(file.applied) for file in files)
    noun = "problem" if count == 1 else "problems"
    click.echo(f"Would fix {count} {noun}." if count else "No fixes available.", err=True)
    if result.errors:
        return 2
    return 1 if count and not exit_zero else 0


def fix_standard_input(texts: dict[str, str], stdin_filename: str | None, *, enabled: frozenset[str],
                       config: Config, unsafe: bool, quiet: bool, show_source: bool, exit_zero: bool) -> int:
    """`--fix` on standard input, as ruff does it: the fixed source on stdout, the report on stderr."""
    from lossguard.static.autofix import fix_text

    from lossguard.formats import render
    from lossguard.static.checker import check_file_text

    (name, text), = texts.items()
    path = stdin_filename or name
    try:
        outcome = fix_text(text, path, enabled=enabled, config=config, unsafe=unsafe)
        remaining = check_file_text(outcome.fixed, path, enabled, config)[0]
    except SourceError as error:
        click.echo(text, nl=False)  # an editor replaces its buffer with stdout: hand the text back unchanged
        click.echo(error.located(name), err=True)
        return 2
    click.echo(outcome.fixed, nl=False)
    report = render(remaining, "text", quiet=quiet, files_checked=1, fixed=len(outcome.applied),
                    sources=SourceLines({name: outcome.fixed}) if show_source else None)
    if report:
        click.echo(report, err=True)
    return 1 if remaining and not exit_zero else 0


def read_stdin() -> str:
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode("utf-8")
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        raise click.UsageError(f"cannot decode standard input: {error}") from None


def fixable_summary(findings: list[Finding], texts: dict[str, str] | None = None) -> dict[Finding, bool]:
    """Which findings have a fix (True: safe), planned only for files with a finding of a rule that has one."""
    candidates = [f for f in findings if f.code in _FIXABLE]
    if not candidates:
        return {}
    from lossguard.static.autofix import fixability  # the fix engine and libcst only when something may be fixed

    paths = {f.path for f in candidates}
    per_file: dict[str, int] = {}
    planned = []
    for finding in findings:
        if finding.path in paths and per_file.get(finding.path, 0) < MAX_PLANNED_PER_FILE:
            per_file[finding.path] = per_file.get(finding.path, 0) + 1
            planned.append(finding)
    return fixability(planned, texts)


def stdin_name(stdin_filename: str | None) -> str:
    return display_path(stdin_filename) if stdin_filename else "<stdin>"


def unused_suppressions(paths: list[str], texts: dict[str, str], stdin_filename: str | None,
                        enabled: frozenset[str], config: Config) -> list[str]:
    """One line per suppression comment that silences none of its lossguard codes, in the files of the run."""
    from lossguard.static.autofix import read_text

    from lossguard.static.discover import discover
    from lossguard.static.unused_noqa import unused_noqa

    if texts:
        (shown, text), = texts.items()
        jobs = [(stdin_filename or shown, shown, text)]
    else:
        files, _ = discover(paths or ["."])
        jobs = []
        for path in files:
            if config.is_excluded(path):
                continue
            try:
                jobs.append((path, display_path(path), read_text(path)))
            except SourceError:
                continue  # already an error line of the check
    lines = []
    for path, shown, text in jobs:
        try:
            lines.extend(item.text() for item in unused_noqa(text, path, shown, enabled, config))
        except SourceError:
            continue
    return lines
