"""What fixes cost a `lossguard check` run (run by hand):

    python bench/fix_planning.py PATH [PATH ...]

The default text report plans the fixes of every file with a finding of a rule that has a fix, to print
`(N fixable with --fix, ...)`; `--fix` then fixes file by file, re-checking between passes. This prints, best of
three, the CPU seconds of the check itself, of that planning, and of a full `--fix --unsafe-fixes` run computed in
memory (nothing is written), with their ratios to the check. Figures are printed; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time

from lossguard.linter_options import fixable_summary
from lossguard.static.autofix import fix_text, read_text
from lossguard.static.checker import check_paths
from lossguard.static.fixes import SAFE_FIX_CODES, UNSAFE_FIX_CODES


def _best(function, repeats: int = 3) -> tuple[float, object]:
    best, outcome = float("inf"), None
    for _ in range(repeats):
        start = time.process_time()
        outcome = function()
        best = min(best, time.process_time() - start)
    return best, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    paths = parser.parse_args().paths
    check_time, result = _best(lambda: check_paths(paths))
    findings = result.findings
    plan_time, fixable = _best(lambda: fixable_summary(findings))
    files = sorted({f.path for f in findings if f.code in SAFE_FIX_CODES | UNSAFE_FIX_CODES})

    def fix_all() -> int:
        return sum(len(fix_text(read_text(path), path, enabled=None, config=None, unsafe=True).applied)
                   for path in files)

    fix_time, fixed = _best(fix_all)
    print(f"{result.files_checked} files checked, {len(findings)} findings in {len({f.path for f in findings})} files"
          f"; {len(files)} files with a finding of a rule that has a fix")
    print(f"check:                         {check_time:7.3f} CPU-s")
    print(f"planning for the summary:      {plan_time:7.3f} CPU-s  ({plan_time / check_time:.0%} of the check; "
          f"{sum(fixable.values())} safe, {sum(not safe for safe in fixable.values())} unsafe-only)")
    print(f"--fix --unsafe-fixes (memory): {fix_time:7.3f} CPU-s  ({fix_time / check_time:.0%} of the check; "
          f"{fixed} fixes applied)")


if __name__ == "__main__":
    main()
