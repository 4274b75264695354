"""Instructions per training step with and without the runtime guard, counted by valgrind (run by hand):

    python bench/runtime_instructions.py [--short 100] [--long 300]

Time on a shared virtual machine moves by several percent from one run to the next; instruction counts do not.
Each configuration runs twice under `valgrind --tool=callgrind`, with `--short` and `--long` steady-state steps of
the tiny MLP (20 -> 64 -> 3, batch 64, one thread, after a warm-up past the first value-checked calls); the
difference of the two totals divided by the difference of the step counts is the cost of one step, free of
start-up (importing torch costs billions of instructions). Needs valgrind; takes a few minutes.
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
steps, guarded = int(sys.argv[1]), sys.argv[2] == "1"
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
x, y = torch.randn(64, 20), torch.randint(0, 3, (64,))
import lossguard
if guarded:
    lossguard.install()
gc.freeze()  # torch's import leaves ~10^5 objects: keep a rare full collection from landing in one run only
for _ in range(steps + 50):
    optimizer.zero_grad(set_to_none=True)
    loss = criterion(model(x), y)
    loss.backward()
    optimizer.step()
"""


def instructions(folder: str, steps: int, guarded: bool) -> int:
    out = os.path.join(folder, f"callgrind.{steps}.{int(guarded)}")
    script = os.path.join(folder, "steps.py")
    subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}", sys.executable, script, str(steps),
         "1" if guarded else "0"],
        check=True, capture_output=True,
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
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        with open(os.path.join(folder, "steps.py"), "w") as handle:
            handle.write(PROGRAM)
        per_step = {}
        for guarded in (False, True):
            short, long = instructions(folder, args.short, guarded), instructions(folder, args.long, guarded)
            per_step[guarded] = (long - short) / (args.long - args.short)
    added = per_step[True] - per_step[False]
    print("| tiny MLP step (one CrossEntropyLoss call) | instructions |")
    print("|---|---|")
    print(f"| without guard | {per_step[False]:,.0f} |")
    print(f"| with guard | {per_step[True]:,.0f} |")
    print(f"| added by the guard | {added:,.0f} ({100 * added / per_step[False]:.2f}%) |")


if __name__ == "__main__":
    main()
