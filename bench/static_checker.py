"""Where `lossguard check` spends its time on a real code base (run by hand):

    python bench/static_checker.py PATH [PATH ...]

For each path: files found, files past the byte-level pre-filter, then CPU seconds spent in each stage (Python's
parser, the module index pass, the interpreter) over the whole run, and the same run with the pre-filter turned
off, to show what the pre-filter saves. Stages nest: the interpreter's time includes parsing and indexing the
project modules that a checked file imports. Figures and ratios are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from lossguard.static import checker, flow, project
from lossguard.static.discover import discover
from lossguard.static.project import ProjectIndex

STAGES = ("python parse", "index pass", "interpreter")


@contextmanager
def timed_stages(totals: dict[str, float]) -> Iterator[None]:
    """Wrap the stage functions so that each call adds its CPU time to `totals`."""
    def timing(name, function):
        def wrapper(*args, **kwargs):
            start = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.process_time() - start
        return wrapper

    saved = (project.ast.parse, flow.index_module, ProjectIndex.analyse)
    project.ast.parse = timing("python parse", saved[0])
    flow.index_module = timing("index pass", saved[1])
    ProjectIndex.analyse = timing("interpreter", saved[2])
    try:
        yield
    finally:
        project.ast.parse, flow.index_module, ProjectIndex.analyse = saved


def run(path: str, prefilter: bool) -> dict[str, float]:
    totals: dict[str, float] = defaultdict(float)
    saved = checker.may_call_a_loss
    if not prefilter:
        checker.may_call_a_loss = lambda data: True
    try:
        with timed_stages(totals):
            start = time.process_time()
            result = checker.check_paths([path], jobs=1)
            totals["total"] = time.process_time() - start
    finally:
        checker.may_call_a_loss = saved
    totals["findings"] = len(result.findings)
    totals["errors"] = len(result.errors)
    return totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    print("| path | files | past pre-filter | stage | with pre-filter (CPU s) | without (CPU s) |")
    print("|---|---|---|---|---|---|")
    for path in args.paths:
        files, _ = discover([path])
        passed = sum(1 for f in files if checker.may_call_a_loss(Path(f).read_bytes()))
        with_filter, without = run(path, True), run(path, False)
        name = Path(path).name
        for stage in (*STAGES, "total"):
            print(f"| {name} | {len(files)} | {passed} ({100 * passed / max(len(files), 1):.0f}%) | {stage} "
                  f"| {with_filter[stage]:.2f} | {without[stage]:.2f} |")
        speedup = without["total"] / max(with_filter["total"], 1e-9)
        print(f"| {name} | | | findings / errors | {with_filter['findings']:.0f} / {with_filter['errors']:.0f} "
              f"| {without['findings']:.0f} / {without['errors']:.0f} (pre-filter saves {speedup:.1f}x) |")


if __name__ == "__main__":
    main()
