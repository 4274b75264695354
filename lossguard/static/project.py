"""The project index: every module of one run, parsed once, and the resolver behind cross-module imports.

`from models import Net`, `from .model import Net`, `from pkg.nets import build_model` and `import models` are
resolved to the project's own files the way Python would find them from the project root (the nearest folder
with pyproject.toml / setup.py / setup.cfg / .git), from its `src/` folder, and from the importing file's folder.
A module is parsed and interpreted at most once per run, whether it is checked, imported, or both.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from pathlib import Path
from typing import Callable

from lossguard.static.budget import Budget
from lossguard.static.conversions import ConversionLog
from lossguard.static.flow import ModuleObserver, _no_cells
from lossguard.static.notebook import read_notebook
from lossguard.static.paths import display_path
from lossguard.static.source import MAX_SYNTAX_NODES, FileSkipped, SourceError, decode_python, estimated_nodes
from lossguard.static.values import ModuleRef, Value

_ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", ".git")
_PARENT_ROOTS = 3
# Modules one checked file's analysis may read (its own, and what it imports, transitively). A training script
# reads a handful; a test file of a large library can pull in a hundred, each costing a parse and a module body.
MAX_MODULES_PER_ANALYSIS = 16
# `from .engine import x`, `from pkg.engine import x`, `import pkg.engine as e`: (leading dots, dotted module name).
_IMPORTED = re.compile(
    r"^[ \t]*(?:from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+\(?([\w, \t]*)|import[ \t]+([\w.]+))", re.MULTILINE)


def parse(source: str) -> ast.Module:
    """Python's own parse of the source, with Python's location and wording for what it rejects.

    Python's parser is the floor of any analysis (libcst's is 7-12x slower and its trees take ~10x the memory,
    gigabytes for a large generated file), it rejects the pathological inputs (thousands of nested brackets) with a
    clean error, and its warnings about the checked code (invalid escape sequences) are not lossguard's to print.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.parse(source)
    except SyntaxError as error:
        raise SourceError(f"cannot parse: {error.msg}", error.lineno or 1, error.offset or 1) from None
    except (RecursionError, MemoryError):
        raise SourceError("cannot parse: the code nests too deeply for Python's parser") from None
    except ValueError as error:  # e.g. source code containing null bytes
        raise SourceError(f"cannot parse: {error}") from None


def _check_size(source: bytes) -> None:
    nodes = estimated_nodes(source)
    if nodes > MAX_SYNTAX_NODES:
        raise FileSkipped(f"about {nodes:,} syntax nodes, over the {MAX_SYNTAX_NODES:,} one file may have")


def project_root(directory: Path) -> Path:
    for folder in (directory, *directory.parents):
        if any((folder / marker).exists() for marker in _ROOT_MARKERS):
            return folder
    return directory


