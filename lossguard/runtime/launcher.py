"""`lossguard run`: run a program under the runtime guard, the way `coverage run` does.

The program sees the same `sys.argv`, runs as `__main__`, and its exit status is ours. Workers started with
`torch.multiprocessing.spawn` are guarded too (their entry function is wrapped before it is pickled), and under
`torchrun ... -m lossguard run train.py` every worker runs its own `lossguard run`. At the end a summary of the
findings (code, count, first location) goes to stderr; `--strict` turns any finding into exit status 1.
"""

from __future__ import annotations

import functools
import os
import json
import runpy
import shutil
import sys
import tempfile
import traceback
from collections import Counter
from typing import Any, Callable

import click

from lossguard.findings import Finding
from lossguard.rules import get_rule


def summary(findings: list[Finding], rank: int | None = None, node_ranks: int = 0) -> str:
    """One line per rule: code, name, how many call sites, and the first location."""
    prefix = f"lossguard (rank {rank})" if rank is not None else "lossguard"
    if node_ranks:
        prefix = f"lossguard (this node's {node_ranks} workers)"
    if not findings:
        return f"{prefix}: no loss pitfalls seen"
    counts = Counter(f.code for f in findings)
    first: dict[str, Finding] = {}
    for finding in findings:
        first.setdefault(finding.code, finding)
    lines = [f"{prefix}: {len(findings)} loss pitfall(s) seen"]
    for code in sorted(counts):
        where = first[code]
        lines.append(f"  {code} {get_rule(code).name}: {counts[code]} call site(s), first at {where.path}:{where.line}")
    return "\n".join(lines)


def _merged(own: list[Finding], others: list[Finding]) -> list[Finding]:
    """`own`, then the findings of `others` at a (location, code) not in it yet."""
    seen = {(f.path, f.line, f.column, f.code) for f in own}
    merged = list(own)
    for finding in others:
        key = (finding.path, finding.line, finding.column, finding.code)
        if key not in seen:
            seen.add(key)
            merged.append(finding)
    return merged


def _local_world_size() -> int:
    value = os.environ.get("LOCAL_WORLD_SIZE", "")
    return int(value) if value.isdigit() else 0


def _node_summary(found: list[Finding], report: Any) -> str | None:
    """Under torchrun: the summary of every worker of this node, printed by the last one to finish (None for the
    others). Each worker leaves its findings in the job's node folder; the worker that sees all of them there takes
    the folder with an atomic rename (so exactly one prints), merges them and removes it. No worker ever waits: if
    one dies before its end, no node summary is printed and each worker's own findings went out as warnings."""
    folder = os.path.join(report.job_folder(), "summaries")
    local_rank = os.environ.get("LOCAL_RANK", str(os.getpid()))
    try:
        os.makedirs(folder, exist_ok=True)
        partial = os.path.join(folder, f".{local_rank}.tmp")
        with open(partial, "w", encoding="utf-8") as handle:
            handle.writelines(json.dumps({name: getattr(f, name) for name in report.SHARED_FIELDS}) + "\n"
                              for f in found)
        os.replace(partial, os.path.join(folder, f"{local_rank}.jsonl"))
    except OSError:  # nowhere to share: this worker's own summary, as without torchrun
        return summary(found, report.rank())
    taken = f"{folder}.{os.getpid()}"
    try:
        if sum(name.endswith(".jsonl") for name in os.listdir(folder)) < _local_world_size():
            return None
        os.rename(folder, taken)
    except OSError:  # another worker took the folder first: it prints
        return None
    merged = _merged([], report.read_findings(taken))
    shutil.rmtree(taken, ignore_errors=True)
    try:
        os.rmdir(os.path.dirname(taken))
    except OSError:
        pass
    return summary(merged, None, node_ranks=_local_world_size())


def _spawned_entry(fn: Callable[..., Any], policy: str, *args: Any) -> Any:
    """The entry of a worker started by torch.multiprocessing: install the guard, then run the user's function."""
    from lossguard.runtime.api import install

    install(policy)
    return fn(*args)


