"""Sweep: `lossguard check` over every `.py` file of installed packages (by default torch, transformers, timm).

    PYTHONPATH=$PWD python bench/sweep_packages.py [--packages torch transformers timm] [--search DIR]
                                                   [--jobs 2] [--timeout 1800] [--slowest N] [--out DIR]

Each package folder is checked as one path (imports between its modules resolve, as in a user's project) by
`python -m lossguard check --format json --exit-zero --no-cache` in a child process, with an empty configuration.
A package is found in the --search folders first (install one there without touching the environment:
`pip install --no-deps --target DIR transformers timm`), else where this Python finds it; nothing is imported.

Prints per package: .py files on disk, files lossguard checked, files it skipped (and why), parse errors, internal
errors, tracebacks, a run past --timeout, findings per rule, and the child's wall time, CPU time (user + system,
workers included) and peak memory (the largest resident set of the process and its workers). The findings and the
error lines are saved under --out for reading. With --slowest N, each file that starts an analysis is then checked
again on its own in this process (the CLI's per-file unit, a CheckSession) and timed: the N slowest are printed, so a
file near a timeout shows even when the whole run finishes. Exits 1 when anything went wrong inside lossguard.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPOSITORY))

from lossguard.static.discover import discover  # noqa: E402


@dataclass
class Sweep:
    """What one package's run produced."""

    package: str
    folder: Path
    python_files: int = 0
    discovered: int = 0
    undiscovered: list[str] = field(default_factory=list)
    findings: list[dict] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)
    returncode: int | None = None
    timed_out: bool = False
    wall_s: float = 0.0
    per_file: list[tuple[float, str]] = field(default_factory=list)  # (seconds, file) with --slowest, slowest first
    cpu_s: float = 0.0
    peak_kb: int = 0

    def lines_with(self, marker: str) -> list[str]:
        return [line for line in self.stderr if marker in line]

    @property
    def internal_errors(self) -> list[str]:
        return self.lines_with("internal error")

    @property
    def tracebacks(self) -> list[str]:
        return self.lines_with("Traceback")

    @property
    def other_errors(self) -> list[str]:
        return [line for line in self.lines_with(": error: ") if "internal error" not in line]

    @property
    def skipped(self) -> list[str]:
        return self.lines_with(": skipped: ")

    @property
    def broken(self) -> bool:
        return bool(self.internal_errors or self.tracebacks or self.timed_out or self.returncode not in (0, 2))


def package_folder(name: str, search: list[Path]) -> Path:
    """The folder of package `name`: in the --search folders first, else on this Python's path (not imported)."""
    spec = importlib.machinery.PathFinder.find_spec(name, [str(folder) for folder in search]) if search else None
    spec = spec or importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(f"{name}: no such package (install it, or name its folder's parent with --search)")
    return Path(next(iter(spec.submodule_search_locations)))


def python_files(folder: Path) -> list[str]:
    return sorted(os.path.join(root, name) for root, _, names in os.walk(folder) for name in names
                  if name.endswith(".py") and os.path.isfile(os.path.join(root, name)))


def run_checker(paths: list[str], jobs: int, timeout: float, sweep: Sweep) -> None:
    """Run the CLI on `paths` as a child; its rusage (from wait4) includes the worker processes it waited for."""
    with tempfile.TemporaryDirectory() as scratch:
        config = Path(scratch, "pyproject.toml")
        config.write_text("[tool.lossguard]\n")
        out, err = Path(scratch, "out"), Path(scratch, "err")
        command = [sys.executable, "-m", "lossguard", "check", "--format", "json", "--exit-zero", "--no-cache",
                   "--jobs", str(jobs), "--config", str(config), *paths]
        environment = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
        started = time.perf_counter()
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            child = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=environment, cwd=scratch)
            while True:
                pid, status, usage = os.wait4(child.pid, os.WNOHANG)
                if pid:
                    break
                if time.perf_counter() - started > timeout:
                    sweep.timed_out = True
                    child.kill()
                    pid, status, usage = os.wait4(child.pid, 0)
                    break
                time.sleep(0.2)
        child.returncode = os.waitstatus_to_exitcode(status)
        sweep.returncode = child.returncode
        sweep.wall_s = time.perf_counter() - started
        sweep.cpu_s = usage.ru_utime + usage.ru_stime
        sweep.peak_kb = usage.ru_maxrss
        sweep.stderr = err.read_text(errors="replace").splitlines()
        text = out.read_text(errors="replace")
        sweep.findings = json.loads(text) if text.strip().startswith("[") else []


