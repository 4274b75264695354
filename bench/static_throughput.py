"""Throughput and bounds of `lossguard check` on code nobody on the team wrote (run by hand; prints one table):

    python bench/static_throughput.py [--corpora lightning,timm,loss-heavy,transformers] [--anchors] [--one-cold-run]
                                      [--skip-pathological] [--skip-scaling]

The corpora are installed by this script, with pinned versions, into `bench/.cache/` (its own `.gitignore`):
wheels are fetched with `pip download --no-deps` and unpacked, so the trees are exactly the released packages.
The loss-heavy corpus is generated from `fixtures/` (renamed copies; every file mentions a loss). ruff (and, with
`--anchors`, TorchFix and Fixit, which take minutes per tree) are installed into `bench/.cache/tools` with
`pip install --target`: never a dependency of lossguard.

For each corpus, every command runs in its own child process: lossguard cold with `--jobs 1` and with the default
`--jobs`, warm (nothing changed), after editing one file, then the floors: `ast.parse` of every file and
`libcst.parse_module` of the candidate files (those that pass the pre-filter), and `ruff check --select E9
--no-cache`. Columns: wall time, CPU time of the process and its children, files per second (all files of the
tree over wall time), the peak RSS of the largest process (`ru_maxrss` from `os.wait4`), and the ratios of CPU and
wall time to the libcst floor. Then the pathological inputs of issue 9 (each checked alone, killed after 60 s), the
task shape of the process pool, and the loss-heavy corpus at 1x, 2x, 4x and 8x to show that the cost is linear.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
CACHE = REPOSITORY / "bench" / ".cache"
PINNED = {
    "lightning": ("pytorch-lightning", "2.4.0", "pytorch_lightning"),
    "timm": ("timm", "1.0.9", "timm"),
    "transformers": ("transformers", "4.44.2", "transformers"),
}
TOOLS = {"ruff": "ruff==0.6.9"}
ANCHORS = {"torchfix": "torchfix==0.7.0", "fixit": "fixit==2.2.1"}
KILL_AFTER_S = 60.0


@dataclass
class Measure:
    wall: float
    cpu: float
    peak_mb: float
    returncode: int
    note: str = ""


# A child's `ru_maxrss` counts the memory of the process it was forked from (the kernel records the old address
# space's peak at exec), so every command is forked from this small process, which reports that child alone.
_MEASURE = """
import os, sys, time
limit, out, command = float(sys.argv[1]), sys.argv[2], sys.argv[3:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.dup2(descriptor, 1)
    os.dup2(descriptor, 2)
    os.execvp(command[0], command)
while True:
    done, status, usage = os.wait4(pid, os.WNOHANG)
    if done:
        break
    if limit and time.monotonic() - start > limit:
        os.kill(pid, 9)
        done, status, usage = os.wait4(pid, 0)
        break
    time.sleep(0.01)
print(os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, time.monotonic() - start, usage.ru_maxrss)
"""


def measure(command: list[str], cwd: Path | None = None, kill_after: float | None = None,
            env: dict[str, str] | None = None) -> Measure:
    """Wall, CPU (the process and every child it waited for) and peak RSS of the largest of them."""
    with tempfile.NamedTemporaryFile(dir=CACHE, suffix=".out") as output:
        report = subprocess.run([sys.executable, "-c", _MEASURE, str(kill_after or 0), output.name, *command],
                                cwd=cwd, env=env, capture_output=True, text=True, check=True)
        text = Path(output.name).read_text(errors="replace").strip().splitlines()
    code, cpu, wall, peak_kb = report.stdout.split()
    killed = int(code) == -signal.SIGKILL
    note = f"killed after {kill_after:.0f} s" if killed else (text[-1][:90] if text else "")
    return Measure(float(wall), float(cpu), int(peak_kb) / 1024, int(code), note)


def lossguard_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPOSITORY)}


# ---------------------------------------------------------------------------------------------------- corpora
def install_corpus(name: str) -> Path:
    package, version, top = PINNED[name]
    target = CACHE / "corpora" / f"{package}-{version}"
    if not (target / top).is_dir():
        wheels = CACHE / "wheels"
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                        "--dest", str(wheels), f"{package}=={version}"], check=True, stderr=subprocess.DEVNULL)
        wheel = next(wheels.glob(f"{top}-{version}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(target)
    return target / top


def install_tools(anchors: bool) -> dict[str, Path]:
    """Executables of ruff (and TorchFix, Fixit) in the bench's own folder; a tool that does not install is left out."""
    found: dict[str, Path] = {}
    for name, requirement in {**TOOLS, **(ANCHORS if anchors else {})}.items():
        folder = CACHE / "tools" / name
        if not (folder / "bin").is_dir():
            result = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(folder),
                                     *([] if anchors and name in ANCHORS else ["--no-deps"]), requirement],
                                    stderr=subprocess.DEVNULL)
            if result.returncode != 0:
                continue
        executable = folder / "bin" / name
        if executable.exists():
            found[name] = folder
    return found


