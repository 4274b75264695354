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


MAIN_BLOCK_MODEL = """import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.fc = nn.Linear(width, 3)

    def forward(self, x):
        return F.log_softmax(self.fc(x), dim=1)


if __name__ == "__main__":
""" + "".join(f"    print(Net({width})(x))\n" for width in range(1, 10))
MAIN_BLOCK_TRAIN = "import torch.nn as nn\nfrom models import Net\nmodel = Net(16)\n" \
    "loss = nn.CrossEntropyLoss()(model(x), y)\n"


def test_an_imported_module_never_runs_its_main_block_even_when_checked_too(tmp_path: Path) -> None:
    """`if __name__ == "__main__":` runs only in the file under analysis: a module it imports is not the program,
    also when the same run checks it: the main block's nine model builds once used up the reads of `Net.__init__`
    that train.py's own build needed, so a whole-folder check lost the finding that train.py alone had."""
    _write(tmp_path, {"models.py": MAIN_BLOCK_MODEL, "train.py": MAIN_BLOCK_TRAIN})
    alone = check_paths([str(tmp_path / "train.py")]).findings
    together = check_paths([str(tmp_path / "train.py"), str(tmp_path / "models.py")]).findings
    assert [(Path(f.path).name, f.code) for f in alone] == [("train.py", "LG103")]
    assert [(Path(f.path).name, f.code) for f in together] == [("train.py", "LG103")]


def test_a_checked_module_runs_its_own_main_block(tmp_path: Path) -> None:
    model = MAIN_BLOCK_MODEL + "    print(nn.CrossEntropyLoss()(Net(4)(x), y))\n"
    _write(tmp_path, {"models.py": model})
    assert [f.code for f in check_paths([str(tmp_path / "models.py")]).findings] == ["LG103"]


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


STAR_TRAIN = """
from models import *

model = Net()
criterion = nn.BCEWithLogitsLoss()
loss = criterion(model(x), y)
"""


def test_star_import_brings_the_model_and_the_modules_own_nn(tmp_path: Path) -> None:
    # `nn` in train.py comes from models.py's own `from torch import nn`, through the star import.
    _write(tmp_path, {"models.py": SIGMOID_MODEL, "train.py": STAR_TRAIN})
    result = check_paths([str(tmp_path / "train.py")])
    assert [(f.code, f.line) for f in result.findings] == [("LG101", 6)]


def test_star_import_respects_all(tmp_path: Path) -> None:
    _write(tmp_path, {"models.py": SIGMOID_MODEL + "\n__all__ = ['build_model']\n", "train.py": STAR_TRAIN})
    assert check_paths([str(tmp_path / "train.py")]).findings == []


def test_star_import_of_a_logit_model_is_silent(tmp_path: Path) -> None:
    _write(tmp_path, {"models.py": LOGIT_MODEL, "train.py": STAR_TRAIN})
    assert check_paths([str(tmp_path / "train.py")]).findings == []


@pytest.mark.parametrize("layout", ["package-reexport", "relative-depth-two", "no-marker"])
def test_package_layouts(tmp_path: Path, layout: str) -> None:
    if layout == "package-reexport":
        files = {"setup.cfg": "", "nets/__init__.py": "from .unet import Net\n", "nets/unet.py": SIGMOID_MODEL,
                 "train.py": TRAIN.format(imports="from nets import Net\nmodel = Net()\n")}
        checked = "train.py"
    elif layout == "relative-depth-two":
        files = {"pyproject.toml": "", "app/__init__.py": "", "app/models/__init__.py": "",
                 "app/models/net.py": SIGMOID_MODEL, "app/jobs/__init__.py": "",
                 "app/jobs/train.py": TRAIN.format(imports="from ..models.net import Net\nmodel = Net()\n")}
        checked = "app/jobs/train.py"
    else:
        files = {"models.py": SIGMOID_MODEL, "train.py": TRAIN.format(imports="from models import Net\nmodel = Net()\n")}
        checked = "train.py"
    _write(tmp_path, files)
    result = check_paths([str(tmp_path / checked)])
    assert [f.code for f in result.findings] == ["LG101"], result


