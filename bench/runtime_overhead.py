"""Overhead of the runtime guard on real training steps (run by hand: `python bench/runtime_overhead.py`).

Three models: a tiny MLP, a tiny transformers BERT classifier (its loss computed inside the model, as
`BertForSequenceClassification` does with `labels=`) and a small timm CNN. transformers and timm are not
dependencies of lossguard: a model whose package is missing is skipped, and the output says so.

Paired blocks of training steps without and with the guard alternate, interleaved over the models, for several
rounds; each block's cost is the CPU time of this thread (`time.thread_time_ns`), so other processes on the
machine do not count. The figures are medians over rounds. The guard runs with its default settings, sampled
value checks included, after a warm-up that takes every call site past its first (always value-checked) calls:
that is the steady state of a long run. One loss call is timed on its own too (functional and module form), and
so is a value check, which reads back to the host exactly once.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
import torch.nn as nn
import torch.nn.functional as F

import lossguard
from lossguard.contracts import contract_for
from lossguard.runtime import monitor, observe, wrap


@dataclass
class Workload:
    """A training step to time: `step()` runs one, `steps` of them make a block."""

    name: str
    step: Callable[[], None]
    steps: int
    plain: list[float] = field(default_factory=list)
    guarded: list[float] = field(default_factory=list)


def _training_step(model: nn.Module, loss_of: Callable[[], torch.Tensor]) -> Callable[[], None]:
    optimizer = torch.optim.SGD(model.parameters(), lr=1e-3)

    def step() -> None:
        optimizer.zero_grad(set_to_none=True)
        loss_of().backward()
        optimizer.step()
    return step


def tiny_mlp(steps: int) -> Workload:
    model = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Linear(64, 3))
    criterion = nn.CrossEntropyLoss()
    x, y = torch.randn(64, 20), torch.randint(0, 3, (64,))
    return Workload("tiny MLP 20-64-3, batch 64", _training_step(model, lambda: criterion(model(x), y)), steps)


def tiny_bert(steps: int) -> Workload | str:
    try:
        from transformers import BertConfig, BertForSequenceClassification
    except ImportError as error:
        return f"tiny BERT classifier: skipped, transformers is not installed ({error})"
    config = BertConfig(vocab_size=1000, hidden_size=64, num_hidden_layers=2, num_attention_heads=2,
                        intermediate_size=128, max_position_embeddings=64, num_labels=3)
    model = BertForSequenceClassification(config)
    ids, labels = torch.randint(0, 1000, (8, 32)), torch.randint(0, 3, (8,))
    return Workload("tiny BERT classifier (2 layers, hidden 64), batch 8 x 32 tokens",
                    _training_step(model, lambda: model(input_ids=ids, labels=labels).loss), steps)


def small_timm_cnn(steps: int) -> Workload | str:
    try:
        import timm
    except ImportError as error:
        return f"small timm CNN: skipped, timm is not installed ({error})"
    model = timm.create_model("resnet10t", pretrained=False, num_classes=10)
    criterion = nn.CrossEntropyLoss()
    images, labels = torch.randn(8, 3, 32, 32), torch.randint(0, 10, (8,))
    return Workload("small timm CNN (resnet10t), batch 8 x 3 x 32 x 32",
                    _training_step(model, lambda: criterion(model(images), labels)), steps)


def _block(work: Workload) -> float:
    """CPU time of this thread per step, in microseconds."""
    start = time.thread_time_ns()
    for _ in range(work.steps):
        work.step()
    return (time.thread_time_ns() - start) / work.steps / 1e3


def measure(workloads: list[Workload], rounds: int) -> None:
    """One installation for the whole run, as in real training; a plain block takes the check out and puts it
    back, so the guard's per-site state carries over like in a long run."""
    handle = lossguard.install()
    for work in workloads:
        for _ in range(50):  # warm-up: past the first value-checked calls of each site
            work.step()
    for round_ in range(rounds):
        for work in workloads:
            for with_guard in ((False, True) if round_ % 2 == 0 else (True, False)):
                if with_guard:
                    work.guarded.append(_block(work))
                else:
                    wrap.unpatch()
                    work.plain.append(_block(work))
                    wrap.patch(monitor.check)
    handle.uninstall()