def tool_command(name: str, folder: Path, tree: Path) -> tuple[list[str], dict[str, str]]:
    env = {**os.environ, "PYTHONPATH": str(folder)}
    if name == "ruff":
        ruff = str(folder / "bin" / "ruff")
        return [ruff, "check", "--select", "E9", "--no-cache", "--no-respect-gitignore", "--quiet", str(tree)], env
    if name == "torchfix":
        return [sys.executable, "-m", "torchfix", str(tree)], env
    return [sys.executable, "-m", "fixit", "lint", str(tree)], env


def loss_heavy_corpus(copies: int) -> Path:
    """`copies` renamed copies of the fixture files that mention a loss (each copy keeps its imports working)."""
    target = CACHE / "corpora" / f"loss-heavy-unique-x{copies}"
    if target.is_dir():
        return target
    temporary = Path(tempfile.mkdtemp(dir=CACHE))
    (temporary / "pyproject.toml").write_text("")
    for copy in range(copies):
        for kind in ("pitfalls", "correct"):
            shutil.copytree(REPOSITORY / "fixtures" / kind, temporary / f"{kind}_{copy}")
    for path in temporary.rglob("*"):
        _make_unique(path, path.relative_to(temporary).as_posix())
    temporary.rename(target)
    return target


def _make_unique(path: Path, name: str) -> None:
    """A different source text in every copy, so that no cache keyed by content can serve one copy from another."""
    if path.suffix == ".py":
        path.write_text(path.read_text() + f"\n# {name}\n")
    elif path.suffix == ".ipynb":
        document = json.loads(path.read_text())
        code = [cell for cell in document["cells"] if cell.get("cell_type") == "code"]
        source = code[-1]["source"]
        code[-1]["source"] = (source if isinstance(source, str) else "".join(source)) + f"\n# {name}\n"
        path.write_text(json.dumps(document))


def candidates(tree: Path) -> tuple[list[str], list[str]]:
    """(every file, the files that pass lossguard's pre-filter) as lossguard discovers them."""
    sys.path.insert(0, str(REPOSITORY))
    from lossguard.static.checker import may_call_a_loss
    from lossguard.static.discover import discover

    files, _ = discover([str(tree)])
    return files, [f for f in files if f.endswith(".py") and may_call_a_loss(Path(f).read_bytes())]


def floor_command(parser: str, files: list[str]) -> list[str]:
    listing = CACHE / f"files-{parser}.json"
    listing.write_text(json.dumps([f for f in files if f.endswith(".py")]))
    call = "ast.parse(s)" if parser == "ast" else "libcst.parse_module(s)"
    script = (f"import ast, json, libcst\nfor f in json.load(open({str(listing)!r})):\n"
              f"    s = open(f, 'rb').read().decode('utf-8', 'replace')\n"
              f"    try:\n        {call}\n    except Exception:\n        pass\n")
    return [sys.executable, "-c", script]


def check_command(tree: Path, cache: Path | None, jobs: int | None) -> list[str]:
    command = [sys.executable, "-m", "lossguard", "check", "--quiet", "--exit-zero", str(tree)]
    command += ["--cache-dir", str(cache)] if cache else ["--no-cache"]
    return command + (["--jobs", str(jobs)] if jobs else [])


# ---------------------------------------------------------------------------------------------------- report
ROW = "| {:<16} | {:<34} | {:>8} | {:>8} | {:>8} | {:>8} | {:>9} | {:>9} |"


def header() -> None:
    print(ROW.format("corpus", "command", "wall s", "CPU s", "files/s", "peak MB", "CPU/libcst", "wall/libcst"))
    print(ROW.format(*["-" * 16, "-" * 34, *["-" * 8] * 4, "-" * 9, "-" * 9]))


