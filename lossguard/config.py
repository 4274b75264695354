"""`[tool.lossguard]` in pyproject.toml: which rules run, which files are skipped, per-file ignores.

```toml
[tool.lossguard]
select = ["LG1", "LG2"]            # codes or prefixes; default: every rule
ignore = ["LG103"]
exclude = ["tests/fixtures/**", "legacy_*.py"]   # glob patterns, relative to the folder of pyproject.toml
per-file-ignores = { "notebooks/*.ipynb" = ["LG401"] }
max-file-size = "5MB"              # larger files are skipped unread; bytes (an integer) or "500kB", "5MB", "1GiB"
```

Command-line `--select`/`--ignore` replace the configured ones. The file is looked up from the current folder
upwards; `--config PATH` names one explicitly.
"""

from __future__ import annotations

import fnmatch
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from lossguard.rules import select_codes

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib


DEFAULT_MAX_FILE_SIZE = 5_000_000
_SIZE_UNITS = {"": 1, "b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)


class ConfigError(Exception):
    """A configuration that cannot be used; the message is one line for the user."""


@dataclass(frozen=True)
class Config:
    root: Path = Path(".")
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    per_file_ignores: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str | None = None  # the pyproject.toml it came from
    max_file_size: int = DEFAULT_MAX_FILE_SIZE  # bytes; larger files are skipped before they are read

    def _relative(self, path: str) -> str:
        absolute = Path(path).resolve()
        try:
            return absolute.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return Path(path).as_posix()

    def is_excluded(self, path: str) -> bool:
        relative = self._relative(path)
        return any(_matches(relative, pattern) for pattern in self.exclude)

    def ignored_codes(self, path: str) -> tuple[str, ...]:
        relative = self._relative(path)
        return tuple(code for pattern, codes in self.per_file_ignores.items() if _matches(relative, pattern)
                     for code in codes)


def _matches(relative: str, pattern: str) -> bool:
    """Glob match on the path relative to the root, or on any trailing part of it (`*.ipynb`, `legacy/`)."""
    pattern = pattern.rstrip("/")
    if fnmatch.fnmatch(relative, pattern) or fnmatch.fnmatch(relative, pattern + "/*"):
        return True
    parts = relative.split("/")
    return any(fnmatch.fnmatch("/".join(parts[i:]), pattern) or fnmatch.fnmatch(part, pattern)
               for i, part in enumerate(parts))


def find_pyproject(start: Path) -> Path | None:
    folder = start.resolve()
    for candidate in (folder, *folder.parents):
        if (candidate / "pyproject.toml").is_file():
            return candidate / "pyproject.toml"
    return None


def load_config(path: Path | None = None, start: Path | None = None) -> Config:
    """The `[tool.lossguard]` table of `path` (or of the nearest pyproject.toml above `start`); defaults if none."""
    if path is None:
        path = find_pyproject(start or Path(os.getcwd()))
        if path is None:
            return Config()
    try:
        with open(path, "rb") as handle:
            document = tomllib.load(handle)
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: {error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({error.reason} at byte {error.start})") from None
    table = document.get("tool", {}).get("lossguard", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.lossguard] must be a table")
    known = {"select", "ignore", "exclude", "per-file-ignores", "max-file-size"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown [tool.lossguard] key {unknown[0]!r} (known: {', '.join(sorted(known))})")
    per_file = table.get("per-file-ignores", {})
    if not isinstance(per_file, dict):
        raise ConfigError(f"{path}: per-file-ignores must be a table of pattern = [codes]")
    return Config(
        root=path.parent,
        select=_codes(table, "select", path),
        ignore=_codes(table, "ignore", path),
        exclude=_strings(table, "exclude", path),
        per_file_ignores={pattern: _codes(per_file, pattern, path, "per-file-ignores ") for pattern in per_file},
        source=str(path),
        max_file_size=_file_size(table, path),
    )


def _codes(table: dict, key: str, path: Path, context: str = "") -> tuple[str, ...]:
    """A list of rule codes or prefixes; one that matches no rule is an error naming this file, as on the CLI."""
    codes = _strings(table, key, path)
    try:
        select_codes(list(codes), None)
    except ValueError as error:
        raise ConfigError(f"{path}: {context}{key}: {error}") from None
    return codes


def parse_size(value: object) -> int:
    """Bytes from an integer or a string such as "5MB", "500 kB", "1.5MiB" (kB/MB/GB decimal, KiB/MiB/GiB binary).

    Raises ValueError with a one-line reason; the limit must be positive (there is no "no limit": a hostile file
    must not be able to exhaust memory).
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a size")
    if isinstance(value, int):
        size = value
    else:
        match = _SIZE.match(str(value))
        unit = match.group(2).lower() if match else ""
        if match is None or unit not in _SIZE_UNITS:
            raise ValueError(f"{value!r} is not a size (bytes, or a number with kB, MB, GB, KiB, MiB, GiB)")
        size = int(float(match.group(1)) * _SIZE_UNITS[unit])
    if size <= 0:
        raise ValueError(f"{value!r} is not a positive size")
    return size


def _file_size(table: dict, path: Path) -> int:
    if "max-file-size" not in table:
        return DEFAULT_MAX_FILE_SIZE
    try:
        return parse_size(table["max-file-size"])
    except ValueError as error:
        raise ConfigError(f"{path}: max-file-size: {error}") from None


def _strings(table: dict, key: str, path: Path) -> tuple[str, ...]:
    value = table.get(key, [])
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{path}: {key} must be a list of strings")
    return tuple(value)