def _guard_spawned_workers(policy: str) -> None:
    """Make `torch.multiprocessing.spawn` / `start_processes` start guarded workers.

    A spawned worker is a fresh interpreter that unpickles its entry function; wrapping that function in a
    picklable partial of `_spawned_entry` installs the guard there before the user's code runs.
    """
    spawn_module = sys.modules.get("torch.multiprocessing.spawn")
    if spawn_module is None:
        import importlib

        spawn_module = importlib.import_module("torch.multiprocessing.spawn")
    original = spawn_module.start_processes
    if getattr(original, "__lossguard__", False):
        return

    @functools.wraps(original)
    def start_processes(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return original(functools.partial(_spawned_entry, fn, policy), *args, **kwargs)

    start_processes.__lossguard__ = True  # type: ignore[attr-defined]
    spawn_module.start_processes = start_processes


def _split_program(program_args: tuple[str, ...]) -> tuple[str, bool, tuple[str, ...]]:
    """(script or module, is a module, the program's arguments) from what follows lossguard's own options.

    As with `python`, everything after the script or `-m MODULE` belongs to the program: `lossguard run -m
    pkg.train --strict --help` hands `--strict --help` to pkg.train.
    """
    first, rest = program_args[0], program_args[1:]
    if first == "-m" or (first.startswith("-m") and not first.startswith("--")):
        module = first[2:] or (rest[0] if rest else "")
        if not module:
            raise click.UsageError("-m needs a module name")
        return module, True, rest[1:] if first == "-m" else rest
    if first.startswith("-") and first != "-":
        raise click.UsageError(f"no such option: {first}")
    return first, False, rest


def _missing_program(target: str, as_module: bool) -> str | None:
    """Python's own one-line complaint when the script or the module's top package does not exist (None when it
    does). Only the top name is looked up here: finding `pkg.train` would import `pkg` before the guard is
    installed; a missing submodule is caught when runpy reports it (see `_run_program`)."""
    if not as_module:
        if os.path.exists(target):
            return None
        return f"lossguard run: can't open file {os.path.abspath(target)!r}: [Errno 2] No such file or directory"
    import importlib.util

    sys.path.insert(0, os.getcwd())
    try:
        found = importlib.util.find_spec(target.split(".")[0]) is not None
    except (ImportError, ValueError):
        found = False
    finally:
        sys.path.pop(0)
    return None if found else f"lossguard run: No module named {target}"


class _ModuleNotFound(Exception):
    """runpy found no such module: the program never ran (one line, as from python, and no summary)."""


def _raised_by_runpy(error: BaseException) -> bool:
    """True when runpy itself failed to find the module: no frame of the traceback is the program's code."""
    tb = error.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if not (filename.startswith("<frozen ") or os.path.abspath(filename) in
                (os.path.abspath(__file__), os.path.abspath(runpy.__file__))):
            return False
        tb = tb.tb_next
    return True


def _print_interrupt(error: KeyboardInterrupt) -> None:
    """What Python prints for Ctrl-C: the traceback of the program's frames (not the launcher's), then
    `KeyboardInterrupt`."""
    import traceback

    tb = error.__traceback__
    launcher = {os.path.abspath(__file__), os.path.abspath(runpy.__file__)}
    while tb is not None and (os.path.abspath(tb.tb_frame.f_code.co_filename) in launcher
                              or tb.tb_frame.f_code.co_filename.startswith("<frozen runpy")):
        tb = tb.tb_next
    traceback.print_exception(KeyboardInterrupt, error, tb, file=sys.stderr)


EXIT_INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a Python program stopped with Ctrl-C


def _run_program(target: str, as_module: bool, args: tuple[str, ...]) -> int:
    """Run the program as `__main__` with the given argv; return its exit status like the interpreter would."""
    saved_argv, saved_path0 = sys.argv[:], sys.path[0] if sys.path else None
    try:
        if as_module:
            sys.argv = [target, *args]
            sys.path.insert(0, os.getcwd())
            runpy.run_module(target, run_name="__main__", alter_sys=True)
        else:
            sys.argv = [target, *args]
            sys.path.insert(0, os.path.dirname(os.path.abspath(target)))
            runpy.run_path(os.path.abspath(target), run_name="__main__")  # __file__ absolute, as python sets it
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt as interrupt:
        _print_interrupt(interrupt)
        return EXIT_INTERRUPTED
    except ImportError as error:
        if as_module and _raised_by_runpy(error):
            raise _ModuleNotFound(f"lossguard run: {error}") from None
        _print_program_traceback(error)  # the program's own failed import: its traceback, as python prints it
        return 1
    except Exception as error:  # what the interpreter does for an uncaught error: its traceback, status 1
        _print_program_traceback(error)
        return 1
    finally:
        sys.argv = saved_argv
        if saved_path0 is not None and sys.path and sys.path[0] != saved_path0:
            sys.path.pop(0)
    return 0


def _print_program_traceback(error: BaseException) -> None:
    """The traceback as `python script.py` prints it: it starts at the program's own frame, without the frames
    of click, lossguard and runpy that ran it."""
    launcher_files = (runpy.__file__, "<frozen runpy>", os.path.dirname(click.__file__) + os.sep,
                      os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep)
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(launcher_files):
        tb = tb.tb_next
    if type(error).__name__ == "LossGuardError":  # it ends at the user's loss call, not inside torch or the guard
        internal = (launcher_files[-1], os.path.dirname(sys.modules["torch"].__file__) + os.sep)
        last_user, entry = None, tb
        while entry is not None:
            if not os.path.abspath(entry.tb_frame.f_code.co_filename).startswith(internal):
                last_user = entry
            entry = entry.tb_next
        if last_user is not None:
            last_user.tb_next = None
    sys.stdout.flush()
    traceback.print_exception(type(error), error, tb)


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    options_metavar="[OPTIONS]",
)
@click.option("--policy", type=click.Choice(["warn", "raise", "log"]), default=None,
              help="What a finding does (default: warn, or $LOSSGUARD_POLICY).")
