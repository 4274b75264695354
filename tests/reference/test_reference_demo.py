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
