"""Checking one file on its own: the unit that the process pool distributes and the cache stores.

Each checked file gets a fresh project index, so its result depends only on its own source, the project modules
its analysis reads, and the settings: never on which files the same process checked before (the interpreter's
state, memoised calls and findings live in the index's observers). That independence is what makes `--jobs N`
give the same output for every N, and what makes a cached result safe to reuse. Parsing is pure, so parsed trees
are shared between files through a small cache bounded by source size: a module imported by many checked files
is parsed once per process while it stays in the cache. libcst is imported only when a file is checked, so a run
whose files all fail the pre-filter (or hit the result cache) never pays for importing it.
"""

from __future__ import annotations

import dataclasses
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from lossguard.config import Config
from lossguard.findings import Finding
from lossguard.static.source import SourceError

if TYPE_CHECKING:
    import libcst as cst

# libcst needs about 2.2 kB of memory per token (a 490 kB list literal of 245,000 items: 1.1 GB), and a little
# more than that goes to the rest of the analysis: 100,000 tokens keep one file under 300 MB. The biggest real
# modules measured have 25,000-60,000 (modeling_utils.py of transformers: 256 kB, 43,000 by the estimate below).
MAX_TOKENS = 100_000
_TOKEN = re.compile(r"\w+|[^\w\s]")
# About 230 bytes of memory per byte of typical source once parsed (modeling_utils.py of transformers, 256 kB:
# 58 MB): ~120 MB of trees at most per process, enough to keep the modules that most files of a package import.
_PARSE_CACHE_SOURCE_BYTES = 512_000


class TooLarge(SourceError):
    """A module too large to analyse within the memory budget: skipped, not an error."""


@dataclass
class FileResult:
    """What checking one file produced: findings in any checked file, one error line or None, modules read."""

    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    skipped: str | None = None  # the line saying why the file was too large to analyse
    dependencies: tuple[str, ...] = ()  # absolute paths of the other project modules the analysis read


class ParseCache:
    """libcst trees by source text, least recently used first out, bounded by the total size of the sources.

    A source over `max_size` (an imported module over max-file-size) or over MAX_TOKENS is not parsed: TooLarge is
    raised (a checked file is reported as skipped; an import of it stays unknown). The tokens are estimated with one
    regular expression (words and single punctuation marks: about 15 ms for 250 kB, 2% of libcst's parse).
    """

    def __init__(self, max_size: int, budget: int = _PARSE_CACHE_SOURCE_BYTES) -> None:
        self.max_size = max_size
        self.budget = budget
        self.size = 0
        self.parses = 0
        self._trees: OrderedDict[str, cst.Module] = OrderedDict()

    def __call__(self, source: str) -> cst.Module:
        tree = self._trees.get(source)
        if tree is not None:
            self._trees.move_to_end(source)
            return tree
        if len(source) > self.max_size:
            raise TooLarge(f"{len(source) / 1e6:.1f} MB is over max-file-size ({self.max_size / 1e6:.1f} MB)")
        tokens = sum(1 for _ in _TOKEN.finditer(source))
        if tokens > MAX_TOKENS:
            raise TooLarge(f"about {tokens:,} tokens is over the {MAX_TOKENS:,} that one analysis may hold in memory")
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
        index = project.ProjectIndex(set(self.checked), self.enabled, parser=self.parse)
        result = FileResult()
        try:
            index.observer_for_file(Path(file), display=file).run()
        except TooLarge as error:
            result.skipped = f"{file}: skipped: {error.reason}"
        except SourceError as error:
            result.error = error.located(file)
        except RecursionError:
            result.error = f"{file}:1:1: error: cannot check: the file nests too deeply"
        except Exception as error:  # a bug of lossguard's must not stop the other files from being checked
            result.error = f"{file}:1:1: error: internal error, please report it: {type(error).__name__}: {error}"
        shown = {observer.path: self.checked[k] for k, observer in index.observers.items()
                 if observer is not None and k in self.checked}
        for module, observer in index.observers.items():
            if observer is None or module not in self.checked:
                continue
            ignored = self.config.ignored_codes(self.checked[module])
            result.findings.extend(_shown_as(finding, shown) for finding in observer.findings
                                   if not any(finding.code.startswith(code) for code in ignored))
        result.dependencies = tuple(sorted(str(k) for k in (*index.observers, *index.failures) if k != key))
        return result


def _shown_as(finding: Finding, shown: dict[str, str]) -> Finding:
    """The finding with every path as the user named the file (an imported module's observer uses its own)."""
    if finding.path not in shown and not any(location.path in shown for location in finding.related):
        return finding
    related = tuple(dataclasses.replace(location, path=shown.get(location.path, location.path))
                    for location in finding.related)
    return dataclasses.replace(finding, path=shown.get(finding.path, finding.path), related=related)

