"""`lossguard demo`: the table, the PyTorch-vs-lossguard messages, and the PNG."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from lossguard.cli import main


def test_binary_demo_writes_a_valid_png(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "out.png"
    result = CliRunner().invoke(main, ["demo", "--task", "binary", "--epochs", "5", "--plot", str(out)])
    assert result.exit_code == 0, result.output
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 400 and height >= 200
    assert 5_000 < len(data) < 200_000


def test_table_has_every_variant_and_the_codes(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["demo", "--task", "multiclass", "--epochs", "3"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split()[:2] == ["task", "variant"]
    for variant in ("reference", "softmax into CE (LG102)", "softmax into NLL (LG104)",
                    "one-hot targets (LG201)", "float class indices (LG202)"):
        assert any(variant in line for line in lines[1:6])
    raising = next(line for line in lines if "float class indices (LG202)" in line)
    assert "raises" in raising


def test_pytorch_error_is_shown_next_to_lossguards_message() -> None:
    result = CliRunner().invoke(main, ["demo", "--task", "binary", "--epochs", "3"])
    assert result.exit_code == 0, result.output
    torch_line = next(i for i, line in enumerate(result.output.splitlines()) if "all elements of input" in line)
    lossguard_line = result.output.splitlines()[torch_line + 1]
    assert lossguard_line.strip().startswith("lossguard:") and "LG106" in lossguard_line


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = CliRunner().invoke(main, ["demo", "--task", "binary", "--epochs", "2", "--plot", str(tmp_path / "x.png")])
    assert result.exit_code == 2
    assert "pip install 'lossguard[plot]'" in result.output
    assert not (tmp_path / "x.png").exists()


def test_check_does_not_import_the_reference_models(tmp_path: Path) -> None:
    """`lossguard check` must stay torch-free: the demo (and torch) load only when `demo` is invoked."""
    import subprocess

    (tmp_path / "train.py").write_text("x = 1\n")
    probe = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from lossguard.cli import main\n"
        f"CliRunner().invoke(main, ['check', {str(tmp_path)!r}])\n"
        "print(sorted(m for m in sys.modules if m.startswith('lossguard.reference') or m == 'torch'))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize("name,message", [
    ("no_such_folder/curves.png", "cannot write"),
    ("curves.xyz", "matplotlib cannot write .xyz files"),
])
def test_a_bad_plot_path_is_refused_before_training(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    name: str, message: str) -> None:
    pytest.importorskip("matplotlib")
    from lossguard.reference import demo

    def no_training(*args, **kwargs):
        raise AssertionError("trained before checking --plot")

    monkeypatch.setattr(demo, "run_task", no_training)
    result = CliRunner().invoke(main, ["demo", "--plot", str(tmp_path / name)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "Invalid value for '--plot'" in result.output and message in result.output
    assert list(tmp_path.iterdir()) == []


def test_the_demo_trains_on_one_thread_and_gives_the_caller_its_threads_back(monkeypatch: pytest.MonkeyPatch) -> None:
    import torch

    from lossguard.reference import demo

    seen: list[int] = []
    real = demo.run_task
    monkeypatch.setattr(demo, "run_task", lambda *args: (seen.append(torch.get_num_threads()), real(*args))[1])
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        assert CliRunner().invoke(main, ["demo", "--task", "binary", "--epochs", "2"]).exit_code == 0
        assert seen == [demo.DEMO_THREADS] == [1] and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
