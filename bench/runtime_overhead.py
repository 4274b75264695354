"""Overhead of the runtime guard on real training steps (run by hand: `python bench/runtime_overhead.py`).

Paired blocks of training steps without and with the guard alternate for several rounds; each block's cost is the
CPU time of this thread (`time.thread_time_ns`), so other processes on the machine do not count. The figures are
medians over rounds. The guard runs with its default settings, sampled value checks included, after a warm-up
that takes every call site past its first (always value-checked) calls: that is the steady state of a long run.
A value check is timed on its own, on the tiny model's tensors, and it reads back to the host exactly once.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.runtime import monitor, observe, wrap
from lossguard.contracts import contract_for


def _model(sizes: list[int]) -> nn.Module:
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def _block(model, optimizer, criterion, x, y, steps: int) -> float:
    """CPU time of this thread per training step, in microseconds."""
    start = time.thread_time_ns()
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    return (time.thread_time_ns() - start) / steps / 1e3


def measure(name: str, sizes: list[int], batch: int, steps: int, rounds: int) -> dict:
    torch.manual_seed(0)
    model = _model(sizes)
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)
    criterion = nn.CrossEntropyLoss()
    x, y = torch.randn(batch, sizes[0]), torch.randint(0, sizes[-1], (batch,))
    # One installation for the whole run, as in real training; the plain blocks take the wrappers out of
    # torch.nn.functional and put them back, so the guard's per-site state carries over like in a long run.
    handle = lossguard.install()
    _block(model, optimizer, criterion, x, y, 50)  # warm-up: past the first value-checked calls
    plain, guarded = [], []
    for round_ in range(rounds):
        order = (False, True) if round_ % 2 == 0 else (True, False)
        for with_guard in order:
            if with_guard:
                guarded.append(_block(model, optimizer, criterion, x, y, steps))
            else:
                wrap.unpatch()
                plain.append(_block(model, optimizer, criterion, x, y, steps))
                wrap.patch(monitor.check)
    handle.uninstall()
    # Paired differences: each round's guarded block against its own plain block.
    differences = [g - p for g, p in zip(guarded, plain)]
    base, added = statistics.median(plain), statistics.median(differences)
    return {"name": name, "base_us": base, "guarded_us": statistics.median(guarded), "added_us": added,
            "overhead_pct": 100 * added / base}


def value_check_cost(has_grad_fn: bool, repeats: int = 300) -> float:
    """Median wall time of one value check on a (64, 3) batch, in microseconds. With a grad_fn (training) only the
    target's class-index range is read; without one (evaluation, detached inputs) the input's rows are too."""
    contract = contract_for("cross_entropy")
    logits, labels = torch.randn(64, 3), torch.randint(0, 3, (64,))
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        observe.check_values(contract, logits, labels, None, has_grad_fn, (logits, labels), {})
        times.append((time.perf_counter_ns() - start) / 1e3)
    return statistics.median(times)


def call_cost(repeats: int = 20000, rounds: int = 7) -> tuple[float, float]:
    """Median CPU time of one functional cross_entropy call without and with the guard (steady state), in us."""
    logits, labels = torch.randn(64, 3, requires_grad=True), torch.randint(0, 3, (64,))
    plain, guarded = [], []
    handle = lossguard.install()
    for _ in range(20):
        F.cross_entropy(logits, labels)
    for _ in range(rounds):
        for with_guard in (False, True):
            if not with_guard:
                wrap.unpatch()
            start = time.thread_time_ns()
            for _ in range(repeats):
                F.cross_entropy(logits, labels)
            (guarded if with_guard else plain).append((time.thread_time_ns() - start) / repeats / 1e3)
            if not with_guard:
                wrap.patch(monitor.check)
    handle.uninstall()
    return statistics.median(plain), statistics.median(guarded)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--steps", type=int, default=100, help="training steps per block (tiny model)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rows = [
        measure("tiny MLP 20-64-3, batch 64", [20, 64, 3], 64, args.steps, args.rounds),
        measure("mid MLP 512-1024-1024-10, batch 256", [512, 1024, 1024, 10], 256, max(args.steps // 20, 5),
                args.rounds),
    ]
    plain_call, guarded_call = call_cost()
    check_training, check_detached = value_check_cost(True), value_check_cost(False)
    print(f"torch {torch.__version__}, 1 thread, {args.rounds} rounds, medians of thread CPU time")
    print()
    print("| model | step without guard | step with guard | added per step | overhead |")
    print("|---|---|---|---|---|")
    for row in rows:
        print(f"| {row['name']} | {row['base_us']:.1f} us | {row['guarded_us']:.1f} us | {row['added_us']:.2f} us "
              f"| {row['overhead_pct']:.2f}% |")
    print()
    print(f"| one `F.cross_entropy` call, (64, 3) | {plain_call:.2f} us | {guarded_call:.2f} us "
          f"| {guarded_call - plain_call:.2f} us per call | |")
    print(f"| one value check, training input (target range; one host sync) | | {check_training:.1f} us | | |")
    print(f"| one value check, input without grad_fn (rows + target; one host sync) | | {check_detached:.1f} us | | |")


if __name__ == "__main__":
    main()