def row(corpus: str, label: str, m: Measure, files: int, floor: Measure | None) -> None:
    ratio_cpu = f"{m.cpu / floor.cpu:.2f}x" if floor and floor.cpu else ""
    ratio_wall = f"{m.wall / floor.wall:.2f}x" if floor and floor.wall else ""
    failed = "" if m.returncode in (0, 1) else f" (exit {m.returncode}: {m.note})"
    print(ROW.format(corpus, (label + failed)[:34], f"{m.wall:.2f}", f"{m.cpu:.2f}", f"{files / m.wall:.0f}",
                     f"{m.peak_mb:.0f}", ratio_cpu, ratio_wall), flush=True)


def bench_corpus(name: str, tree: Path, tools: dict[str, Path], one_cold_run: bool = False) -> None:
    files, loss_files = candidates(tree)
    label = f"{name} ({len(files)}/{len(loss_files)})"
    libcst_floor = measure(floor_command("libcst", loss_files))
    cache = Path(tempfile.mkdtemp(dir=CACHE, prefix="lossguard-cache-"))
    env = lossguard_env()
    try:
        if not one_cold_run:
            row(label, "lossguard cold --jobs 1", measure(check_command(tree, cache, 1), env=env), len(files),
                libcst_floor)
            shutil.rmtree(cache)
        row(label, "lossguard cold (default jobs)", measure(check_command(tree, cache, None), env=env), len(files),
            libcst_floor)
        row(label, "lossguard warm", measure(check_command(tree, cache, None), env=env), len(files), libcst_floor)
        edited = Path(loss_files[len(loss_files) // 2]) if loss_files else Path(files[0])
        original = edited.read_bytes()
        try:
            edited.write_bytes(original + b"\n# edited by the benchmark\n")
            row(label, "lossguard after editing one file", measure(check_command(tree, cache, None), env=env),
                len(files), libcst_floor)
        finally:
            edited.write_bytes(original)
        if not one_cold_run:
            row(label, "lossguard --no-cache (default jobs)", measure(check_command(tree, None, None), env=env),
                len(files), libcst_floor)
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    row(label, "ast.parse, every file", measure(floor_command("ast", files)), len(files), libcst_floor)
    row(label, "libcst.parse_module, candidates", libcst_floor, len(files), libcst_floor)
    for tool, folder in tools.items():
        command, tool_env = tool_command(tool, folder, tree)
        row(label, tool + (" --select E9 --no-cache" if tool == "ruff" else ""), measure(command, env=tool_env),
            len(files), libcst_floor)


# ---------------------------------------------------------------------------------------------------- pathological
def pathological_inputs(folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    inputs: dict[str, Path] = {}

    def write(name: str, text: str) -> None:
        inputs[name] = folder / name
        inputs[name].write_text(text)

    nested = "import torch.nn.functional as F\n\ndef f(x):\n    return x\n\nloss = F.cross_entropy({}logits{}, y)\n"
    write("nested_150.py", nested.format("f(" * 150, ")" * 150))
    write("nested_199.py", nested.format("f(" * 199, ")" * 199))
    chain = ["import torch.nn as nn", "criterion = nn.CrossEntropyLoss()",
             "def step_1999(x, y):\n    return criterion(x.softmax(dim=1), y)"]
    chain += [f"def step_{n}(x, y):\n    return step_{n + 1}(x, y) + step_{n + 1}(x, y) + step_{n + 1}(x, y)"
              for n in range(1998, -1, -1)]
    write("chain_2000.py", "\n\n".join(chain) + "\n\nloss = step_0(nn.Linear(4, 3)(x), y)\nloss.backward()\n")
    for cells in (2_000, 10_000):
        setup = ("import torch\nfrom torch import nn\nmodel = nn.Sequential(nn.Linear(8, 1), nn.Sigmoid())\n"
                 "criterion = nn.BCEWithLogitsLoss()\n")
        sources = [setup] + [f"loss_{n} = criterion(model(b_{n}), y_{n})\nloss_{n}.backward()\n" for n in range(cells)]
        write(f"cells_{cells}.ipynb", json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [
            {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": s}
            for s in sources]}))
    block = "".join(f"layer_{n} = nn.Linear({n % 97 + 1}, 8)\n" for n in range(1_000))
    header = "import torch.nn as nn\ncriterion = nn.CrossEntropyLoss()\n"
    write("big_20mb.py", header + block * (20_000_000 // len(block)))
    write("big_4_9mb.py", header + block * (4_900_000 // len(block)))
    write("dense_490kb.py", "import torch.nn as nn\ncriterion = nn.MSELoss()\nv = [" + "1," * 245_000 + "]\n")
    return inputs


def bench_pathological() -> None:
    print("\n| pathological input | size | wall s | CPU s | peak MB | exit | output (last line) |")
    print("|---|---|---|---|---|---|---|")
    for name, path in pathological_inputs(CACHE / "pathological").items():
        m = measure([sys.executable, "-m", "lossguard", "check", "--no-cache", "--jobs", "1", "-q", str(path)],
                    kill_after=KILL_AFTER_S, env=lossguard_env())
        size = path.stat().st_size
        shown = f"{size / 1e6:.1f} MB" if size >= 1e6 else f"{size / 1e3:.0f} kB"
        note = m.note.replace(str(path), name).replace("|", "/")
        print(f"| {name} | {shown} | {m.wall:.1f} | {m.cpu:.1f} | {m.peak_mb:.0f} | {m.returncode} | {note} |",
              flush=True)


def bench_pool_shapes(tree: Path) -> None:
    """Per-file tasks against contiguous chunks (the default) on two workers, in-process calls of the pool."""
    print("\n| pool task shape (loss-heavy x4, 2 workers) | wall s | CPU s |")
    print("|---|---|---|")
    script = (
        "import sys, time\nfrom pathlib import Path\nfrom lossguard.config import Config\n"
        "from lossguard.static import pool\nfrom lossguard.static.checker import may_call_a_loss\n"
        "from lossguard.static.discover import discover\n"
        f"files = [f for f in discover([{str(tree)!r}])[0] if may_call_a_loss(Path(f).read_bytes())]\n"
        "checked = {Path(f).resolve(): f for f in files}\nshape = sys.argv[1]\n"
        "chunks = [[f] for f in files] if shape == 'per-file' else pool.chunked(files, 2) if shape == 'chunks' "
        "else [files[:len(files) // 2], files[len(files) // 2:]]\n"
        "pool.check_in_pool(files, 2, checked, None, Config(root=Path(" + repr(str(tree)) + ")), chunks=chunks)\n"
    )
    for shape, label in (("per-file", "one task per file"), ("chunks", "4 contiguous chunks per worker (default)"),
                         ("halves", "one chunk per worker")):
        m = measure([sys.executable, "-c", script, shape], env=lossguard_env())
        print(f"| {label} | {m.wall:.2f} | {m.cpu:.2f} |", flush=True)


def bench_scaling() -> None:
    print("\n| loss-heavy corpus | files | candidates | wall s (--jobs 1) | CPU s | files/s | CPU ms per candidate |")
    print("|---|---|---|---|---|---|---|")
    for copies in (1, 2, 4, 8):
        tree = loss_heavy_corpus(copies)
        files, loss_files = candidates(tree)
        m = measure(check_command(tree, None, 1), env=lossguard_env())
        print(f"| x{copies} | {len(files)} | {len(loss_files)} | {m.wall:.2f} | {m.cpu:.2f} "
              f"| {len(files) / m.wall:.0f} | {1000 * m.cpu / max(1, len(loss_files)):.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", default="lightning,timm,loss-heavy,transformers")
    parser.add_argument("--anchors", action="store_true", help="also TorchFix and Fixit (minutes per tree)")
    parser.add_argument("--skip-pathological", action="store_true")
    parser.add_argument("--skip-scaling", action="store_true")
    parser.add_argument("--one-cold-run", action="store_true",
                        help="skip the --jobs 1 and --no-cache runs (transformers takes many minutes per cold run)")
    options = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    (CACHE / ".gitignore").write_text("*\n")
    tools = install_tools(options.anchors)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} CPUs, tools: {', '.join(tools) or 'none'}\n")
    header()
    for name in options.corpora.split(","):
        tree = loss_heavy_corpus(4) if name == "loss-heavy" else install_corpus(name)
        bench_corpus(name, tree, tools, options.one_cold_run)
    if not options.skip_pathological:
        bench_pathological()
    if "loss-heavy" in options.corpora:
        bench_pool_shapes(loss_heavy_corpus(4))
    if not options.skip_scaling:
        bench_scaling()


if __name__ == "__main__":
    main()
