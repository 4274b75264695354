"""Instructions per training step and per loss call with and without the runtime guard, counted by valgrind
(run by hand):

    python bench/runtime_instructions.py [--short 200] [--long 600] [--workloads step,call,module]

Time on a shared virtual machine moves by several percent from one run to the next; instruction counts do not.
Each configuration runs twice under `valgrind --tool=callgrind`, with `--short` and `--long` steady-state
iterations (one thread, after a warm-up past the first value-checked calls); the difference of the two totals
divided by the difference of the iteration counts is the cost of one iteration, free of start-up (importing torch
costs billions of instructions). Workloads: `step`, a training step of the tiny MLP (20 -> 64 -> 3, batch 64, one
`nn.CrossEntropyLoss` call); `call`, one `F.cross_entropy` call on (64, 3) logits with a `grad_fn`; `module`,
the same through `nn.CrossEntropyLoss()`. Needs valgrind; takes a few minutes per workload.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

PROGRAM = """
import gc, sys, torch, torch.nn as nn
torch.set_num_threads(1)
steps, guarded, workload = int(sys.argv[1]), sys.argv[2] == "1", sys.argv[3]
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(64, 20), torch.randint(0, 3, (64,))
logits = model(x)
import lossguard
if guarded:
    lossguard.install()
gc.freeze()  # torch's import leaves ~10^5 objects: keep a rare full collection from landing in one run only
if workload == "step":
    for _ in range(steps + 50):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
elif workload == "call":
    for _ in range(steps + 50):
        torch.nn.functional.cross_entropy(logits, y)
else:
    for _ in range(steps + 50):
        criterion(logits, y)
"""
WORKLOADS = {"step": "tiny MLP training step", "call": "one `F.cross_entropy` call",
             "module": "one `nn.CrossEntropyLoss()` call"}


def instructions(folder: str, steps: int, guarded: bool, workload: str) -> int:
    out = os.path.join(folder, f"callgrind.{workload}.{steps}.{int(guarded)}")
    script = os.path.join(folder, "steps.py")
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, script, str(steps),
         "1" if guarded else "0", workload],
        check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dict layouts each run
    )
    with open(out) as handle:
        match = re.search(r"^(?:summary|totals): (\d+)", handle.read(), re.M)
    if match is None:
        raise SystemExit(f"no instruction total in {out}")
    return int(match.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", type=int, default=200)
    parser.add_argument("--long", type=int, default=600)
    parser.add_argument("--workloads", default="step,call,module", help=f"comma-separated: {', '.join(WORKLOADS)}")
    args = parser.parse_args()
    workloads = [name.strip() for name in args.workloads.split(",") if name.strip()]
    unknown = [name for name in workloads if name not in WORKLOADS]
    if unknown:
        raise SystemExit(f"unknown workload(s): {', '.join(unknown)}; choose from {', '.join(WORKLOADS)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "steps.py"), "w") as handle:
            handle.write(PROGRAM)
        for workload in workloads:
            per_iteration = {}
            for guarded in (False, True):
                short = instructions(folder, args.short, guarded, workload)
                long = instructions(folder, args.long, guarded, workload)
                per_iteration[guarded] = (long - short) / (args.long - args.short)
            rows.append((WORKLOADS[workload], per_iteration[False], per_iteration[True]))
    print("| instructions per | without guard | with guard | added by the guard |")
    print("|---|---|---|---|")
    for name, plain, guarded in rows:
        added = guarded - plain
        print(f"| {name} | {plain:,.0f} | {guarded:,.0f} | {added:,.0f} ({100 * added / plain:.1f}%) |")


if __name__ == "__main__":
    main()
