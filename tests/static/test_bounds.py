"""Budget tests: no input may make `lossguard check` slow or hungry (issue 9).

Each pathological input is generated here and checked by `python -m lossguard check` in a child process whose CPU
time and peak memory (its own `ru_utime + ru_stime` and `ru_maxrss`, from `os.wait4`) are measured: under 10 s of
CPU (CPU rather than wall time, so that a loaded machine does not fail the test) and under 300 MB, with exit 0
or 1 (valid Python is never an error), and findings, silence or one clear line on stderr. A child that runs past
60 s is killed and the test fails with what was measured; the address space is capped at 4 GB so that a runaway
analysis ends in a MemoryError instead of taking the machine down. Nothing here is skipped or marked: a budget that
is not met is a failing test.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


REPOSITORY = Path(__file__).resolve().parents[2]
TIME_BUDGET_S = 10.0
MEMORY_BUDGET_MB = 300.0
_KILL_AFTER_S = 60.0
_ADDRESS_SPACE_CAP = 4 * 1024**3


@dataclass
class Run:
    returncode: int
    seconds: float  # CPU, user + system
    wall: float
    peak_mb: float
    stdout: str
    stderr: str

    def describe(self) -> str:
        tail = (self.stderr.strip().splitlines() or [""])[-1][:200]
        return (f"exit {self.returncode}, {self.seconds:.1f} s CPU ({self.wall:.1f} s wall), {self.peak_mb:.0f} MB, "
                f"stderr: {tail!r}")


# Run in a small Python process between pytest and lossguard: a child's `ru_maxrss` counts the memory of the process
# it was forked from (the kernel records the old address space's peak at exec), and pytest with torch loaded is
# bigger than the budget. This one forks lossguard from a few megabytes, caps its address space, kills it after
# the given time, and prints exit code, CPU seconds, wall seconds and peak kB of that child alone.
_MEASURE = """
import os, resource, sys, time
limit, out, err, command = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    resource.setrlimit(resource.RLIMIT_AS, (%d, %d))
    os.dup2(os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1)
    os.dup2(os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2)
    os.execv(command[0], command)
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if time.monotonic() - start > limit:
        os.kill(pid, 9)
        done, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.02)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, time.monotonic() - start, usage.ru_maxrss)
""" % (_ADDRESS_SPACE_CAP, _ADDRESS_SPACE_CAP)


def check_measured(path: Path, *options: str) -> Run:
    """`lossguard check` of one file in a child process; its own CPU time and peak RSS, whatever ran before."""
    environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    command = [sys.executable, "-m", "lossguard", "check", "--no-cache", "--jobs", "1", *options, str(path)]
    out, err = path.parent / "stdout.txt", path.parent / "stderr.txt"
    report = subprocess.run([sys.executable, "-c", _MEASURE, str(_KILL_AFTER_S), str(out), str(err), *command],
                            env=environment, cwd=path.parent, capture_output=True, text=True, check=True)
    code, cpu, wall, peak_kb = report.stdout.split()
    return Run(int(code), float(cpu), float(wall), int(peak_kb) / 1024, out.read_text(), err.read_text())


def assert_within_budget(run: Run) -> None:
    assert run.seconds < TIME_BUDGET_S and run.peak_mb < MEMORY_BUDGET_MB, run.describe()
    assert run.returncode in (0, 1), f"valid Python must not be an error: {run.describe()}"
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) <= 1, run.describe()


def deepest_nesting_python_parses(template: str) -> int:
    """The largest n for which `template` with n nested calls still parses (Python's limit is about 200)."""
    low, high = 1, 1_000
    while low < high:
        middle = (low + high + 1) // 2
        try:
            ast.parse(template.format(calls="f(" * middle, closing=")" * middle))
        except (SyntaxError, RecursionError, MemoryError):
            high = middle - 1
        else:
            low = middle
    return low


NESTED = ("import torch.nn.functional as F\n\n\ndef f(x):\n    return x\n\n\n"
          "loss = F.cross_entropy({calls}logits{closing}, target)\n")


def test_calls_nested_as_deep_as_python_parses(tmp_path: Path) -> None:
    depth = deepest_nesting_python_parses(NESTED)
    assert depth > 150
    path = tmp_path / "deepest.py"
    path.write_text(NESTED.format(calls="f(" * depth, closing=")" * depth))
    assert_within_budget(check_measured(path))


def test_code_nesting_150_calls_deep(tmp_path: Path) -> None:
    path = tmp_path / "nested150.py"
    source = NESTED.replace("logits{closing}", "torch.sigmoid(logits){closing}").replace(
        "F.cross_entropy", "F.binary_cross_entropy_with_logits")
    path.write_text("import torch\n" + source.format(calls="f(" * 150, closing=")" * 150))
    assert_within_budget(check_measured(path))


def test_a_chain_of_2000_functions_each_calling_the_next_three_times(tmp_path: Path) -> None:
    lines = ["import torch.nn as nn", "", "criterion = nn.CrossEntropyLoss()", "",
             "def step_1999(x, y):", "    return criterion(x.softmax(dim=1), y)", ""]
    for n in range(1998, -1, -1):
        lines += [f"def step_{n}(x, y):", f"    a = step_{n + 1}(x, y)", f"    b = step_{n + 1}(x, y)",
                  f"    return a + b + step_{n + 1}(x, y)", ""]
    lines += ["model = nn.Linear(16, 4)", "loss = step_0(model(x), y)", "loss.backward()", ""]
    path = tmp_path / "chain.py"
    path.write_text("\n".join(lines))
    assert_within_budget(check_measured(path))


def _notebook_of_loss_cells(cells: int) -> str:
    setup = ("import torch\nfrom torch import nn\n"
             "model = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\ncriterion = nn.BCEWithLogitsLoss()\n")
    sources = [setup] + [f"out_{n} = model(batch_{n})\nloss_{n} = criterion(out_{n}, y_{n})\nloss_{n}.backward()\n"
                         for n in range(cells)]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
        {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
        for source in sources]})


