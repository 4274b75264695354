"""The static checker: files in, findings out. Never imports or runs the code it reads.

A file larger than max-file-size is skipped before it is read. A cheap byte-level pre-filter decides which files
can start an analysis (most files of a real project mention no loss at all). Each remaining file is checked on
its own (session.py), from the result cache when nothing it depends on changed (cache.py), in this process or in
a pool of processes (pool.py); results are merged in file order, so the output is the same whatever the number
of processes or the state of the cache. One bad file never stops the others: it becomes one error line.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lossguard.config import Config
from lossguard.contracts import prefilter_vocabulary
from lossguard.findings import Finding, sort_findings
from lossguard.static.discover import discover
from lossguard.static.importers import imported_by_a_candidate
from lossguard.static.notebook import NotebookProgram, read_notebook
from lossguard.static.paths import display_path, displayed
from lossguard.static.project import ProjectIndex
from lossguard.static.session import FileResult
from lossguard.static.source import SourceError

if TYPE_CHECKING:
    from lossguard.static.cache import ResultCache

_VOCABULARY = prefilter_vocabulary()
_VOCABULARY_PATTERN = re.compile(b"|".join(re.escape(word) for word in sorted(_VOCABULARY, key=len, reverse=True)))
# Below this many files to analyse, starting processes costs more than it saves: check them in this process.
MIN_FILES_FOR_POOL = 6


@dataclass
class CheckResult:
    findings: list[Finding] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # one line per path that could not be checked
    skipped: list[str] = field(default_factory=list)  # one line per file over the size bounds, not analysed
    files_checked: int = 0


def may_call_a_loss(data: bytes) -> bool:
    """The pre-filter: False only when no loss name occurs in the file, so no analysis needs to start there."""
    return _VOCABULARY_PATTERN.search(data) is not None


def check_source(source: str, path: str = "<string>", enabled: frozenset[str] | None = None) -> list[Finding]:
    """Findings for one module's source text (imports resolve next to `path` when it exists on disk).

    Raises SourceError when the source does not parse.
    """
    from lossguard.static.project import ProjectIndex

    key = Path(path).resolve() if Path(path).is_file() else None
    index = ProjectIndex({key} if key else set(), enabled)
    observer = index.observer_for_source(source, path, key)
    index.analyse(observer)
    return sort_findings(observer.findings)


def check_file_text(text: str, path: str, enabled: frozenset[str] | None = None,
                    config: Config | None = None) -> tuple[list[Finding], NotebookProgram | None]:
    """The findings of one file's text as it would be on disk at `path` (a .py source, or a notebook's JSON).

    What `--fix` re-checks between passes and what standard input is checked as: the text need not be on disk,
    but imports resolve next to `path`. Per-file ignores of `config` apply. Raises SourceError.
    """
    shown = display_path(path)
    key = Path(path).resolve()
    index = ProjectIndex({key}, enabled)
    program = read_notebook(text.encode("utf-8")) if path.endswith(".ipynb") else None
    if program is None:
        observer = index.observer_for_source(text, shown, key)
    else:
        try:
            observer = index.observer_for_source(program.source, shown, key, program.locate)
        except SourceError as error:
            error.cell, error.line = program.locate(error.line)
            raise
    ignored = (config or Config()).ignored_codes(path)
    index.analyse(observer)
    findings = [displayed(f) for f in observer.findings if not any(f.code.startswith(c) for c in ignored)]
    return sort_findings(findings), program


def _size_text(size: int) -> str:
    if size >= 1_000_000:
        return f"{size / 1_000_000:.1f} MB"
    return f"{size / 1_000:.1f} kB" if size >= 1_000 else f"{size} bytes"


def check_paths(paths: list[str], enabled: frozenset[str] | None = None, config: Config | None = None, *,
                jobs: int = 1, cache_folder: Path | None = None) -> CheckResult:
    """Check every file under `paths`; unreadable or unparsable files become error lines, not exceptions.

    `config` excludes files (named ones too, as pre-commit names them), ignores codes per file and bounds the
    size of a file. `jobs` > 1 checks in that many processes when there are enough files to pay for them.
    `cache_folder` stores and reuses results (None: no cache).
    """
    config = config or Config()
    files, discovery_errors = discover(paths)
    files = [file for file in files if not config.is_excluded(file)]
    checked = {Path(file).resolve(): file for file in files}
    cache = _open_cache(cache_folder, checked, enabled, config) if cache_folder is not None else None
    result = CheckResult()
    outcomes: dict[str, FileResult | str] = {}  # a file's result, or the error line of a file that was not read
    content_hashes: dict[str, str] = {}
    todo: list[str] = []
    imports = ProjectIndex()  # only resolves imports, for the pre-filter: nothing is parsed here
    for file in files:
        try:
            size = os.stat(file).st_size
            if size > config.max_file_size:
                result.skipped.append(f"{display_path(file)}: skipped: {_size_text(size)} is over max-file-size "
                                      f"({_size_text(config.max_file_size)})")
                continue
            result.files_checked += 1
            data = Path(file).read_bytes()
        except OSError as error:
            result.files_checked += 1
            outcomes[file] = f"{display_path(file)}:1:1: error: cannot read: {error.strerror or error}"
            continue
        if (not may_call_a_loss(data) and not imports.imports_a_candidate(Path(file), data, may_call_a_loss)
                and not imported_by_a_candidate(imports, Path(file), data, may_call_a_loss)):
            continue
        if cache is not None:
            key = Path(file).resolve()
            content_hashes[file] = cache.hash_of(str(key), data)
            cached = cache.load(key, content_hashes[file])
            if cached is not None:
                outcomes[file] = cached
                continue
        todo.append(file)
    for file, outcome in _check_files(todo, jobs, checked, enabled, config).items():
        outcomes[file] = outcome
        if cache is not None:
            cache.store(Path(file).resolve(), content_hashes[file], outcome)
    result.errors = list(discovery_errors)
    for file in files:
        outcome = outcomes.get(file)
        if isinstance(outcome, str):
            result.errors.append(outcome)
        elif outcome is not None:
            result.findings.extend(outcome.findings)
            if outcome.skipped is not None:  # too large to analyse after all: skipped, as over max-file-size
                result.skipped.append(outcome.skipped)
                result.files_checked -= 1
            if outcome.error is not None:
                result.errors.append(outcome.error)
    result.findings = sort_findings(result.findings)
    return result


def available_cpus() -> int:
    """The CPUs this process may run on (affinity and cgroup-aware where Python can tell): `--jobs` by default."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+
    if counter is not None:
        return counter() or 1
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _check_files(files: list[str], jobs: int, checked: dict[Path, str], enabled: frozenset[str] | None,
                 config: Config) -> dict[str, FileResult]:
    if jobs > 1 and len(files) >= MIN_FILES_FOR_POOL:
        from lossguard.static import pool

        return pool.check_in_pool(files, min(jobs, len(files)), checked, enabled, config)
    from lossguard.static.session import CheckSession

    session = CheckSession(checked, enabled, config)
    return {file: session.check(file) for file in files}


def _open_cache(folder: Path, checked: dict[Path, str], enabled: frozenset[str] | None,
                config: Config) -> ResultCache:
    """The cache for this run's settings; a file's treatment is whether the run checks it and its ignores."""
    from lossguard.static.cache import ResultCache

    def treatment(path: str) -> object:
        shown = checked.get(Path(path))
        return [shown, sorted(config.ignored_codes(shown)) if shown is not None else []]

    settings = [sorted(enabled) if enabled is not None else None, os.getcwd()]
    return ResultCache(folder, settings, treatment)


def default_cache_folder(paths: list[str], config: Config) -> Path:
    """`.lossguard_cache` next to the pyproject.toml in use, else in the deepest folder holding every path."""
    from lossguard.static.cache import CACHE_FOLDER

    if config.source is not None:
        return Path(config.source).resolve().parent / CACHE_FOLDER
    folders = [str(Path(p).resolve() if Path(p).is_dir() else Path(p).resolve().parent) for p in paths]
    try:
        return Path(os.path.commonpath(folders)) / CACHE_FOLDER
    except ValueError:  # paths on different drives
        return Path(os.getcwd()) / CACHE_FOLDER
