"""The interpreter's work is bounded by construction: inputs built to multiply it finish fast, in little memory,
and valid Python is never an error. Each input runs in a fresh process whose time and peak memory are measured."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

SECONDS, MEGABYTES = 10.0, 300


def _check(path: Path) -> tuple[subprocess.CompletedProcess[str], float, float]:
    """Run the checker on `path` under a small intermediate Python whose only child it is: RUSAGE_CHILDREN there is
    the checker's own peak (measured from this test process it would be the largest child the suite ever ran)."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "started = time.perf_counter()\n"
        "done = subprocess.run([sys.executable, '-m', 'lossguard', 'check', '--quiet', sys.argv[1]],"
        " capture_output=True, text=True)\n"
        "sys.stderr.write(done.stderr)\n"
        "sys.stdout.write(done.stdout)\n"
        "sys.stdout.write(f'\\n@@ {time.perf_counter() - started} {resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}"
        " {done.returncode}\\n')\n"
    )
    measured = subprocess.run([sys.executable, "-c", probe, str(path)], capture_output=True, text=True, timeout=120)
    output, _, figures = measured.stdout.rpartition("\n@@ ")
    seconds, kilobytes, returncode = figures.split()
    done = subprocess.CompletedProcess(measured.args, int(returncode), output, measured.stderr)
    return done, float(seconds), int(kilobytes) / 1024


def _calls_multiplied(n: int) -> str:
    """Each function calls the next twice per iteration of two nested loops, with the model and loss as arguments."""
    lines = ["import torch.nn as nn", "import torch.nn.functional as F"]
    for i in range(n):
        lines += [f"def step{i}(model, crit, x, y):", "    for _ in range(3):", "        for _ in range(3):",
                  f"            out = step{i + 1}(model, crit, x, y) + step{i + 1}(model, crit, x, y)",
                  "            loss = crit(model(x), y)", "            loss.backward()", "    return out"]
    lines += [f"def step{n}(model, crit, x, y):", "    return crit(model(x), y)",
              "model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))",
              "for epoch in range(10):", "    for x, y in loader:", "        step0(model, nn.CrossEntropyLoss(), x, y)"]
    return "\n".join(lines) + "\n"


def _notebook(cells: int) -> str:
    source = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
               "source": "import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(3, 3), nn.Softmax(dim=1))\n"}]
    source += [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
                "source": f"loss{i} = nn.CrossEntropyLoss()(model(x), y)\n"} for i in range(cells)]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": source})


INPUTS = {
    "2000-functions-calling-each-other.py": lambda: _calls_multiplied(2000),
    "10000-cell-notebook.ipynb": lambda: _notebook(10000),
    "nested-calls-150-deep.py": lambda: "import torch.nn as nn\nloss = nn.MSELoss()\ny = " + "f(" * 150 + "1" + ")" * 150 + "\n",
    "nested-blocks-90-deep.py": lambda: "import torch.nn as nn\nloss = nn.MSELoss()\n" + "".join(
        " " * i + "if x:\n" for i in range(90)) + " " * 90 + "y = loss(a, b)\n",
    "dense-generated-700kb.py": lambda: "import torch.nn as nn\nloss = nn.MSELoss()\n" + "\n".join(
        f"y{i} = f(" + ", ".join(f"g({j})" for j in range(50)) + ")" for i in range(2000)) + "\n",
    "chained-methods-2000.py": lambda: "import torch.nn as nn\nloss = nn.MSELoss()\ny = x" + ".f()" * 2000 + "\n",
}


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_pathological_input_is_bounded(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(INPUTS[name]())
    done, seconds, megabytes = _check(path)
    assert seconds < SECONDS, f"{name}: {seconds:.1f} s"
    assert megabytes < MEGABYTES, f"{name}: {megabytes:.0f} MB"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    if name.startswith(("nested-", "2000-", "10000-")):
        assert done.returncode in (0, 1), done.stderr  # valid Python is never an error
    else:
        assert done.returncode in (0, 1, 2) and len(done.stderr.splitlines()) <= 1, done.stderr


def test_the_notebook_and_call_chain_findings_are_still_made(tmp_path: Path) -> None:
    # The bounds cut work, not results that are cheap to prove: every cell's softmax-into-CE is reported.
    path = tmp_path / "nb.ipynb"
    path.write_text(_notebook(300))
    done, _, _ = _check(path)
    assert done.stdout.count("LG102") == 300