ENGINE = """
def train_epoch(model, criterion, loader):
    for x, y in loader:
        loss = criterion(model(x), y)
        loss.backward()
"""


def test_finding_in_a_module_the_checked_file_calls_into(tmp_path: Path) -> None:
    # pre-commit checks only the staged train.py; the pitfall shows at the loss call in engine.py, caused by train.py.
    train = ("import torch.nn as nn\nfrom engine import train_epoch\n"
             "model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=1))\n"
             "train_epoch(model, nn.CrossEntropyLoss(), loader)\n")
    _write(tmp_path, {"engine.py": ENGINE, "train.py": train})
    result = check_paths([str(tmp_path / "train.py")])
    (finding,) = result.findings
    assert (Path(finding.path).name, finding.line, finding.code) == ("engine.py", 4, "LG102")
    assert [(Path(loc.path).name, loc.line) for loc in finding.related] == [("train.py", 3), ("train.py", 4)]
    assert "reached from" in finding.message and "train.py:4" in finding.message


def test_a_correct_caller_leaves_the_called_module_silent(tmp_path: Path) -> None:
    train = ("import torch.nn as nn\nfrom engine import train_epoch\n"
             "model = nn.Sequential(nn.Linear(4, 3))\ntrain_epoch(model, nn.CrossEntropyLoss(), loader)\n")
    _write(tmp_path, {"engine.py": ENGINE, "train.py": train})
    assert check_paths([str(tmp_path / "train.py")]).findings == []


TEST_FILE = """
import torch
import torch.nn.functional as F


def test_bce_matches_reference():
    logits = torch.randn(4, 1)
    target = torch.rand(4, 1)
    expected = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), target)
    assert torch.allclose(my_loss(logits, target), expected)


def test_training_step_trains():
    logits = model(x)
    loss = F.binary_cross_entropy_with_logits(torch.sigmoid(logits), target)
    loss.backward()
"""


def test_a_test_files_expected_values_are_not_findings(tmp_path: Path) -> None:
    # A loss whose value only feeds an assertion computes an expected value; one that is back-propagated trains.
    _write(tmp_path, {"tests/test_losses.py": TEST_FILE})
    result = check_paths([str(tmp_path / "tests" / "test_losses.py")])
    assert [(f.code, f.line) for f in result.findings] == [("LG101", 15)]


def test_a_checked_file_that_names_no_loss_is_read_when_it_imports_one(tmp_path: Path) -> None:
    # main.py never names a loss: the pre-filter lets it through because engine.py (two imports away) does.
    engine = ("import torch.nn as nn\n\n\ndef fit(model, loader):\n    criterion = nn.CrossEntropyLoss()\n"
              "    for x, y in loader:\n        criterion(model(x), y).backward()\n")
    _write(tmp_path, {
        "pkg/__init__.py": "", "pkg/engine.py": engine, "pkg/runner.py": "from pkg.engine import fit\n",
        "main.py": ("import torch.nn as nn\nfrom pkg import runner\n\n\ndef main():\n"
                    "    runner.fit(nn.Sequential(nn.Linear(4, 3), nn.LogSoftmax(dim=1)), loader)\n"),
    })
    result = check_paths([str(tmp_path / "main.py")])
    assert [(Path(f.path).name, f.line, f.code) for f in result.findings] == [("engine.py", 7, "LG103")]


def test_a_package_reexport_shadows_the_submodule_of_the_same_name(tmp_path: Path) -> None:
    # unet/__init__.py re-exports the class UNet3Plus from the submodule unet/UNet3Plus.py: the class wins.
    model = SIGMOID_MODEL.replace("class Net(", "class UNet3Plus(")
    train = ("import torch.nn as nn\nfrom unet import UNet3Plus\n\nif __name__ == '__main__':\n"
             "    model = UNet3Plus()\n    loss = nn.BCEWithLogitsLoss()(model(x), y)\n")
    _write(tmp_path, {"unet/__init__.py": "from .UNet3Plus import UNet3Plus\n", "unet/UNet3Plus.py": model,
                      "train.py": train})
    result = check_paths([str(tmp_path / "train.py")])
    assert [(f.code, f.line) for f in result.findings] == [("LG101", 6)]


