"""The project scripts that import a checked module: how a trainer class or a loss module is really used.

A file checked alone (as pre-commit checks one staged file) often holds only half of a flow: `trainer.py` defines
the class whose `train()` calls `self.criterion(self.model(x), y)`, and `main.py` builds it with the model, the
loss and the argparse defaults. Read alone, the trainer's attributes are unknown and it stays silent; checking
`main.py` would report the finding in `trainer.py`. So the analysis of a checked module also runs the few project
modules nearby that import it, or that import such an importer (the entry script often reaches the checked module
through a module of helpers), keeping only the findings that lie in the checked module itself: the same findings
checking those importers would report there, no more.

Bounded: importers are looked for only in the checked file's folder and its parents up to the project root (where
entry scripts live), a fixed number of files per folder, small files only, with a byte test before the import
lines are read; at most `MAX_IMPORTERS` are run, each with its own work budget, within the shared cap on the modules
one analysis may read.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

if TYPE_CHECKING:
    from lossguard.static.project import ProjectIndex

MAX_IMPORTERS = 3
MAX_IMPORT_CHAIN = 2  # an importer, and an importer of an importer
MAX_FOLDERS = 4  # the checked file's folder and three parents, within the project root
MAX_FILES_PER_FOLDER = 48
MAX_IMPORTER_BYTES = 200_000
_LOSS_WORD = re.compile(rb"loss", re.IGNORECASE)


def importers_of(index: "ProjectIndex", checked: Path) -> list[Path]:
    """Project modules near `checked` whose imports resolve to it, nearest first; then, while fewer than
    `MAX_IMPORTERS` are found, the modules that import those (`main.py` imports `tasks_utils.py`, which builds the
    trainer class of the checked `task_module.py`), up to `MAX_IMPORT_CHAIN` links away."""
    if checked.suffix != ".py":
        return []  # a notebook is not imported
    found: list[Path] = []
    level = [checked]
    for _ in range(MAX_IMPORT_CHAIN):
        following: list[Path] = []
        for imported in level:
            for importer in _direct_importers(index, imported, {checked, *found}, MAX_IMPORTERS - len(found)):
                found.append(importer)
                following.append(importer)
            if len(found) >= MAX_IMPORTERS:
                return found
        level = following
    return found


def _direct_importers(index: "ProjectIndex", imported: Path, known: set[Path], limit: int) -> list[Path]:
    """At most `limit` modules near `imported` (its folder, then its parents) that import it, `known` left out."""
    from lossguard.static.project import imported_modules

    stem = imported.stem if imported.name != "__init__.py" else imported.parent.name
    needles = [stem.encode("utf-8")]
    size_limit = min(MAX_IMPORTER_BYTES, getattr(index.parser, "max_size", MAX_IMPORTER_BYTES))  # max-file-size
    found: list[Path] = []
    targets = {imported}  # and the package's __init__.py when it re-exports the module (`from .trainer import *`)
    package = imported.parent / "__init__.py"
    for folder in _nearby_folders(imported.parent):
        for candidate in _python_files(folder):
            if candidate in targets or candidate in known or candidate in index.observers:
                continue
            try:
                if candidate.stat().st_size > size_limit:
                    continue
                data = candidate.read_bytes()
            except OSError:
                continue
            if not any(needle in data for needle in needles):
                continue
            if any(_resolves_to(index, parts, candidate, dots, targets) for dots, parts in imported_modules(data)):
                if candidate == package.resolve():
                    targets.add(candidate)
                    needles.append(candidate.parent.name.encode("utf-8"))  # `from engine import Trainer`
                    continue
                found.append(candidate)
            if len(found) >= limit:
                return found
    return found


def imported_by_a_candidate(index: "ProjectIndex", path: Path, data: bytes,
                            is_candidate: Callable[[bytes], bool]) -> bool:
    """The pre-filter's question for a file that names no loss: does a module nearby that names one import it?
    A Lightning module or a trainer class calls `self.criterion(...)` without naming a loss; the module that
    builds it with `nn.CrossEntropyLoss()` does, and it is run as this file's importer. Only a file that speaks of
    a loss at all (the word in any case: `loss = self.criterion(...)`, `self.loss_fn`, a logged `val_loss`) is
    looked at: the models and datasets a training script imports hold no loss call, and analysing each of them
    would slow every run. Folders are listed and their loss-naming modules read once per run (cached on the
    index); only the direct importers are looked for."""
    from lossguard.static.project import imported_modules

    if path.suffix != ".py" or _LOSS_WORD.search(data) is None:
        return False
    checked = Path(os.path.abspath(path))
    needle = (checked.stem if checked.name != "__init__.py" else checked.parent.name).encode("utf-8")
    for folder in _nearby_folders(checked.parent):
        for candidate, data in _loss_naming_files(index, folder, is_candidate):
            if candidate != checked and needle in data and any(
                    _resolves_to(index, parts, candidate, dots, {checked}, resolved=False)
                    for dots, parts in imported_modules(data)):
                return True
    return False


def _nearby_folders(start: Path) -> Iterator[Path]:
    """`start` and its parents, at most `MAX_FOLDERS`, up to the project root when a marker file names one (with
    none, the entry script may sit in any of the nearest parent folders)."""
    from lossguard.static.project import _ROOT_MARKERS, project_root

    found = project_root(start)
    root = found if any((found / marker).exists() for marker in _ROOT_MARKERS) else None
    folder = start
    for _ in range(MAX_FOLDERS):
        yield folder
        if folder == root or folder.parent == folder:
            return
        folder = folder.parent


def _loss_naming_files(index: "ProjectIndex", folder: Path,
                       is_candidate: Callable[[bytes], bool]) -> list[tuple[Path, bytes]]:
    cached = index.loss_naming_files.get(folder)
    if cached is None:
        cached = []
        for name in _python_names(folder):
            candidate = folder / name
            try:
                if candidate.stat().st_size > MAX_IMPORTER_BYTES:
                    continue
                data = candidate.read_bytes()
            except OSError:
                continue
            if is_candidate(data):
                cached.append((candidate, data))
        index.loss_naming_files[folder] = cached
    return cached


def _python_names(folder: Path) -> list[str]:
    """The names of the first `MAX_FILES_PER_FOLDER` Python files of a folder, sorted."""
    try:
        names = sorted(entry.name for entry in os.scandir(folder) if entry.name.endswith(".py") and entry.is_file())
    except OSError:
        return []
    return names[:MAX_FILES_PER_FOLDER]


def _python_files(folder: Path) -> list[Path]:
    return [(folder / name).resolve() for name in _python_names(folder)]


def _resolves_to(index: "ProjectIndex", parts: list[str], importer: Path, dots: int, targets: set[Path],
                 resolved: bool = True) -> bool:
    """`import pkg.trainer`, `from pkg.trainer import Trainer`, `from pkg import trainer`: the longest prefix of
    the dotted name that is a module of the project, as Python resolves it. `resolved`: targets are real paths
    (else absolute paths, as the pre-filter compares them without resolving links)."""
    for split in range(len(parts), 0 if not dots else -1, -1):
        target = index.find_module(parts[:split], importer, dots)
        if target is not None:
            return (target.resolve() if resolved else Path(os.path.abspath(target))) in targets
    return False
