"""CPU time of checking every candidate file alone (as pre-commit checks one staged file), over repository roots.

Each file gets its own `check_paths([file])` call, so a fresh project index: the figure is what one file costs
with everything its analysis reads (imports, importers). Prints the totals, how many files took over 1 s and 2 s of
CPU (issue 8 bounds one file at 2 s), and the slowest files. Run by hand, from anywhere:

    PYTHONPATH=$PWD python bench/real_code/time_each_file.py ~/.cache/lossguard-real-code/*/ /work/precision/*+*/
"""

from __future__ import annotations

import os
import signal
import sys
import time

from lossguard.config import Config
from lossguard.static.checker import check_paths
from lossguard.static.discover import discover

TIMEOUT_S = 60


class _TimedOut(Exception):
    pass


def _alarm(*_: object) -> None:
    raise _TimedOut()


def time_root(root: str) -> list[tuple[float, str, str]]:
    """(CPU seconds, file, outcome) for every file discovery finds under `root`, checked from `root`."""
    os.chdir(root)
    files, _ = discover(["."])
    rows = []
    for file in files:
        started = time.process_time()
        signal.alarm(TIMEOUT_S)
        try:
            result = check_paths([file], config=Config())
            outcome = f"{len(result.findings)} findings, {len(result.errors)} errors"
        except _TimedOut:
            outcome = "TIMEOUT"
        finally:
            signal.alarm(0)
        rows.append((time.process_time() - started, os.path.join(os.path.basename(root.rstrip("/")), file), outcome))
    return rows


def main(roots: list[str]) -> None:
    signal.signal(signal.SIGALRM, _alarm)
    rows = [row for root in roots for row in time_root(os.path.abspath(root))]
    rows.sort(reverse=True)
    print(f"roots {len(roots)}, files {len(rows)}, CPU {sum(r[0] for r in rows):.1f} s in all; "
          f"over 1 s: {sum(r[0] > 1 for r in rows)}, over 2 s: {sum(r[0] > 2 for r in rows)}")
    for cpu, file, outcome in rows[:15]:
        print(f"{cpu:6.2f} CPU-s  {file}  ({outcome})")


if __name__ == "__main__":
    main(sys.argv[1:])
