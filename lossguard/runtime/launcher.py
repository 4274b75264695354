"""`lossguard run`: run a program under the runtime guard, the way `coverage run` does.

The program sees the same `sys.argv`, runs as `__main__`, and its exit status is ours. Workers started with
`torch.multiprocessing.spawn` are guarded too (their entry function is wrapped before it is pickled), and under
`torchrun ... -m lossguard run train.py` every worker runs its own `lossguard run`. At the end a summary of the
findings (code, count, first location) goes to stderr; `--strict` turns any finding into exit status 1.
"""

from __future__ import annotations

import functools
import os
import runpy
import sys
import traceback
from collections import Counter
from typing import Any, Callable

import click

from lossguard.findings import Finding
from lossguard.rules import get_rule


def summary(findings: list[Finding], rank: int | None = None) -> str:
    """One line per rule: code, name, how many call sites, and the first location."""
    prefix = f"lossguard (rank {rank})" if rank is not None else "lossguard"
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
)
@click.option("-m", "module", metavar="MODULE", help="Run a module as `python -m MODULE` does.")
@click.option("--policy", type=click.Choice(["warn", "raise", "log"]), default=None,
              help="What a finding does (default: warn, or $LOSSGUARD_POLICY).")
@click.option("--strict", is_flag=True, help="Exit with status 1 when any pitfall was seen (and the program exited 0).")
@click.option("--no-value-checks", is_flag=True, help="Only shape, dtype and producer checks; no sampled value checks.")
@click.argument("program_args", nargs=-1, type=click.UNPROCESSED)
def run_command(module: str | None, policy: str | None, strict: bool, no_value_checks: bool,
                program_args: tuple[str, ...]) -> None:
    """Run a Python program (script.py [ARGS...], or -m MODULE [ARGS...]) with the runtime guard installed."""
    if module is None and not program_args:
        raise click.UsageError("give a script to run, or -m MODULE")
    policy = policy or os.environ.get("LOSSGUARD_POLICY", "warn")
    try:
        from lossguard.runtime import api, report
    except ImportError as error:
        raise click.UsageError(
            f"'lossguard run' needs {error.name or 'torch'}: install it with `pip install 'lossguard[torch]'`"
        ) from None

    handle = api.install(policy, value_checks=not no_value_checks)
    _guard_spawned_workers(policy)
    target, args = (module, program_args) if module is not None else (program_args[0], program_args[1:])
    exit_code = 1
    try:
        exit_code = _run_program(target, module is not None, args)
    finally:
        found = handle.findings
        sys.stderr.flush()
        print(summary(found, report.rank()), file=sys.stderr)
        handle.uninstall()
    if strict and found and exit_code == 0:
        exit_code = 1
    sys.exit(exit_code)
