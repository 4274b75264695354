"""`lossguard run`: same argv, __main__ and exit status; a summary on stderr; spawned and torchrun workers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


PROGRAMS = Path(__file__).parent / "programs"


def _run(*args: str, cwd: Path = PROGRAMS, timeout: int = 180) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    env.pop("LOSSGUARD_POLICY", None)
    return subprocess.run([sys.executable, *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)


def test_run_keeps_argv_main_and_the_exit_status():
    done = _run("-m", "lossguard", "run", str(PROGRAMS / "exit_three.py"), "3", "--flag")
    assert done.returncode == 3, done.stderr
    assert "argv ['3', '--flag'] __main__" in done.stdout
    line = next(i for i, text in enumerate((PROGRAMS / "exit_three.py").read_text().splitlines(), 1) if "# LG102" in text)
    assert f"exit_three.py:{line}: LossGuardWarning: LG102" in done.stderr
    assert done.stderr.count("LossGuardWarning") == 1
    assert "lossguard: 1 loss pitfall(s) seen" in done.stderr
    assert f"LG102 softmax-into-cross-entropy: 1 call site(s), first at {PROGRAMS / 'exit_three.py'}:{line}" in done.stderr


def test_strict_turns_findings_into_exit_status_one():
    assert _run("-m", "lossguard", "run", "--strict", "exit_three.py", "0").returncode == 1
    assert _run("-m", "lossguard", "run", "exit_three.py", "0").returncode == 0
    assert _run("-m", "lossguard", "run", "--strict", "exit_three.py", "3").returncode == 3


def test_raise_policy_stops_the_program():
    done = _run("-m", "lossguard", "run", "--policy", "raise", "exit_three.py", "0")
    assert done.returncode == 1 and "LossGuardError" in done.stderr


def test_run_a_module_with_dash_m():
    done = _run("-m", "lossguard", "run", "-m", "pkg.train", "x", "-y")
    assert done.returncode == 0, done.stderr
    assert "argv ['x', '-y'] __main__" in done.stdout and "LG301" in done.stderr


def test_workers_started_by_torch_multiprocessing_spawn_are_guarded():
    done = _run("-m", "lossguard", "run", "spawn_train.py")
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("LossGuardWarning: LG103") == 2  # one per worker: they are not a torch.distributed job


def test_torchrun_guards_every_worker_and_prints_a_finding_once_per_node(tmp_path):
    done = _run("-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=0", "--rdzv_backend=c10d",
                "--rdzv_endpoint=localhost:0", "-m", "lossguard", "run", str(PROGRAMS / "ddp_train.py"),
                cwd=tmp_path, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    output = done.stdout + done.stderr
    warnings_printed = [line for line in output.splitlines() if "LossGuardWarning: LG101" in line]
    assert len(warnings_printed) == 1, output[-3000:]
    assert "; rank 0)" in warnings_printed[0] or "; rank 1)" in warnings_printed[0]
    # One summary for the node, printed by the last worker to finish, with what every worker saw.
    assert output.count("loss pitfall(s) seen") == 1, output[-3000:]
    assert "lossguard (this node's 2 workers): 1 loss pitfall(s) seen" in output
    assert "lossguard (rank" not in output


def test_everything_after_the_module_belongs_to_the_program():
    done = _run("-m", "lossguard", "run", "-m", "pkg.train", "--strict", "--help", "--lr", "0.1")
    assert done.returncode == 0, done.stderr
    assert "argv ['--strict', '--help', '--lr', '0.1'] __main__" in done.stdout
    assert "Usage:" not in done.stdout + done.stderr
    assert _run("-m", "lossguard", "run", "--strict", "-m", "pkg.train").returncode == 1  # lossguard's, before it
    assert "argv ['-x'] __main__" in _run("-m", "lossguard", "run", "-mpkg.train", "-x").stdout


def test_an_unknown_option_before_the_program_is_a_usage_error():
    done = _run("-m", "lossguard", "run", "--stritc", "exit_three.py")
    assert done.returncode == 2 and "no such option: --stritc" in done.stderr and "Traceback" not in done.stderr


def test_a_missing_script_or_module_is_one_line_as_with_python():
    done = _run("-m", "lossguard", "run", "no_such_script.py", "--lr", "1")
    assert (done.returncode, done.stderr.splitlines()) == (2, [
        f"lossguard run: can't open file '{PROGRAMS / 'no_such_script.py'}': [Errno 2] No such file or directory"])
    for module in ("pkg.no_such_module", "no_such_package.train"):
        done = _run("-m", "lossguard", "run", "-m", module)
        assert (done.returncode, done.stderr.splitlines()) == (1, [f"lossguard run: No module named {module}"])


def test_ctrl_c_is_a_keyboard_interrupt_with_exit_status_130():
    done = _run("-m", "lossguard", "run", "interrupted.py")
    assert done.returncode == 130, done.stderr
    lines = done.stderr.splitlines()
    assert "Aborted!" not in lines and "KeyboardInterrupt" in lines
    assert lines[0] == "Traceback (most recent call last):" and "interrupted.py" in lines[1]
    assert "launcher.py" not in done.stderr and "runpy" not in done.stderr
    assert lines[-1] == "lossguard: no loss pitfalls seen"


def test_an_error_of_the_program_shows_its_own_traceback_and_exit_status_one():
    done = _run("-m", "lossguard", "run", "raises.py")
    plain = _run("raises.py")
    assert done.returncode == plain.returncode == 1
    traceback = done.stderr[:done.stderr.index("lossguard: no loss pitfalls seen")]
    assert traceback == plain.stderr  # as `python raises.py` prints it: from the program's first frame


def test_a_loss_guard_error_ends_the_traceback_at_the_users_line():
    done = _run("-m", "lossguard", "run", "--policy", "raise", "exit_three.py", "0")
    frames = [line.strip() for line in done.stderr.splitlines() if line.strip().startswith("File ")]
    assert done.returncode == 1
    assert frames == [f'File "{PROGRAMS / "exit_three.py"}", line {_marked_line("# LG102")}, in <module>']


def _marked_line(marker: str) -> int:
    text = (PROGRAMS / "exit_three.py").read_text().splitlines()
    return next(i for i, line in enumerate(text, 1) if marker in line)
