"""Baseline fingerprints: stable across edits that do not touch the lines involved, in files and notebooks."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from lossguard.baseline import fingerprint, load_baseline, new_findings, write_baseline
from lossguard.static.checker import check_paths
from lossguard.static.source_lines import SourceLines

NOTEBOOK = Path(__file__).resolve().parent / "static" / "fixes" / "notebook.before.ipynb"


@pytest.fixture
def notebook(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    shutil.copy(NOTEBOOK, tmp_path / "scores.ipynb")
    return tmp_path / "scores.ipynb"


def _insert_cell(path: Path, index: int, source: list[str]) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    document["cells"].insert(index, {"cell_type": "code", "execution_count": None, "id": "new", "metadata": {},
                                     "outputs": [], "source": source})
    path.write_text(json.dumps(document, indent=1), encoding="utf-8")


def test_a_notebook_cell_inserted_above_keeps_findings_matched(notebook: Path) -> None:
    findings = check_paths([str(notebook)]).findings
    assert [f.code for f in findings] == ["LG101", "LG202"]
    baseline = notebook.parent / "baseline.json"
    write_baseline(baseline, findings, SourceLines())
    _insert_cell(notebook, 1, ["import os\n", "print(os.getcwd())\n"])
    moved = check_paths([str(notebook)]).findings
    assert [f.cell for f in moved] == [f.cell + 1 for f in findings]
    fresh, hidden = new_findings(moved, load_baseline(baseline), SourceLines(), baseline)
    assert fresh == [] and hidden == 2


def test_editing_the_lines_involved_makes_a_finding_new(notebook: Path) -> None:
    (finding, _) = check_paths([str(notebook)]).findings
    before = fingerprint(finding, SourceLines(), notebook.parent / "b.json")
    notebook.write_text(notebook.read_text(encoding="utf-8").replace("torch.sigmoid(logits), labels)",
                                                                     "torch.sigmoid(logits), labels.float())"),
                        encoding="utf-8")
    (edited, _) = check_paths([str(notebook)]).findings
    assert edited.line == finding.line
    assert fingerprint(edited, SourceLines(), notebook.parent / "b.json") != before


def test_identical_copies_count_separately(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    line = "loss = F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)\n"
    (tmp_path / "a.py").write_text("import torch\nimport torch.nn.functional as F\n" + line)
    write_baseline(tmp_path / "b.json", check_paths(["a.py"]).findings, SourceLines())
    (tmp_path / "a.py").write_text("import torch\nimport torch.nn.functional as F\n" + line + line)
    fresh, hidden = new_findings(check_paths(["a.py"]).findings, load_baseline(tmp_path / "b.json"), SourceLines(),
                                 tmp_path / "b.json")
    assert hidden == 1 and [f.line for f in fresh] == [4]