class ProjectIndex:
    """Observers by file, created on first need. `checked` are the files the user asked about (absolute)."""

    def __init__(self, checked: set[Path] | None = None, enabled: frozenset[str] | None = None,
                 parser: Callable[[str], ast.Module] = parse) -> None:
        self.checked = checked or set()
        self.parser = parser  # the checker passes a cache shared between the files of one process
        self.enabled = enabled
        self.observers: dict[Path, ModuleObserver | None] = {}  # None: being read, or could not be
        self.failures: dict[Path, SourceError | FileSkipped] = {}
        self._roots: dict[Path, list[Path]] = {}
        self.budget = Budget()  # shared by every module one checked file's analysis reads; renewed per file
        self._candidate_imports: dict[tuple[Path, int], bool] = {}
        self._found_modules: dict[tuple[tuple[str, ...], Path, int], Path | None] = {}  # file-system look-ups
        self._names_a_loss: dict[Path, bool] = {}  # imported modules' pre-filter verdicts
        self.loss_naming_files: dict[Path, list[tuple[Path, bytes]]] = {}  # by folder, for the pre-filter
        self.conversions = ConversionLog()  # what the float conversions of one analysis were seen converting

    # ------------------------------------------------------------------ observers
    def observer_for_source(self, source: str, display: str, key: Path | None, locate=_no_cells) -> ModuleObserver:
        module = self.parser(source)
        observer = ModuleObserver(module, display, self.enabled,
                                  reporting=key is None or key in self.checked, resolver=self.resolve, locate=locate,
                                  lines=source.splitlines(), budget=self.budget)
        observer.file = key  # type: ignore[attr-defined]
        observer.conversions = self.conversions
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
        except (SourceError, FileSkipped) as error:
            self.failures[key] = error
            raise

    def _read(self, key: Path, shown: str) -> ModuleObserver:
        try:
            data = key.read_bytes()
        except OSError as error:
            raise SourceError(f"cannot read: {error.strerror or error}") from None
        if key.suffix == ".ipynb":
            program = read_notebook(data)
            _check_size(program.source.encode("utf-8"))  # the code cells, not the JSON around them
            try:
                return self.observer_for_source(program.source, shown, key, program.locate)
            except SourceError as error:
                error.cell, error.line = program.locate(error.line)
                raise
        _check_size(data)
        return self.observer_for_source(decode_python(data), shown, key)

    # ------------------------------------------------------------------ imports
    def analyse(self, observer: ModuleObserver) -> None:
        """Run one checked module with a fresh work budget sized from it (see budget.py), then the project modules
        nearby that import it, keeping the findings they cause in it (importers.py)."""
        observer.runs_as_program = True
        self._run(observer)
        checked = getattr(observer, "file", None)
        if checked is not None and observer.reporting:
            self._run_importers(observer, checked)
        for module in (observer, *self.observers.values()):  # once every path is read: guesses taken back
            if module is not None:
                module.findings[:] = [f for f in module.findings if not self.conversions.contradicts(f)]

    def _run_importers(self, observer: ModuleObserver, checked: Path) -> None:
        from lossguard.static.importers import importers_of

        for importer in importers_of(self, checked):
            if len(self.observers) >= MAX_MODULES_PER_ANALYSIS:
                break
            try:
                caller = self.observer_for_file(importer)
            except (SourceError, FileSkipped):
                continue
            caller.reporting = True  # fresh, not run yet: its calls into the checked module report
            caller.runs_as_program = True
            try:
                self._run(caller)
            except RecursionError:
                continue  # the importer nests deeper than the interpreter goes: what it causes is unknown
            observer.findings.extend(f for f in caller.findings if f.path == observer.path)

    def _run(self, observer: ModuleObserver) -> None:
        fresh = Budget.for_module(observer.node_count)
        self.budget.renew(fresh.left)
        observer.run()

    def resolve(self, qualified: str, importer: ModuleObserver) -> tuple[bool, Value]:
        """(whether the project has it, the value) for `qualified`, an import's full name, maybe relative."""
        base_file: Path | None = getattr(importer, "file", None)
        if base_file is None:
            return False, None
        at_cap = len(self.observers) >= MAX_MODULES_PER_ANALYSIS
        dots = len(qualified) - len(qualified.lstrip("."))
        parts = [part for part in qualified[dots:].split(".") if part]
        if parts:
            # `from unet import UNet3Plus`: the package's own name (a re-export) comes before a submodule of that
            # name, as in Python
            package = self._find_module(parts[:-1], base_file, dots) if (len(parts) > 1 or dots) else None
            if (package is not None and package.name == "__init__.py" and package.resolve() != base_file
                    and not (at_cap and self._unread(package))):
                try:
                    exported = self.observer_for_file(package).export(parts[-1])
                except (SourceError, FileSkipped):
                    exported = None
                if exported is not None:
                    return True, exported
        for split in range(len(parts), -1 if dots else 0, -1):
            module_parts, attributes = parts[:split], parts[split:]
            target = self._find_module(module_parts, base_file, dots)
            if target is None or target.resolve() == base_file:
                continue
            if at_cap and self._unread(target):
                return True, None  # bounded: one analysis reads at most this many modules; the rest are unknown
            try:
                observer = self.observer_for_file(target)
            except (SourceError, FileSkipped):
                return True, None
            if not attributes:
                return True, ModuleRef(observer)
            value: Value = ModuleRef(observer)
            for attribute in attributes:
                value = value.observer.export(attribute) if isinstance(value, ModuleRef) else None
            return True, value
        return (True, None) if at_cap else (False, None)

    def _unread(self, module: Path) -> bool:
        """Not read yet in this analysis: a module already read (the checked one, seen from a script that imports
        it) costs nothing more and stays within the cap on modules read."""
        return self.observers.get(module.resolve()) is None

    def imports_a_candidate(self, path: Path, data: bytes, is_candidate: Callable[[bytes], bool],
                            depth: int = 2) -> bool:
        """Whether a file that mentions no loss imports a project module that does (up to `depth` imports away):
        `train.py` that passes a model into `engine.train_epoch(model, criterion)` must be analysed too, since
        the finding it causes is reported through it. Imports are read with a regular expression, not parsed. Two
        imports away, not more: in a library package nearly every module reaches a loss in three (pytorch-lightning:
        3 files name a loss, 6 reach one in two imports, 97 in three)."""
        if depth == 0:
            return False
        if path.suffix == ".ipynb":  # its JSON quotes each line, so no `import` would start one: read its code
            try:
                data = read_notebook(data).source.encode("utf-8")
            except SourceError:
                return False  # analysed (and reported) only if it names a loss
        key = Path(os.path.abspath(path))  # no realpath: this runs for every file that names no loss
        if (key, depth) in self._candidate_imports:
            return self._candidate_imports[(key, depth)]
        self._candidate_imports[(key, depth)] = False  # guards import cycles
        found = False
        for dots, parts in imported_modules(data):
            for split in range(len(parts), 0 if not dots else -1, -1):
                target = self._find_module(parts[:split], key, dots)
                if target is None or Path(os.path.abspath(target)) == key:
                    continue
                found = self._imported_is_candidate(target, is_candidate, depth - 1)
                break
            if found:
                break
        self._candidate_imports[(key, depth)] = found
        return found

    def _imported_is_candidate(self, target: Path, is_candidate: Callable[[bytes], bool], depth: int) -> bool:
        """An imported module names a loss, or (depth permitting) imports one that does; its bytes read once."""
        named = self._names_a_loss.get(target)
        if named is None:
            try:
                data = target.read_bytes()
            except OSError:
                self._names_a_loss[target] = False
                return False
            named = self._names_a_loss[target] = is_candidate(data)
            if named or depth == 0:
                return named
            return self.imports_a_candidate(target, data, is_candidate, depth)
        if named or depth == 0:
            return named
        try:
            return self.imports_a_candidate(target, target.read_bytes(), is_candidate, depth)
        except OSError:
            return False

    def find_module(self, parts: list[str], importer: Path, dots: int) -> Path | None:
        """The project file behind a dotted module name imported by `importer` (with leading dots), or None."""
        return self._find_module(parts, importer, dots)

    def _find_module(self, parts: list[str], importer: Path, dots: int) -> Path | None:
        key = (tuple(parts), importer.parent, dots)
        if key not in self._found_modules:
            self._found_modules[key] = self._look_for_module(parts, importer, dots)
        return self._found_modules[key]

    def _look_for_module(self, parts: list[str], importer: Path, dots: int) -> Path | None:
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
            # with no marker file, a script run from a parent folder (`python main.py` at the top) imports
            # `src.model` from there: the nearest few parent folders are roots too
            roots.extend(list(directory.parents)[:_PARENT_ROOTS])
            self._roots[directory] = list(dict.fromkeys(r for r in roots if r.is_dir()))
        return self._roots[directory]


def imported_modules(data: bytes) -> list[tuple[int, list[str]]]:
    """(leading dots, dotted name split) of every module an import line may name, read with a regular expression:
    `from a.b import c, d` may name `a.b.c`, `a.b.d` (submodules) or `a.b`."""
    modules: list[tuple[int, list[str]]] = []
    for from_dots, from_module, names, plain_module in _IMPORTED.findall(data.decode("utf-8", errors="ignore")):
        if plain_module:
            modules.append((0, plain_module.split(".")))
            continue
        base = [part for part in from_module.split(".") if part]
        modules += [(len(from_dots), [*base, name.strip()]) for name in names.split(",") if name.strip()]
        modules.append((len(from_dots), base))
    return modules


def _display(path: Path) -> str:
    return display_path(str(path))