def test_no_marker_file_and_a_package_imported_from_the_top(tmp_path: Path) -> None:
    # No pyproject/setup/.git; src/train.py imports `src.model`, as it does when main.py at the top runs it.
    _write(tmp_path, {"src/model.py": SIGMOID_MODEL,
                      "src/train.py": TRAIN.format(imports="from src.model import Net\nmodel = Net()\n")})
    result = check_paths([str(tmp_path / "src" / "train.py")])
    assert [f.code for f in result.findings] == ["LG101"]


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


def test_a_loss_module_defined_in_a_test_file_is_still_checked(tmp_path: Path) -> None:
    # A criterion whose forward feeds raw scores to nll_loss trains wrongly wherever it is defined (skorch's tests).
    source = ("import torch.nn as nn\nimport torch.nn.functional as F\n\n\nclass Crit(nn.Module):\n"
              "    def __init__(self):\n        super().__init__()\n        self.lin0 = nn.Linear(2, 2)\n\n"
              "    def forward(self, y_proba, y):\n        return F.nll_loss(self.lin0(y_proba), y)\n")
    _write(tmp_path, {"tests/test_doctor.py": source})
    result = check_paths([str(tmp_path / "tests" / "test_doctor.py")])
    assert [(f.code, f.line) for f in result.findings] == [("LG105", 11)]


def test_a_tests_expected_value_computed_in_a_library_module_is_not_a_finding(tmp_path: Path) -> None:
    # The test calls the library's loss helper only to assert on its value: the deferral follows the call.
    library = ("import torch.nn as nn\n\n\ndef link_loss(pred, label):\n"
               "    return nn.BCEWithLogitsLoss()(pred, label)\n")
    test = ("import torch\nfrom lib import link_loss\n\n\ndef test_link_loss():\n"
            "    loss = link_loss(torch.randn(10), torch.randint(0, 2, (10,)))\n    assert loss > 0\n")
    _write(tmp_path, {"lib.py": library, "tests/test_lib.py": test, "pyproject.toml": ""})
    assert check_paths([str(tmp_path / "tests" / "test_lib.py")]).findings == []


def test_torch_through_a_star_import_still_names_dtypes(tmp_path: Path) -> None:
    # model.py gets `torch` only from `from utils import *`: torch.long is still a dtype there (sgrvinod's SSD).
    main = ("from utils import *\nimport torch.nn as nn\n\nt = torch.zeros(4, dtype=torch.long)\n"
            "loss = nn.CrossEntropyLoss()(torch.randn(4, 3), t)\n")
    _write(tmp_path, {"utils.py": "import torch\n", "model.py": main})
    assert check_paths([str(tmp_path / "model.py")]).findings == []


# Found on the labelled real-code set: a package's __init__.py and one of its modules each `import *` from the
# other, and a name neither defines was looked up around that cycle forever (a RecursionError, reported as "the
# file nests too deeply"). The name is unknown; the names they do define still resolve.
@pytest.mark.parametrize("head,expected", [("nn.Sigmoid()", ["LG101"]), ("nn.Identity()", [])])
def test_a_cycle_of_star_imports_is_not_an_endless_lookup(tmp_path: Path, head: str, expected: list[str]) -> None:
    _write(tmp_path, {
        "pkg/__init__.py": "from .models import *\nfrom .bench import *\n",
        "pkg/models.py": f"import torch.nn as nn\nfrom pkg import *\n\ndef build():\n"
                         f"    return nn.Sequential(nn.Linear(4, 1), {head})\n",
        "pkg/bench.py": "import torch.nn as nn\nfrom pkg import *\n\nmodel = build()\nhelper = undefined_anywhere\n"
                        "loss = nn.BCEWithLogitsLoss()(model(x), y)\n",
    })
    result = check_paths([str(tmp_path / "pkg" / "bench.py")])
    assert result.errors == [] and [f.code for f in result.findings] == expected
