"""Two ranks of a torch.distributed job (gloo on the CPU, under torchrun): a finding that only one rank sees is
reported, with that rank, and counted in the node's summary; the once-per-node printing of a finding every rank
sees (tests/runtime/test_launcher.py) loses nothing of the others'."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROGRAMS = Path(__file__).parent / "programs"


def _line(marker: str) -> int:
    text = (PROGRAMS / "one_rank_train.py").read_text().splitlines()
    return next(number for number, line in enumerate(text, 1) if marker in line)


def test_a_finding_of_one_rank_only_is_reported_with_its_rank_and_counted_for_the_node(tmp_path):
    environment = {**os.environ, "PYTHONWARNINGS": "default", "TMPDIR": str(tmp_path)}
    environment.pop("LOSSGUARD_POLICY", None)
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=0",
         "--rdzv_backend=c10d", "--rdzv_endpoint=localhost:0", "-m", "lossguard", "run",
         str(PROGRAMS / "one_rank_train.py")],
        cwd=tmp_path, capture_output=True, text=True, env=environment, timeout=240)
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    printed = [line for line in output.splitlines() if "LossGuardWarning:" in line]
    rank_one, rank_zero = _line("# LG102 on rank 1 only"), _line("# LG301 on rank 0 only")
    assert [line for line in printed if "LG102" in line] == [
        next(line for line in printed if f"one_rank_train.py:{rank_one}: LossGuardWarning: LG102" in line)]
    assert "; rank 1)" in next(line for line in printed if "LG102" in line)
    assert len([line for line in printed if "LG301" in line]) == 1
    assert "; rank 0)" in next(line for line in printed if "LG301" in line)
    assert "lossguard (this node's 2 workers): 2 loss pitfall(s) seen" in output, output[-3000:]
    assert f"one_rank_train.py:{rank_one}" in output.split("loss pitfall(s) seen")[-1]
    assert f"one_rank_train.py:{rank_zero}" in output.split("loss pitfall(s) seen")[-1]
    assert list(tmp_path.glob("lossguard-*/*")) == []  # every marker and summary file removed
