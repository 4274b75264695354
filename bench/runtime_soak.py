"""Does the runtime guard's memory stay flat over a long run? (by hand: `python bench/runtime_soak.py [--steps N]`)

A tiny MLP trains for --steps steps (default 10,000) in a fresh process, once without the guard and once with it
(default settings, sampled value checks included). Each step calls the loss from three call sites: the module form
in the training step, the functional form for a logged auxiliary loss, and an evaluation loss under `no_grad`
every 10th step; one call site has a pitfall (softmax into cross_entropy), so the guard also keeps a finding.
Resident memory (RSS) is read after a warm-up of 100 steps, at 1,000 steps and at the end; the figures printed are
each run's RSS and its growth from step 1,000 to the end, with and without the guard, whether every step's losses
were bit-identical, and what the guard keeps at the end. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path


def rss_mb() -> float:
    """Resident memory of this process now (Linux: /proc/self/statm), in MB."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def train(steps: int, guarded: bool) -> dict:
    import warnings

    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    import lossguard

    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-2)
    criterion = nn.CrossEntropyLoss()
    x, y = torch.randn(32, 20), torch.randint(0, 3, (32,))
    handle = lossguard.install(policy="log") if guarded else None
    marks = {}
    losses = hashlib.sha256()  # every step's loss values, bit for bit
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for step in range(1, steps + 1):
            optimizer.zero_grad(set_to_none=True)
            logits = model(x)
            loss = criterion(logits, y)
            auxiliary = F.cross_entropy(F.softmax(logits.detach(), dim=1), y)  # the pitfall, logged only
            loss.backward()
            optimizer.step()
            losses.update(torch.stack([loss.detach(), auxiliary]).numpy().tobytes())
            if step % 10 == 0:
                with torch.no_grad():
                    criterion(model(x), y)
            if step in (100, 1_000, steps):
                marks[step] = rss_mb()
    findings = len(handle.findings) if handle else 0
    state = _guard_state() if handle else {}
    if handle:
        handle.uninstall()
    return {"rss": marks, "findings": findings, "last_loss": float(loss), "auxiliary": float(auxiliary),
            "losses": losses.hexdigest(), "state": state}


def _guard_state() -> dict:
    """What the guard keeps: call sites, cached verdicts, classified code objects, findings (all bounded)."""
    from lossguard.runtime import api, monitor, report

    return {"call sites": len(api._monitor.sites), "verdicts": len(api._monitor.verdicts),
            "code objects": len(report._internal_code), "findings": len(monitor.ALL_FINDINGS)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=10_000)
    parser.add_argument("--child", choices=["plain", "guarded"], help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.child:
        print(json.dumps(train(options.steps, options.child == "guarded")))
        return 0
    root = str(Path(__file__).resolve().parents[1])
    runs = {}
    for mode in ("plain", "guarded"):
        done = subprocess.run([sys.executable, __file__, "--steps", str(options.steps), "--child", mode],
                              capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": root + os.pathsep + os.environ.get("PYTHONPATH", "")})
        runs[mode] = json.loads(done.stdout.splitlines()[-1])
    end = options.steps
    print(f"{'':8} {'RSS@100':>9} {'RSS@1000':>9} {f'RSS@{end}':>10} {'growth 1000->end':>17}  findings  last loss")
    for mode, run in runs.items():
        rss = {int(k): v for k, v in run["rss"].items()}
        print(f"{mode:8} {rss[100]:8.1f}M {rss[1000]:8.1f}M {rss[end]:9.1f}M {rss[end] - rss[1000]:+16.2f}M"
              f"  {run['findings']:8d}  {run['last_loss']:.6f}")
    plain, guarded = ({int(k): v for k, v in runs[m]["rss"].items()} for m in ("plain", "guarded"))
    extra = (guarded[end] - guarded[1000]) - (plain[end] - plain[1000])
    print(f"guard's extra growth from step 1000 to {end}: {extra:+.2f} MB; "
          f"same losses at every step: {runs['plain']['losses'] == runs['guarded']['losses']}")
    print(f"the guard's state at the end: {runs['guarded']['state']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
