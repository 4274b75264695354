"""How a path is shown in every report: relative to the working directory when below it, absolute otherwise (ruff).

One rule for every path of a run (a finding's own path, its related locations, the modules a checked file imports,
the error lines), whatever form the user typed it in.
"""

from __future__ import annotations

import os
from dataclasses import replace

from lossguard.findings import Finding


def display_path(path: str) -> str:
    """`path` as reports show it: `pkg/train.py` below the working directory, `/abs/elsewhere.py` otherwise."""
    if path.startswith("<") or path == "-":  # `<string>`, `<stdin>`: not a file
        return path
    absolute = os.path.abspath(path)
    here = os.getcwd()
    for base, target in ((here, absolute), (os.path.realpath(here), os.path.realpath(absolute))):
        if target == base or target.startswith(base.rstrip(os.sep) + os.sep):
            return os.path.relpath(target, base).replace(os.sep, "/")
    return absolute


def displayed(finding: Finding) -> Finding:
    """The finding with its own path and its related paths shown by `display_path`."""
    related = tuple(replace(location, path=display_path(location.path)) for location in finding.related)
    return replace(finding, path=display_path(finding.path), related=related)
