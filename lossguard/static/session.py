"""Checking one file on its own: the unit that the process pool distributes and the cache stores.

Each checked file gets a fresh project index, so its result depends only on its own source, the project modules
its analysis reads, and the settings: never on which files the same process checked before (the interpreter's
state, memoised calls and findings live in the index's observers). That independence is what makes `--jobs N`
give the same output for every N, and what makes a cached result safe to reuse. Parsing is pure, so parsed trees
are shared between files through a small cache bounded by source size: a module imported by many checked files
is parsed once per process while it stays in the cache.
"""

from __future__ import annotations

import ast
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from lossguard.config import Config
from lossguard.findings import Finding
from lossguard.static.paths import display_path, displayed
from lossguard.static.source import FileSkipped, SourceError

# Python's trees take ~60-80 bytes of memory per byte of typical source: 512 kB of sources keeps ~40 MB of trees
# per process, enough for the modules most files of a package import.
_PARSE_CACHE_SOURCE_BYTES = 512_000


@dataclass
class FileResult:
    """What checking one file produced: findings in any checked file, one error line or None, modules read."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None  # the line saying why the file was too large to analyse
    dependencies: tuple[str, ...] = ()  # absolute paths of the other project modules the analysis read


class ParseCache:
    """Syntax trees by source text, least recently used first out, bounded by the total size of the sources.

    A source over `max_size` (an imported module over max-file-size) is not parsed: FileSkipped is raised (a
    checked file is reported as skipped; an import of it stays unknown). The syntax-node bound is checked before
    decoding, where the file is read (project.py).
    """

    def __init__(self, max_size: int, budget: int = _PARSE_CACHE_SOURCE_BYTES) -> None:
        self.max_size = max_size
        self.budget = budget
        self.size = 0
        self.parses = 0
        self._trees: OrderedDict[str, ast.Module] = OrderedDict()

    def __call__(self, source: str) -> ast.Module:
        tree = self._trees.get(source)
        if tree is not None:
            self._trees.move_to_end(source)
            return tree
        if len(source) > self.max_size:
            raise FileSkipped(f"{len(source) / 1e6:.1f} MB is over max-file-size ({self.max_size / 1e6:.1f} MB)")
        from lossguard.static import project

        self.parses += 1
        tree = project.parse(source)
        if len(source) <= self.budget:
            self._trees[source] = tree
            self.size += len(source)
            while self.size > self.budget:
                evicted, _ = self._trees.popitem(last=False)
                self.size -= len(evicted)
        return tree


class CheckSession:
    """The settings of one run and a parse cache; `check(file)` analyses one file independently of the others.

    `checked` maps the absolute path of every file of the run to the path as the user sees it: imported modules
    that are checked too report findings (a bad call into them), others are read silently.
    """

    def __init__(self, checked: dict[Path, str], enabled: frozenset[str] | None, config: Config) -> None:
        self.checked = checked
        self.enabled = enabled
        self.config = config
        self.parse = ParseCache(config.max_file_size)

    def check(self, file: str) -> FileResult:
        from lossguard.static import project

        key = Path(file).resolve()
        shown = display_path(file)
        index = project.ProjectIndex(set(self.checked), self.enabled, parser=self.parse)
        result = FileResult()
        try:
            index.analyse(index.observer_for_file(Path(file), display=shown))
        except FileSkipped as notice:
            result.skipped = notice.located(shown)
        except SourceError as error:
            result.error = error.located(shown)
        except RecursionError:
            result.error = f"{shown}:1:1: error: cannot check: the file nests too deeply"
        except Exception as error:  # a bug of lossguard's must not stop the other files from being checked
            result.error = f"{shown}:1:1: error: internal error, please report it: {type(error).__name__}: {error}"
        for module, observer in index.observers.items():
            if observer is None or module not in self.checked:
                continue
            for finding in observer.findings:  # a finding may lie in a module the checked file calls into:
                ignored = self.config.ignored_codes(finding.path)  # that module's per-file ignores apply
                if not any(finding.code.startswith(code) for code in ignored):
                    result.findings.append(displayed(finding))
        result.dependencies = tuple(sorted(str(k) for k in (*index.observers, *index.failures) if k != key))
        return result