def test_a_notebook_of_10000_cells_each_with_a_loss_call(tmp_path: Path) -> None:
    """Findings, or one line saying the notebook is too large to analyse: never minutes and gigabytes."""
    path = tmp_path / "many_cells.ipynb"
    path.write_text(_notebook_of_loss_cells(10_000))
    run = check_measured(path)
    assert_within_budget(run)
    assert (run.returncode == 1 and "LG101" in run.stdout) or (
        run.returncode == 0 and run.stderr.startswith(f"{path.name}: skipped: ")), run.describe()


def test_a_notebook_of_2000_cells_small_enough_to_analyse(tmp_path: Path) -> None:
    """Under the token bound, so the analysis itself must scale with the number of cells."""
    path = tmp_path / "cells.ipynb"
    path.write_text(_notebook_of_loss_cells(2_000))
    run = check_measured(path)
    assert_within_budget(run)
    assert run.returncode == 1 and run.stdout.count("LG101") == 2_000, run.describe()


def test_a_dense_literal_of_245000_items(tmp_path: Path) -> None:
    """490 kB of `1,`: a byte limit alone does not bound a parser's memory (~700 bytes per syntax node at its peak);
    a bound on the syntax nodes, estimated before parsing, does."""
    path = tmp_path / "dense.py"
    path.write_text("import torch.nn as nn\ncriterion = nn.MSELoss()\nv = [" + "1," * 245_000 + "]\n")
    run = check_measured(path)
    assert_within_budget(run)


def test_a_20_mb_file_mentioning_a_loss_is_skipped_with_one_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.py"
    block = "".join(f"layer_{n} = nn.Linear({n % 97 + 1}, 8)\n" for n in range(1_000))
    with open(path, "w") as handle:
        handle.write("import torch.nn as nn\ncriterion = nn.CrossEntropyLoss()\n")
        while handle.tell() < 20_000_000:
            handle.write(block)
    run = check_measured(path)
    assert_within_budget(run)
    size = path.stat().st_size / 1e6
    assert run.returncode == 0
    assert run.stderr == f"{path.name}: skipped: {size:.1f} MB is over max-file-size (5.0 MB)\n"


def test_a_file_just_under_the_default_size_limit(tmp_path: Path) -> None:
    """The largest file the default max-file-size lets through must itself fit the budget."""
    path = tmp_path / "almost_5mb.py"
    line = "x = model(x) + 1  # " + "p" * 40 + "\n"
    with open(path, "w") as handle:
        handle.write("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\n")
        handle.write(line * (4_900_000 // len(line)))
        handle.write("loss = nn.BCEWithLogitsLoss()(model(x), y)\n")
    assert path.stat().st_size < 5_000_000
    assert_within_budget(check_measured(path))


def test_blocks_nested_90_deep(tmp_path: Path) -> None:
    """Deeper than the interpreter reads blocks (40): what they bind is unknown, and nothing fails."""
    path = tmp_path / "blocks.py"
    path.write_text("import torch.nn as nn\nloss = nn.MSELoss()\n" + "".join(
        " " * depth + "if x:\n" for depth in range(90)) + " " * 90 + "y = loss(a, b)\n")
    assert_within_budget(check_measured(path))


def test_a_chain_of_2000_method_calls(tmp_path: Path) -> None:
    path = tmp_path / "chained.py"
    path.write_text("import torch.nn as nn\nloss = nn.MSELoss()\ny = x" + ".f()" * 2000 + "\n")
    run = check_measured(path)
    assert run.seconds < TIME_BUDGET_S and run.peak_mb < MEMORY_BUDGET_MB, run.describe()
    assert "Traceback" not in run.stderr and len(run.stderr.splitlines()) <= 1, run.describe()


def test_each_of_300_notebook_cells_is_still_judged(tmp_path: Path) -> None:
    """The bounds cut work, not results that are cheap to prove: every cell's sigmoid into BCEWithLogits counts."""
    path = tmp_path / "cells.ipynb"
    path.write_text(_notebook_of_loss_cells(300))
    run = check_measured(path)
    assert_within_budget(run)
    assert run.stdout.count("LG101") == 300, run.describe()
