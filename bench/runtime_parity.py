"""The runtime guard's long parity run (by hand; the bounded run is tests/runtime/test_parity.py):

    PYTHONPATH=$PWD python bench/runtime_parity.py [--examples 2000] [--seed N] [--no-opinfo]

For every wrapped loss, --examples hypothesis-generated calls (tests/runtime/generated_calls.py: shapes, dtypes,
reductions, keyword arguments, activations, wrong targets, NaN, non-contiguous layouts, functional and module form),
each run with and without the guard and compared bit for bit (tests/runtime/parity.py); then PyTorch's OpInfo samples
of the same losses, in a process of their own. Prints, per loss, the examples run, what PyTorch did with them
(returned, raised in the call or the backward), how many the guard had a finding for, and every failure (an
internal error, a warning of the guard's own, a changed value, gradient or exception). Exits 1 on any failure.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def generated(examples: int, seed: int | None) -> tuple[dict[str, Counter], list[str]]:
    import torch
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hypothesis_seed

    from lossguard.runtime import wrap
    from tests.runtime.generated_calls import loss_calls
    from tests.runtime.parity import difference

    torch.set_num_threads(1)
    tallies: dict[str, Counter] = {}
    failures: list[str] = []
    for contract in wrap.wrapped_contracts():
        tally = tallies[contract.functional] = Counter()

        @settings(max_examples=examples, derandomize=seed is None, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(call=loss_calls(contract))
        def run(call):
            runnable = call.call()
            if runnable is None:
                tally["module refuses the options"] += 1
                return
            tally["examples"] += 1
            found = difference(runnable, call.arguments, call.values_defined, tally)
            if found is not None:
                failures.append(f"{call!r}: {found}")
                print(f"FAILURE {failures[-1][:2000]}", flush=True)

        if seed is not None:
            run = hypothesis_seed(seed)(run)
        started = time.perf_counter()
        run()
        tally["seconds"] = round(time.perf_counter() - started)
    return tallies, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=2000, help="generated calls per loss")
    parser.add_argument("--seed", type=int, default=None, help="a hypothesis seed (default: derandomised)")
    parser.add_argument("--no-opinfo", action="store_true", help="skip PyTorch's OpInfo samples")
    options = parser.parse_args()

    tallies, failures = generated(options.examples, options.seed)
    columns = ["examples", "returned", "raised in the call", "raised in the backward", "with a finding of the guard",
               "module refuses the options", "seconds"]
    print(f"{'loss':34}" + "".join(f"{c:>14.14}" for c in columns))
    for name, tally in tallies.items():
        print(f"{name:34}" + "".join(f"{tally[c]:14d}" for c in columns))
    total = sum((t for t in tallies.values()), Counter())
    print(f"{'total':34}" + "".join(f"{total[c]:14d}" for c in columns))
    print(f"generated calls: {total['examples']} run, {len(failures)} failures")

    if not options.no_opinfo:
        done = subprocess.run([sys.executable, "-m", "tests.runtime.parity"], cwd=ROOT, capture_output=True,
                              text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        if done.returncode != 0:
            print(done.stderr[-3000:])
            return 1
        report = json.loads(done.stdout)
        print(f"\n{'OpInfo samples (CPU)':34}{'functional':>12}{'module':>12}{'error inputs':>14}")
        for name, covered in report["covered"].items():
            print(f"{name:34}{covered['functional']:12d}{covered['module']:12d}{covered['error inputs']:14d}")
        print(f"outcomes without the guard: {report['outcomes']}")
        print(f"OpInfo: {sum(sum(c.values()) for c in report['covered'].values())} calls, "
              f"{len(report['failures'])} failures")
        for failure in report["failures"]:
            print(f"FAILURE {failure[:2000]}")
        failures += report["failures"]
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