def time_each_file(folder: Path, sweep: Sweep) -> None:
    """Check every file that starts an analysis on its own in this process, as a worker of the CLI would."""
    from lossguard.config import Config
    from lossguard.static.checker import may_call_a_loss
    from lossguard.static.project import ProjectIndex
    from lossguard.static.session import CheckSession

    files, _ = discover([str(folder)])
    config = Config()
    imports = ProjectIndex()
    session = CheckSession({Path(file).resolve(): file for file in files}, None, config)
    for file in files:
        data = Path(file).read_bytes()
        if len(data) > config.max_file_size:
            continue
        if not may_call_a_loss(data) and not imports.imports_a_candidate(Path(file), data, may_call_a_loss):
            continue
        started = time.process_time()
        session.check(file)
        sweep.per_file.append((time.process_time() - started, file))
    sweep.per_file.sort(reverse=True)


def sweep_package(name: str, search: list[Path], jobs: int, timeout: float) -> Sweep:
    folder = package_folder(name, search)
    sweep = Sweep(name, folder)
    on_disk = python_files(folder)
    found, _ = discover([str(folder)])
    sweep.python_files, sweep.discovered = len(on_disk), len([f for f in found if f.endswith(".py")])
    # A file discovery leaves out (a folder named build/, env/, ...) is named explicitly: then it is checked too.
    sweep.undiscovered = sorted(set(on_disk) - set(found))
    run_checker([str(folder), *sweep.undiscovered], jobs, timeout, sweep)
    return sweep


def report(sweep: Sweep, out: Path, slowest: int) -> None:
    codes = Counter(finding["code"] for finding in sweep.findings)
    print(f"== {sweep.package} ({sweep.folder})")
    print(f"  .py files: {sweep.python_files}; found by discovery: {sweep.discovered}; "
          f"left out by discovery and named explicitly: {len(sweep.undiscovered)}")
    print(f"  skipped over max-file-size: {len(sweep.skipped)}; cannot parse/read: {len(sweep.other_errors)}; "
          f"internal errors: {len(sweep.internal_errors)}; tracebacks: {len(sweep.tracebacks)}; "
          f"timed out: {sweep.timed_out}; exit code: {sweep.returncode}")
    print(f"  findings: {len(sweep.findings)}" + (f" ({', '.join(f'{c}: {n}' for c, n in sorted(codes.items()))})"
                                                  if codes else ""))
    print(f"  wall {sweep.wall_s:.1f} s, CPU {sweep.cpu_s:.1f} s, peak {sweep.peak_kb / 1024:.0f} MB")
    for line in [*sweep.skipped, *sweep.other_errors, *sweep.internal_errors, *sweep.tracebacks]:
        print(f"    {line}")
    if sweep.per_file:
        total = sum(seconds for seconds, _ in sweep.per_file)
        print(f"  analysed alone: {len(sweep.per_file)} files, CPU {total:.1f} s; slowest:")
        for seconds, file in sweep.per_file[:slowest]:
            print(f"    {seconds:6.2f} s  {os.path.relpath(file, sweep.folder)}")
    (out / f"{sweep.package}.json").write_text(json.dumps(sweep.findings, indent=1))
    (out / f"{sweep.package}.stderr").write_text("\n".join(sweep.stderr) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packages", nargs="+", default=["torch", "transformers", "timm"])
    parser.add_argument("--search", type=Path, action="append", default=[],
                        help="a folder to look for the packages in first (repeatable)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=1800.0, help="seconds one package's run may take")
    parser.add_argument("--slowest", type=int, default=0, help="time each file alone; print the N slowest")
    parser.add_argument("--out", type=Path, default=Path("sweep-results"))
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    # Every CLI run first: a child's peak memory counts its parent's size at the fork, and timing files in this
    # process (--slowest) makes this process large.
    sweeps = [sweep_package(name, options.search, options.jobs, options.timeout) for name in options.packages]
    for sweep in sweeps:
        if options.slowest:
            time_each_file(sweep.folder, sweep)
        report(sweep, options.out, options.slowest)
    return 1 if any(sweep.broken for sweep in sweeps) else 0


if __name__ == "__main__":
    sys.exit(main())
