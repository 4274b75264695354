"""The result cache (`.lossguard_cache/`): a file's findings and error line, reused while nothing they read changed.

An entry is found by the file's path, its content hash, how the run treats it (the path shown, its per-file
ignores) and the run's settings digest (lossguard's version, a hash of lossguard's own source files so that a
development checkout invalidates itself, the enabled codes, the working folder that shown paths are relative to).
It is used only if every project module that the file's analysis read still has the content hash, and the same
treatment (checked or only read, per-file ignores), as recorded in it: `train.py` is re-checked when `models.py`
or anything `models.py` imports changes.

An entry is data from disk, never trusted: anything that does not read back as exactly the expected shape is a
miss, and the file is checked again. Writes go to a temporary file renamed into place, so parallel workers and
parallel runs never leave a half-written entry. A cache folder that cannot be created or written is silently no
cache at all.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable

from lossguard import __version__
from lossguard.findings import Finding, Location
from lossguard.rules import get_rule
from lossguard.static.session import FileResult

CACHE_FOLDER = ".lossguard_cache"
_FORMAT = 2


def _digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_SOURCE_HASH: str | None = None


def lossguard_source_hash() -> str:
    """A hash of lossguard's own .py files: an edited checkout must not reuse results of the code it replaced."""
    global _SOURCE_HASH
    if _SOURCE_HASH is None:
        package = Path(__file__).resolve().parent.parent
        digest = hashlib.sha256()
        for path in sorted(package.rglob("*.py")):
            digest.update(path.relative_to(package).as_posix().encode())
            digest.update(path.read_bytes())
        _SOURCE_HASH = digest.hexdigest()
    return _SOURCE_HASH


class ResultCache:
    """Entries under `folder`, for one run's settings (see the module docstring for what the key holds)."""

    def __init__(self, folder: Path, settings: object, treatment: Callable[[str], object]) -> None:
        """`treatment(path)`: how this run treats a file, as JSON data (whether it is checked, its ignores)."""
        self.folder = folder
        self.treatment = treatment
        self.settings = _digest(__version__, lossguard_source_hash(), settings)
        self.usable = self._prepare()
        self._hashes: dict[str, str | None] = {}

    def _prepare(self) -> bool:
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            ignore = self.folder / ".gitignore"
            if not ignore.exists():
                self._write_atomically(ignore, "# created by lossguard: the result cache is not source\n*\n")
            return os.access(self.folder, os.W_OK)
        except OSError:
            return False

    def _entry_path(self, key: Path, content_hash: str) -> Path:
        name = _digest(str(key), content_hash, self.settings, self.treatment(str(key)))
        return self.folder / name[:2] / f"{name[2:]}.json"

    def hash_of(self, path: str, data: bytes | None = None) -> str | None:
        """The content hash of a file (`data`: its bytes, already read), read once per run; None if unreadable."""
        if path not in self._hashes:
            try:
                self._hashes[path] = file_hash(data if data is not None else Path(path).read_bytes())
            except OSError:
                self._hashes[path] = None
        return self._hashes[path]

    def _state(self, path: str) -> list[Any] | None:
        """What a result depends on in a module it read: the module's content and how this run treats it."""
        content = self.hash_of(path)
        return None if content is None else json.loads(json.dumps([content, self.treatment(path)]))

    def load(self, key: Path, content_hash: str) -> FileResult | None:
        """The stored result of a file with this content, if every module it read is unchanged; else None."""
        if not self.usable:
            return None
        try:
            with open(self._entry_path(key, content_hash), encoding="utf-8") as handle:
                entry = json.load(handle)
            return self._valid(entry)
        except (OSError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None

    def _valid(self, entry: Any) -> FileResult | None:
        if not isinstance(entry, dict) or entry.get("format") != _FORMAT or entry.get("settings") != self.settings:
            return None
        dependencies = entry["dependencies"]
        if not isinstance(dependencies, dict):
            return None
        for path, recorded in dependencies.items():
            if self._state(path) != recorded:
                return None
        error, skipped = entry["error"], entry["skipped"]
        if not all(line is None or isinstance(line, str) for line in (error, skipped)):
            return None
        findings = [_finding_from_json(item) for item in entry["findings"]]
        return FileResult(findings, error, skipped, tuple(sorted(dependencies)))

    def store(self, key: Path, content_hash: str, result: FileResult) -> None:
        """Record a result; a dependency that cannot be read any more means the result is not stored."""
        if not self.usable:
            return
        dependencies = {path: self._state(path) for path in result.dependencies}
        if any(value is None for value in dependencies.values()):
            return
        entry = {
            "format": _FORMAT, "settings": self.settings, "dependencies": dependencies, "error": result.error,
            "skipped": result.skipped,
            "findings": [_finding_to_json(finding) for finding in result.findings],
        }
        path = self._entry_path(key, content_hash)
        try:
            path.parent.mkdir(exist_ok=True)
            self._write_atomically(path, json.dumps(entry))
        except OSError:
            self.usable = False

    @staticmethod
    def _write_atomically(path: Path, text: str) -> None:
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".json")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, path)
        except BaseException:
            try:
                os.unlink(temporary)
            except OSError:
                pass
            raise


def _finding_to_json(finding: Finding) -> dict[str, Any]:
    return {
        "code": finding.code, "path": finding.path, "line": finding.line, "column": finding.column,
        "end_line": finding.end_line, "end_column": finding.end_column, "message": finding.message,
        "cell": finding.cell,
        "related": [[loc.path, loc.line, loc.column, loc.cell] for loc in finding.related],
    }


def _int(value: Any, optional: bool = False) -> int | None:
    if optional and value is None:
        return None
    if type(value) is not int:
        raise TypeError("not an integer")
    return value


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not a string")
    return value


def _finding_from_json(item: Any) -> Finding:
    """A finding read back, checked field by field (a wrong type raises TypeError, an unknown code KeyError)."""
    get_rule(_str(item["code"]))
    related = tuple(Location(_str(path), _int(line), _int(column), _int(cell, optional=True))
                    for path, line, column, cell in item["related"])
    return Finding(
        code=item["code"], path=_str(item["path"]), line=_int(item["line"]), column=_int(item["column"]),
        end_line=_int(item["end_line"]), end_column=_int(item["end_column"]), message=_str(item["message"]),
        related=related, cell=_int(item["cell"], optional=True),
    )
