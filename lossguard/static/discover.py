"""Which files `lossguard check` reads: .py files (and notebooks) under the given paths, minus the usual noise."""

from __future__ import annotations

import os
import stat
from pathlib import Path

SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", "__pycache__", "build", "dist", "node_modules", ".venv", "venv", "env",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    ".eggs",
})
CHECKED_SUFFIXES = (".py", ".ipynb")


def _is_virtualenv(directory: Path) -> bool:
    try:
        return os.path.isfile(os.path.join(directory, "pyvenv.cfg"))
    except OSError:  # an unreadable folder: os.walk reports it when it tries to list it
        return False


def _without_dot_prefix(path: str) -> str:
    """`./train.py` -> `train.py`: walking `.` must print paths as ruff does, relative and without `./`."""
    prefix = os.curdir + os.sep
    while path.startswith(prefix) and len(path) > len(prefix):
        path = path[len(prefix):]
    return path


def _reason(error: OSError) -> str:
    return error.strerror or str(error)


def _not_regular(path: str) -> str | None:
    """Why `path` cannot be read as a file, or None when it is a regular file (following links).

    Only regular files are read: opening a FIFO (or a device) named `x.py` would wait forever for a writer.
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:  # a symlink loop or a dangling link
        return _reason(error)
    return None if stat.S_ISREG(mode) else "not a regular file"


def discover(paths: list[str]) -> tuple[list[str], list[str]]:
    """(files to check, error lines), in a stable order.

    A file named explicitly is checked whatever its suffix; directories are walked for .py and .ipynb files. A path
    that does not exist, a folder that cannot be listed and a file that cannot be opened (a symlink loop) each
    become one error line, and everything else is still checked.
    """
    files: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        path = _without_dot_prefix(path)
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            add(raw)
        elif path.is_dir():
            def unreadable(error: OSError) -> None:
                errors.append(f"{_without_dot_prefix(error.filename)}: error: cannot read folder: {_reason(error)}")

            for root, directories, names in os.walk(path, onerror=unreadable):
                directories[:] = sorted(
                    d for d in directories
                    if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info") and not _is_virtualenv(Path(root, d))
                )
                for name in sorted(names):
                    if name.endswith(CHECKED_SUFFIXES):
                        file = os.path.join(root, name)
                        reason = _not_regular(file)
                        if reason:
                            errors.append(f"{_without_dot_prefix(file)}: error: cannot read: {reason}")
                        else:
                            add(file)
        elif os.path.lexists(raw):
            errors.append(f"{raw}: error: cannot read: {_not_regular(raw) or 'not a regular file'}")
        else:
            errors.append(f"{raw}: error: no such file or directory")
    return files, errors
