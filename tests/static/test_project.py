"""Cross-module resolution: the project's own modules behind every import form, each parsed once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lossguard.static.checker import check_paths
from lossguard.static.project import ProjectIndex, project_root

SIGMOID_MODEL = """
import torch
from torch import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(10, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x))


def build_model():
    return nn.Sequential(nn.Linear(10, 1), nn.Sigmoid())


shared_model = Net()
"""
LOGIT_MODEL = SIGMOID_MODEL.replace("torch.sigmoid(self.fc(x))", "self.fc(x)").replace(", nn.Sigmoid()", "")


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


IMPORT_FORMS = {
    "from-import": ("from models import Net\nmodel = Net()\n", "models.py"),
    "import-module": ("import models\nmodel = models.Net()\n", "models.py"),
    "import-as": ("import models as m\nmodel = m.build_model()\n", "models.py"),
    "package-factory": ("from pkg.nets import build_model\nmodel = build_model()\n", "pkg/nets.py"),
    "package-module": ("from pkg import nets\nmodel = nets.Net()\n", "pkg/nets.py"),
    "module-level-instance": ("from models import shared_model as model\n", "models.py"),
    "src-layout": ("from lib.models import Net\nmodel = Net()\n", "src/lib/models.py"),
}
TRAIN = "import torch.nn as nn\n{imports}criterion = nn.BCEWithLogitsLoss()\nloss = criterion(model(x), y)\n"


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
def test_import_forms_resolve_to_the_project_model(tmp_path: Path, form: str) -> None:
    imports, model_file = IMPORT_FORMS[form]
    files = {"pyproject.toml": "", model_file: SIGMOID_MODEL, "train.py": TRAIN.format(imports=imports)}
    if model_file.startswith(("pkg/", "src/lib/")):
        files[str(Path(model_file).parent / "__init__.py")] = ""
    _write(tmp_path, files)
    result = check_paths([str(tmp_path)])
    loss_line = files["train.py"].count("\n")
    assert [(Path(f.path).name, f.code, f.line) for f in result.findings] == [("train.py", "LG101", loss_line)]
    assert Path(result.findings[0].related[0].path).name == Path(model_file).name


@pytest.mark.parametrize("form", sorted(IMPORT_FORMS))
def test_import_forms_twin_with_logits_is_silent(tmp_path: Path, form: str) -> None:
    imports, model_file = IMPORT_FORMS[form]
    files = {"pyproject.toml": "", model_file: LOGIT_MODEL, "train.py": TRAIN.format(imports=imports)}
    _write(tmp_path, files)
    assert check_paths([str(tmp_path)]).findings == []


def test_relative_import_inside_a_package(tmp_path: Path) -> None:
    _write(tmp_path, {
        "app/__init__.py": "",
        "app/model.py": SIGMOID_MODEL,
        "app/train.py": "from torch import nn\nfrom .model import Net\nloss = nn.BCEWithLogitsLoss()(Net()(x), y)\n",
    })
    findings = check_paths([str(tmp_path / "app" / "train.py")]).findings
    assert [(f.code, f.line) for f in findings] == [("LG101", 3)]


def test_checking_one_file_still_reads_its_imports(tmp_path: Path) -> None:
    _write(tmp_path, {"models.py": SIGMOID_MODEL, "train.py": TRAIN.format(imports="from models import Net\nmodel = Net()\n")})
    result = check_paths([str(tmp_path / "train.py")])
    assert [f.code for f in result.findings] == ["LG101"] and result.files_checked == 1


def test_a_local_module_named_like_a_name_in_torch_is_not_confused(tmp_path: Path) -> None:
    _write(tmp_path, {"nn.py": SIGMOID_MODEL, "train.py": "import torch.nn as nn\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"})
    assert check_paths([str(tmp_path)]).findings == []


def test_import_cycle_terminates(tmp_path: Path) -> None:
    _write(tmp_path, {
        "a.py": "from b import helper\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Linear(2, 1), nn.Sigmoid())\n"
                "loss = nn.BCEWithLogitsLoss()(model(x), y)\n",
        "b.py": "from a import model\n\ndef helper():\n    return model\n",
    })
    result = check_paths([str(tmp_path)])
    assert [(Path(f.path).name, f.code) for f in result.findings] == [("a.py", "LG101")]


def test_unparsable_imported_module_is_unknown_not_fatal(tmp_path: Path) -> None:
    _write(tmp_path, {"models.py": "def broken(:\n", "train.py": TRAIN.format(imports="from models import Net\nmodel = Net()\n")})
    result = check_paths([str(tmp_path / "train.py")])
    assert result.findings == [] and result.errors == []


def test_each_module_is_parsed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _write(tmp_path, {
        "models.py": SIGMOID_MODEL,
        "train_a.py": TRAIN.format(imports="from models import Net\nmodel = Net()\n"),
        "train_b.py": TRAIN.format(imports="import models\nmodel = models.build_model()\n"),
    })
    import lossguard.static.project as project

    parsed: list[int] = []
    real_parse = project.parse
    monkeypatch.setattr(project, "parse", lambda source: parsed.append(1) or real_parse(source))
    result = check_paths([str(tmp_path)])
    assert len(result.findings) == 2
    assert len(parsed) == 3


def test_project_root_is_the_folder_with_a_marker(tmp_path: Path) -> None:
    _write(tmp_path, {"setup.py": "", "a/b/c.py": ""})
    assert project_root(tmp_path / "a" / "b") == tmp_path
    lonely = tmp_path / "x"
    assert isinstance(ProjectIndex(), ProjectIndex) and project_root(lonely) == tmp_path


@pytest.mark.parametrize("warning_option", ["always", "error"])
def test_python_warnings_about_the_checked_source_do_not_leak(tmp_path: Path, warning_option: str) -> None:
    # "\d" is a DeprecationWarning (a SyntaxWarning since 3.12), `x is 1` a SyntaxWarning: Python's parser reports
    # them for the checked file; lossguard must neither print them nor, under -W error, fail the file for them.
    (tmp_path / "train.py").write_text(
        'import torch.nn as nn\npattern = "\\d+"\nok = pattern is 1\n'
        "model = nn.Sequential(nn.Linear(4, 1), nn.Sigmoid())\nloss = nn.BCEWithLogitsLoss()(model(x), y)\n"
    )
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-W", warning_option, "-m", "lossguard", "check", "-q", str(tmp_path)],
                          capture_output=True, text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(root)})
    assert done.stderr == ""
    assert done.returncode == 1 and "LG101" in done.stdout
