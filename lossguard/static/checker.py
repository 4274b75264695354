"""The static checker: files in, findings out. Never imports or runs the code it reads.

A cheap byte-level pre-filter decides which files can start an analysis (most files of a real project mention no
loss at all); the project index parses each needed module once, for the files checked and for the project modules
they import. One bad file never stops the others: it becomes one error line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lossguard.config import Config
from lossguard.contracts import prefilter_vocabulary
from lossguard.findings import Finding, sort_findings
from lossguard.static.discover import discover
from lossguard.static.project import ProjectIndex
from lossguard.static.source import FileSkipped, SourceError

_VOCABULARY = prefilter_vocabulary()


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per path that could not be checked
    skipped: list[str] = field(default_factory=list)  # one line per file deliberately not analysed
    files_checked: int = 0


def may_call_a_loss(data: bytes) -> bool:
    """The pre-filter: False only when no loss name occurs in the file, so no analysis needs to start there."""
    return any(word in data for word in _VOCABULARY)


def check_source(source: str, path: str = "<string>", enabled: frozenset[str] | None = None) -> list[Finding]:
    """Findings for one module's source text (imports resolve next to `path` when it exists on disk).

    Raises SourceError when the source does not parse.
    """
    key = Path(path).resolve() if Path(path).is_file() else None
    index = ProjectIndex({key} if key else set(), enabled)
    observer = index.observer_for_source(source, path, key)
    index.analyse(observer)
    return sort_findings(observer.findings)


def check_paths(paths: list[str], enabled: frozenset[str] | None = None, config: Config | None = None) -> CheckResult:
    """Check every file under `paths`; unreadable or unparsable files become error lines, not exceptions.

    `config` excludes files (named ones too, as pre-commit names them) and ignores codes per file.
    """
    config = config or Config()
    files, errors = discover(paths)
    files = [file for file in files if not config.is_excluded(file)]
    result = CheckResult(errors=list(errors))
    checked = {Path(file).resolve(): file for file in files}
    index = ProjectIndex(set(checked), enabled)
    for file in files:
        result.files_checked += 1
        try:
            data = Path(file).read_bytes()
            if not may_call_a_loss(data) and not index.imports_a_candidate(Path(file), data, may_call_a_loss):
                continue
            index.analyse(index.observer_for_file(Path(file), display=file))
        except FileSkipped as notice:
            result.skipped.append(notice.located(file))
        except SourceError as error:
            result.errors.append(error.located(file))
        except OSError as error:
            result.errors.append(f"{file}:1:1: error: cannot read: {error.strerror or error}")
        except RecursionError:
            result.errors.append(f"{file}:1:1: error: cannot check: the file nests too deeply")
        except Exception as error:  # a bug of lossguard's must not stop the other files from being checked
            result.errors.append(f"{file}:1:1: error: internal error, please report it: {type(error).__name__}: {error}")
    for key, observer in index.observers.items():
        if observer is not None and key in checked:
            ignored = config.ignored_codes(checked[key])
            result.findings.extend(f for f in observer.findings if not any(f.code.startswith(c) for c in ignored))
    result.findings = sort_findings(result.findings)
    return result
