"""Which files `lossguard check` reads: .py files (and notebooks) under the given paths, minus the usual noise."""

from __future__ import annotations

import os
from pathlib import Path

SKIPPED_DIRECTORIES = frozenset({
    ".git", ".hg", ".svn", "__pycache__", "build", "dist", "node_modules", ".venv", "venv", "env",
    ".tox", ".nox", ".mypy_cache", ".pytest_cache", ".ruff_cache", ".ipynb_checkpoints", "site-packages",
    ".eggs",
})
CHECKED_SUFFIXES = (".py", ".ipynb")


def _is_virtualenv(directory: Path) -> bool:
    return (directory / "pyvenv.cfg").is_file()


def discover(paths: list[str]) -> tuple[list[str], list[str]]:
    """(files to check, error lines for paths that do not exist), in a stable order.

    A file named explicitly is checked whatever its suffix; directories are walked for .py and .ipynb files.
    """
    files: list[str] = []
    errors: list[str] = []
    seen: set[str] = set()

    def add(path: str) -> None:
        key = os.path.normpath(path)
        if key not in seen:
            seen.add(key)
            files.append(path)

    for raw in paths:
        path = Path(raw)
        if path.is_file():
            add(raw)
        elif path.is_dir():
            for root, directories, names in os.walk(path):
                directories[:] = sorted(
                    d for d in directories
                    if d not in SKIPPED_DIRECTORIES and not d.endswith(".egg-info") and not _is_virtualenv(Path(root, d))
                )
                for name in sorted(names):
                    if name.endswith(CHECKED_SUFFIXES):
                        add(os.path.join(root, name))
        else:
            errors.append(f"{raw}:0:0: error: no such file or directory")
    return files, errors
