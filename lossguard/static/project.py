"""The project index: every module of one run, parsed once, and the resolver behind cross-module imports.

`from models import Net`, `from .model import Net`, `from pkg.nets import build_model` and `import models` are
resolved to the project's own files the way Python would find them from the project root (the nearest folder
with pyproject.toml / setup.py / setup.cfg / .git), from its `src/` folder, and from the importing file's folder.
A module is parsed and interpreted at most once per run, whether it is checked, imported, or both.
"""

from __future__ import annotations

import ast
import os
import threading
from pathlib import Path
from typing import Callable

import libcst as cst

from lossguard.static.flow import ModuleObserver, _no_cells
from lossguard.static.notebook import read_notebook
from lossguard.static.source import SourceError, decode_python
from lossguard.static.values import ModuleRef, Value

_ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")


def parse(source: str) -> cst.Module:
    """libcst's parse of source that Python itself accepts, with Python's location and wording otherwise.

    Python's own parser runs first: it is ~10x faster than libcst, its error messages are exact, and it rejects the
    pathological inputs (thousands of nested brackets or chained operators) on which libcst's native parser
    overflows the C stack or runs for minutes. libcst then runs on a thread with a large stack, so the deepest code
    Python accepts cannot crash the process.
    """
    try:
        ast.parse(source)
    except SyntaxError as error:
        python_error: SourceError | None = SourceError(f"cannot parse: {error.msg}", error.lineno or 1, error.offset or 1)
    except (RecursionError, MemoryError):
        raise SourceError("cannot parse: the code nests too deeply for Python's parser") from None
    except ValueError as error:  # e.g. source code containing null bytes
        raise SourceError(f"cannot parse: {error}") from None
    else:
        python_error = None
    try:
        return _on_large_stack(cst.parse_module, source)
    except cst.ParserSyntaxError as error:
        if python_error is not None:
            raise python_error from None
        message = str(error.message).splitlines()[0] if error.message else "invalid syntax"
        raise SourceError(f"cannot parse: {message}", error.raw_line, error.raw_column + 1) from None
    except (RecursionError, ValueError) as error:
        raise python_error or SourceError(f"cannot parse: {error}") from None


_LARGE_STACK = 256 * 1024 * 1024


def _on_large_stack(function: Callable[[str], cst.Module], source: str) -> cst.Module:
    """Run `function(source)` on a thread whose stack is large enough for libcst's recursive native parser."""
    outcome: list[object] = []

    def target() -> None:
        try:
            outcome.append(function(source))
        except BaseException as error:  # handed back to the caller's thread
            outcome.append(error)

    previous = threading.stack_size(_LARGE_STACK)
    try:
        worker = threading.Thread(target=target, name="lossguard-parse")
        worker.start()
    finally:
        threading.stack_size(previous)
    worker.join()
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result  # type: ignore[return-value]


def project_root(directory: Path) -> Path:
    for folder in (directory, *directory.parents):
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
    return directory


class ProjectIndex:
    """Observers by file, created on first need. `checked` are the files the user asked about (absolute)."""

    def __init__(self, checked: set[Path] | None = None, enabled: frozenset[str] | None = None,
                 parser: Callable[[str], cst.Module] = parse) -> None:
        self.checked = checked or set()
        self.parser = parser  # the checker passes a cache shared between the files of one process
        self.enabled = enabled
        self.observers: dict[Path, ModuleObserver | None] = {}  # None: being read, or could not be
        self.failures: dict[Path, SourceError] = {}
        self._roots: dict[Path, list[Path]] = {}

    # ------------------------------------------------------------------ observers
    def observer_for_source(self, source: str, display: str, key: Path | None, locate=_no_cells) -> ModuleObserver:
        module = self.parser(source)
        observer = ModuleObserver(module, display, self.enabled,
                                  reporting=key is None or key in self.checked, resolver=self.resolve, locate=locate,
                                  lines=source.splitlines())
        observer.file = key  # type: ignore[attr-defined]
        if key is not None:
            self.observers[key] = observer
        return observer

    def observer_for_file(self, path: Path, display: str | None = None) -> ModuleObserver:
        """The observer of a .py or .ipynb file, parsed once. Raises SourceError for unreadable files."""
        key = path.resolve()
        if key in self.failures:
            raise self.failures[key]
        if key in self.observers:
            cached = self.observers[key]
            if cached is None:
                raise SourceError("cannot resolve a circular import while reading it")
            return cached
        self.observers[key] = None
        try:
            return self._read(key, display or _display(key))
        except SourceError as error:
            self.failures[key] = error
            raise

    def _read(self, key: Path, shown: str) -> ModuleObserver:
        try:
            data = key.read_bytes()
        except OSError as error:
            raise SourceError(f"cannot read: {error.strerror or error}") from None
        if key.suffix == ".ipynb":
            program = read_notebook(data)
            try:
                return self.observer_for_source(program.source, shown, key, program.locate)
            except SourceError as error:
                error.cell, error.line = program.locate(error.line)
                raise
        return self.observer_for_source(decode_python(data), shown, key)

    # ------------------------------------------------------------------ imports
    def resolve(self, qualified: str, importer: ModuleObserver) -> Value:
        """The value that `qualified` (an import's full name, maybe relative) denotes in the project, if any."""
        base_file: Path | None = getattr(importer, "file", None)
        if base_file is None:
            return None
        dots = len(qualified) - len(qualified.lstrip("."))
        parts = [part for part in qualified[dots:].split(".") if part]
        for split in range(len(parts), -1 if dots else 0, -1):
            module_parts, attributes = parts[:split], parts[split:]
            target = self._find_module(module_parts, base_file, dots)
            if target is None or target.resolve() == base_file:
                continue
            try:
                observer = self.observer_for_file(target)
            except SourceError:
                return None
            if not attributes:
                return ModuleRef(observer)
            if len(attributes) == 1:
                return observer.export(attributes[0])
            return None
        return None

    def _find_module(self, parts: list[str], importer: Path, dots: int) -> Path | None:
        if dots:
            folder = importer.parent
            for _ in range(dots - 1):
                folder = folder.parent
            roots = [folder]
        else:
            roots = self._roots_for(importer.parent)
        for root in roots:
            stem = root.joinpath(*parts) if parts else root
            for candidate in (stem.with_suffix(".py") if parts else None, stem / "__init__.py"):
                if candidate is not None and candidate.is_file():
                    return candidate
        return None

    def _roots_for(self, directory: Path) -> list[Path]:
        if directory not in self._roots:
            root = project_root(directory)
            roots = [directory, root, root / "src"]
            top = directory
            while (top / "__init__.py").exists() and top.parent != top:
                top = top.parent
            roots.append(top)
            self._roots[directory] = list(dict.fromkeys(r for r in roots if r.is_dir()))
        return self._roots[directory]


def _display(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)