@click.option("--strict", is_flag=True, help="Exit with status 1 when any pitfall was seen (and the program exited 0).")
@click.option("--no-value-checks", is_flag=True, help="Only shape, dtype and producer checks; no sampled value checks.")
@click.argument("program_args", nargs=-1, type=click.UNPROCESSED, metavar="(SCRIPT | -m MODULE) [ARGS]...")
def run_command(policy: str | None, strict: bool, no_value_checks: bool, program_args: tuple[str, ...]) -> None:
    """Run a Python program (SCRIPT [ARGS]..., or -m MODULE [ARGS]...) with the runtime guard installed.

    lossguard's options come first; everything after the script or module is the program's own, as with python.
    """
    if not program_args:
        raise click.UsageError("give a script to run, or -m MODULE")
    target, as_module, args = _split_program(program_args)
    policy = policy or os.environ.get("LOSSGUARD_POLICY", "warn")
    try:
        from lossguard.runtime import api, report
    except ImportError as error:
        raise click.UsageError(
            f"'lossguard run' needs {error.name or 'torch'}: install it with `pip install 'lossguard[torch]'`"
        ) from None
    missing = _missing_program(target, as_module)
    if missing is not None:
        click.echo(missing, err=True)
        sys.exit(2 if not as_module else 1)

    run_folder = tempfile.mkdtemp(prefix="lossguard-run-")
    os.environ[report.RUN_FOLDER_VARIABLE], os.environ[report.RUN_PID_VARIABLE] = run_folder, str(os.getpid())
    handle = api.install(policy, value_checks=not no_value_checks)
    _guard_spawned_workers(policy)
    exit_code, ran = 1, True
    try:
        exit_code = _run_program(target, as_module, args)
    except _ModuleNotFound as missing:
        click.echo(str(missing), err=True)
        ran = False
    finally:
        found = _merged(handle.findings, report.read_findings(run_folder))  # the workers' findings count too
        shutil.rmtree(run_folder, ignore_errors=True)
        sys.stderr.flush()
        text = _node_summary(found, report) if _local_world_size() > 1 else summary(found, report.rank())
        if text is not None and ran:
            print(text, file=sys.stderr)
        handle.uninstall()
    if strict and found and exit_code == 0:
        exit_code = 1
    sys.exit(exit_code)
