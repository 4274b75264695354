"""The static checker: files in, findings out. Never imports or runs the code it reads.

A cheap byte-level pre-filter skips files that mention no loss at all (most files of a real project); the rest are
parsed with libcst, given positions, and handed to the observer. One bad file never stops the others: it becomes
one error line.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

import libcst as cst
from libcst.metadata import MetadataWrapper, PositionProvider

from lossguard.contracts import prefilter_vocabulary
from lossguard.findings import Finding, sort_findings
from lossguard.static.discover import discover
from lossguard.static.flow import ModuleObserver
from lossguard.static.source import SourceError, decode_python

_VOCABULARY = prefilter_vocabulary()


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per file that could not be checked
    files_checked: int = 0


def may_call_a_loss(data: bytes) -> bool:
    """The pre-filter: False only when no loss name occurs in the file, so it cannot contain a loss call."""
    return any(word in data for word in _VOCABULARY)


def check_source(source: str, path: str = "<string>", enabled: frozenset[str] | None = None) -> list[Finding]:
    """Findings for one module's source text. Raises SourceError when it does not parse."""
    try:
        module = cst.parse_module(source)
    except cst.ParserSyntaxError as error:
        raise _syntax_error(source, error) from None
    except (RecursionError, ValueError) as error:
        raise SourceError(f"cannot parse: {error}") from None
    wrapper = MetadataWrapper(module, unsafe_skip_copy=True)
    positions = wrapper.resolve(PositionProvider)
    return sort_findings(ModuleObserver(module, path, positions, enabled).run())


def _syntax_error(source: str, error: cst.ParserSyntaxError) -> SourceError:
    """Python's own location and wording when it agrees the source is invalid (libcst's are less exact)."""
    try:
        ast.parse(source)
    except SyntaxError as python_error:
        return SourceError(f"cannot parse: {python_error.msg}", python_error.lineno or 1, python_error.offset or 1)
    except (ValueError, RecursionError, MemoryError):
        pass
    message = str(error.message).splitlines()[0] if error.message else "invalid syntax"
    return SourceError(f"cannot parse: {message}", error.raw_line, error.raw_column + 1)


def check_file(path: str, enabled: frozenset[str] | None = None) -> list[Finding]:
    """Findings for one file. Raises SourceError when it cannot be read, decoded or parsed."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError as error:
        raise SourceError(f"cannot read: {error.strerror or error}") from None
    if not may_call_a_loss(data):
        return []
    return check_source(decode_python(data), path, enabled)


def check_paths(paths: list[str], enabled: frozenset[str] | None = None) -> CheckResult:
    """Check every file under `paths`; unreadable or unparsable files become error lines, not exceptions."""
    files, errors = discover(paths)
    result = CheckResult(errors=list(errors))
    for path in files:
        try:
            result.findings.extend(check_file(path, enabled))
        except SourceError as error:
            result.errors.append(f"{path}:{error.line}:{error.column}: error: {error.reason}")
        except RecursionError:
            result.errors.append(f"{path}:1:1: error: cannot check: the file nests too deeply")
        result.files_checked += 1
    result.findings = sort_findings(result.findings)
    return result