def call_cost(module_form: bool, repeats: int = 20000, rounds: int = 7) -> tuple[float, float]:
    """Median CPU time of one cross-entropy call on (64, 3) logits without and with the guard, in us."""
    logits, labels = torch.randn(64, 3, requires_grad=True), torch.randint(0, 3, (64,))
    criterion = nn.CrossEntropyLoss()

    def calls(count: int) -> None:
        if module_form:
            for _ in range(count):
                criterion(logits, labels)
        else:
            for _ in range(count):
                F.cross_entropy(logits, labels)  # looked up at each call, as training code does

    plain, guarded = [], []
    handle = lossguard.install()
    calls(20)
    for _ in range(rounds):
        for with_guard in (False, True):
            if not with_guard:
                wrap.unpatch()
            start = time.thread_time_ns()
            calls(repeats)
            (guarded if with_guard else plain).append((time.thread_time_ns() - start) / repeats / 1e3)
            if not with_guard:
                wrap.patch(monitor.check)
    handle.uninstall()
    return statistics.median(plain), statistics.median(guarded)


def value_check_cost(has_grad_fn: bool, repeats: int = 300) -> float:
    """Median wall time of one value check on a (64, 3) batch, in microseconds. With a grad_fn (training) only the
    target's class-index range is read; without one (evaluation, detached inputs) the input's rows are too."""
    contract = contract_for("cross_entropy")
    logits, labels = torch.randn(64, 3), torch.randint(0, 3, (64,))
    arguments = (logits, labels, None, None, -100, None, "mean", 0.0)
    times = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        observe.check_values(contract, logits, labels, None, has_grad_fn, arguments)
        times.append((time.perf_counter_ns() - start) / 1e3)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=41)
    parser.add_argument("--steps", type=int, default=100, help="training steps per block (tiny MLP; fewer for "
                                                               "the bigger models)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    built = [tiny_mlp(args.steps), tiny_bert(max(args.steps // 10, 5)), small_timm_cnn(max(args.steps // 20, 3))]
    workloads = [w for w in built if isinstance(w, Workload)]
    measure(workloads, args.rounds)
    function_call, module_call = call_cost(False), call_cost(True)
    check_training, check_detached = value_check_cost(True), value_check_cost(False)

    print(f"torch {torch.__version__}, 1 thread, {args.rounds} rounds, medians of thread CPU time")
    for skipped in (w for w in built if isinstance(w, str)):
        print(skipped)
    print()
    print("| model | step without guard | step with guard | added per step | overhead |")
    print("|---|---|---|---|---|")
    for work in workloads:
        # Paired differences: each round's guarded block against its own plain block.
        base = statistics.median(work.plain)
        added = statistics.median([g - p for g, p in zip(work.guarded, work.plain)])
        print(f"| {work.name} | {base:.1f} us | {statistics.median(work.guarded):.1f} us | {added:.2f} us "
              f"| {100 * added / base:.2f}% |")
    print()
    print("| | without | with | added |")
    print("|---|---|---|---|")
    for name, (plain, guarded) in (("one `F.cross_entropy` call, (64, 3)", function_call),
                                   ("one `nn.CrossEntropyLoss()` call, (64, 3)", module_call)):
        print(f"| {name} | {plain:.2f} us | {guarded:.2f} us | {guarded - plain:.2f} us per call |")
    print(f"| one value check, training input (target range; one host sync) | | {check_training:.1f} us | |")
    print(f"| one value check, input without grad_fn (rows + target; one host sync) | | {check_detached:.1f} us | |")


if __name__ == "__main__":
    main()
