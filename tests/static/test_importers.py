"""A checked module run as the project scripts nearby that import it use it (importers.py)."""

from __future__ import annotations

from pathlib import Path

from lossguard.static.checker import check_paths

TRAINER = """
import torch.nn as nn


class Trainer:
    def __init__(self, model, criterion=None):
        self.model = model
        self.criterion = criterion or nn.CrossEntropyLoss()

    def fit(self, loader):
        for x, y in loader:
            loss = self.criterion(self.model(x), y)
            loss.backward()
"""
MAIN = """
import torch.nn as nn
from engine.trainer import Trainer

model = nn.Sequential(nn.Linear(10, 3){activation})
Trainer(model, nn.CrossEntropyLoss()).fit(loader)
"""


def _project(root: Path, activation: str, main_folder: str = "") -> Path:
    (root / "pyproject.toml").write_text("")
    (root / "engine").mkdir()
    (root / "engine" / "__init__.py").write_text("")
    (root / "engine" / "trainer.py").write_text(TRAINER)
    folder = root / main_folder
    folder.mkdir(exist_ok=True)
    (folder / "main.py").write_text(MAIN.format(activation=activation))
    return root / "engine" / "trainer.py"


def test_a_trainer_checked_alone_sees_the_model_its_importer_gives_it(tmp_path: Path) -> None:
    trainer = _project(tmp_path, ", nn.Softmax(dim=1)")
    (finding,) = check_paths([str(trainer)]).findings
    assert (finding.code, finding.line) == ("LG102", 12)
    assert "reached from" in finding.message and "main.py" in finding.message


def test_a_trainer_given_logits_by_its_importer_is_silent(tmp_path: Path) -> None:
    trainer = _project(tmp_path, "")
    assert check_paths([str(trainer)]).findings == []


def test_the_importer_itself_is_not_reported_when_only_the_trainer_is_checked(tmp_path: Path) -> None:
    trainer = _project(tmp_path, ", nn.Softmax(dim=1)")
    (tmp_path / "main.py").write_text((tmp_path / "main.py").read_text() + "nn.CrossEntropyLoss()(nn.Softmax(1)(x), y)\n")
    findings = check_paths([str(trainer)]).findings
    assert [f.path.endswith("trainer.py") for f in findings] == [True]


def test_importers_are_looked_for_only_in_the_folders_above(tmp_path: Path) -> None:
    trainer = _project(tmp_path, ", nn.Softmax(dim=1)", main_folder="scripts")
    assert check_paths([str(trainer)]).findings == []


def test_an_importer_through_the_packages_re_export_is_found(tmp_path: Path) -> None:
    trainer = _project(tmp_path, ", nn.Softmax(dim=1)")
    (tmp_path / "engine" / "__init__.py").write_text("from .trainer import Trainer\n")
    main = tmp_path / "main.py"
    main.write_text(main.read_text().replace("from engine.trainer import Trainer", "from engine import Trainer"))
    (finding,) = check_paths([str(trainer)]).findings
    assert finding.code == "LG102" and "main.py" in finding.message


# A module that names no loss (its loss arrives through the constructor), built by a module of helpers that the
# entry script imports: the pre-filter lets it through, and the entry script is found through the helpers.
STEPPER = """
class Stepper:
    def __init__(self, net, objective):
        self.net = net
        self.objective = objective

    def run(self, batches):
        for inputs, labels in batches:
            loss = self.objective(self.net(inputs), labels)
            loss.backward()
"""
BUILDERS = """
import torch.nn as nn
from engine.stepper import Stepper


def make_stepper(net):
    return Stepper(net, nn.CrossEntropyLoss())
"""
ENTRY = """
import torch.nn as nn
from engine.builders import make_stepper

net = nn.Sequential(nn.Linear(16, 5){activation})
make_stepper(net).run(batches)
"""


def _chained_project(root: Path, activation: str) -> Path:
    (root / "pyproject.toml").write_text("")
    (root / "engine").mkdir()
    (root / "engine" / "__init__.py").write_text("")
    (root / "engine" / "stepper.py").write_text(STEPPER)
    (root / "engine" / "builders.py").write_text(BUILDERS)
    (root / "entry.py").write_text(ENTRY.format(activation=activation))
    return root / "engine" / "stepper.py"


def test_a_module_naming_no_loss_is_run_as_the_importer_of_its_importer_uses_it(tmp_path: Path) -> None:
    stepper = _chained_project(tmp_path, ", nn.Softmax(dim=1)")
    (finding,) = check_paths([str(stepper)]).findings
    assert (finding.code, finding.line) == ("LG102", 9)
    assert "entry.py" in finding.message


def test_a_module_naming_no_loss_given_logits_through_two_imports_is_silent(tmp_path: Path) -> None:
    stepper = _chained_project(tmp_path, "")
    assert check_paths([str(stepper)]).findings == []


def _main_importing_many_modules(root: Path, activation: str) -> Path:
    """main.py, run as the checked trainer's importer, fills the cap on modules one analysis reads
    (project.MAX_MODULES_PER_ANALYSIS) with modules of its own before it uses the trainer."""
    from lossguard.static.project import MAX_MODULES_PER_ANALYSIS

    trainer = _project(root, activation)
    helpers = range(MAX_MODULES_PER_ANALYSIS)
    for i in helpers:
        (root / "engine" / f"hooks{i}.py").write_text(f"PRIORITY = {i}\n")
    imports = "".join(f"from engine.hooks{i} import PRIORITY as p{i}\n" for i in helpers)
    order = "ORDER = [" + ", ".join(f"p{i}" for i in helpers) + "]\n"
    main = root / "main.py"
    main.write_text(imports + order + main.read_text())
    return trainer


def test_an_importer_past_the_module_cap_still_reaches_the_module_already_read(tmp_path: Path) -> None:
    trainer = _main_importing_many_modules(tmp_path, ", nn.Softmax(dim=1)")
    (finding,) = check_paths([str(trainer)]).findings
    assert finding.code == "LG102" and "main.py" in finding.message


def test_an_importer_past_the_module_cap_reads_no_new_module(tmp_path: Path) -> None:
    trainer = _main_importing_many_modules(tmp_path, "")
    (tmp_path / "nets.py").write_text("import torch.nn as nn\n\nNET = nn.Sequential(nn.Linear(10, 3), nn.Softmax(dim=1))\n")
    main = tmp_path / "main.py"
    main.write_text("from nets import NET\n" + main.read_text().replace("Trainer(model,", "Trainer(NET,"))
    assert check_paths([str(trainer)]).findings == []
