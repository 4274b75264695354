"""Notebooks: cells joined in order, IPython syntax neutralised in place, bad notebooks reported in one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lossguard.static.checker import check_paths
from lossguard.static.notebook import neutralise, read_notebook
from lossguard.static.source import SourceError


def _notebook(*cells: tuple[str, str], version: int = 4) -> bytes:
    return json.dumps({
        "nbformat": version, "nbformat_minor": 5, "metadata": {"about": "cross_entropy"},
        "cells": [{"cell_type": kind, "metadata": {}, "source": source, "outputs": [], "execution_count": None}
                  for kind, source in cells],
    }).encode()


def test_cells_are_numbered_among_all_cells() -> None:
    program = read_notebook(_notebook(("markdown", "# title"), ("code", "a = 1\nb = 2"), ("raw", "x"), ("code", "c = 3")))
    assert program.source == "a = 1\nb = 2\nc = 3\n"
    assert [program.locate(n) for n in (1, 2, 3)] == [(2, 1), (2, 2), (4, 1)]


@pytest.mark.parametrize("line,expected", [
    ("!pip install torch", "pass"),
    ("    !ls", "    pass"),
    ("%matplotlib inline", "pass"),
    ("files = !ls", "pass"),
    ("result = %timeit f()", "pass"),
    ("model?", "pass"),
    ("??model.forward", "pass"),
    ("x = 1  # not a magic", "x = 1  # not a magic"),
    ("ratio = a % b", "ratio = a % b"),
])
def test_line_magics_become_pass_in_place(line: str, expected: str) -> None:
    assert neutralise([line]) == [expected]


def test_python_cell_magic_keeps_its_body_and_others_are_blanked() -> None:
    assert neutralise(["%%time", "x = 1"]) == ["", "x = 1"]
    assert neutralise(["%%bash", "echo (", "ls"]) == ["", "", ""]


def test_magic_inside_a_block_keeps_the_block_valid(tmp_path: Path) -> None:
    source = "import torch.nn.functional as F\nfor i in range(3):\n    !echo hi\n    loss = F.cross_entropy(F.softmax(z, 1), y)\n"
    (tmp_path / "nb.ipynb").write_bytes(_notebook(("code", source)))
    result = check_paths([str(tmp_path)])
    assert [(f.cell, f.line, f.code) for f in result.findings] == [(1, 4, "LG102")]


def test_source_as_a_list_of_lines(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_bytes(_notebook(
        ("code", ["import torch.nn.functional as F\n", "loss = F.nll_loss(F.softmax(z, 1), y)\n"])))
    (finding,) = check_paths([str(tmp_path)]).findings
    assert (finding.cell, finding.line, finding.code) == (1, 2, "LG104")


@pytest.mark.parametrize("data,reason", [
    (b"{not json cross_entropy", "invalid notebook JSON"),
    (_notebook(("code", "x = 1"), version=3), "unsupported notebook format: nbformat 3"),
    (json.dumps({"nbformat": 4, "metadata": {"about": "cross_entropy"}}).encode(), "it has no list of cells"),
    (b'[1, "cross_entropy"]', "the top level is not a JSON object"),
    (b"\xff\xfe\x00 cross_entropy", "cannot decode notebook"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": ["import torch\n", 3, "cross_entropy"]}]})
     .encode(), "invalid notebook: the source of cell 1 is not a string or a list of strings"),
    (json.dumps({"nbformat": 4, "cells": [{"cell_type": "code", "source": {"x": "cross_entropy"}}]}).encode(),
     "invalid notebook: the source of cell 1 is not a string or a list of strings"),
])
def test_bad_notebooks_are_one_line_errors(tmp_path: Path, data: bytes, reason: str) -> None:
    (tmp_path / "bad.ipynb").write_bytes(data)
    (tmp_path / "good.py").write_text("import torch.nn.functional as F\nF.cross_entropy(F.softmax(z, 1), y)\n")
    result = check_paths([str(tmp_path)])
    assert len(result.errors) == 1 and reason in result.errors[0]
    assert result.errors[0].startswith(str(tmp_path / "bad.ipynb") + ":")
    assert [f.code for f in result.findings] == ["LG102"]


def test_syntax_error_in_a_cell_is_located_by_cell(tmp_path: Path) -> None:
    (tmp_path / "nb.ipynb").write_bytes(_notebook(("code", "import torch"), ("markdown", "m"),
                                                  ("code", "x = 1\ndef f(:\n  nn.CrossEntropyLoss()")))
    result = check_paths([str(tmp_path)])
    assert len(result.errors) == 1
    assert result.errors[0].startswith(f"{tmp_path / 'nb.ipynb'}:cell 3:2:")


def test_read_notebook_raises_source_error() -> None:
    with pytest.raises(SourceError):
        read_notebook(b"")


def test_a_cell_indented_as_a_whole_runs_as_in_jupyter(tmp_path: Path) -> None:
    # IPython strips the first line's indentation from the cell: " n = 3\n n\n" runs; the notebook is checked.
    cells = [{"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None, "source": source}
             for source in [" n = 3\n n\n",
                            "import torch.nn as nn\nimport torch.nn.functional as F\n"
                            "loss = F.cross_entropy(F.softmax(z, dim=1), y)\n"]]
    path = tmp_path / "indented.ipynb"
    path.write_text(json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells}))
    result = check_paths([str(path)])
    assert result.errors == [] and [(f.code, f.cell, f.line) for f in result.findings] == [("LG102", 2, 3)]
