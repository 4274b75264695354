"""The observer on real code shapes: every case's findings are exactly its `# LGnnn` markers."""

from __future__ import annotations

import pytest

from lossguard.static.checker import check_source
from tests.markers import expected_findings
from tests.static.cases import CASES

POSITIVE = [name for name, source in CASES.items() if expected_findings(source)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_case_reports_exactly_its_markers(name: str) -> None:
    source = CASES[name]
    findings = check_source(source, f"{name}.py")
    assert sorted((f.code, f.line) for f in findings) == sorted(expected_findings(source))


def test_the_table_is_large_and_balanced() -> None:
    assert len(POSITIVE) >= 20
    assert len(CASES) - len(POSITIVE) >= 20


def test_related_points_at_the_activation() -> None:
    findings = check_source(CASES["class-self-sigmoid-last"], "net.py")
    (finding,) = findings
    sigmoid_line = next(
        n for n, line in enumerate(CASES["class-self-sigmoid-last"].splitlines(), 1) if "nn.Sigmoid()" in line
    )
    assert [(loc.path, loc.line) for loc in finding.related] == [("net.py", sigmoid_line)]
    assert f"line {sigmoid_line}" in finding.message


def test_finding_spans_the_loss_call() -> None:
    source = "import torch.nn.functional as F\nloss = F.cross_entropy(F.softmax(z, 1), y)\n"
    (finding,) = check_source(source)
    assert (finding.line, finding.column, finding.end_line, finding.end_column) == (2, 8, 2, 43)


def test_a_finding_that_rests_on_a_command_line_default_says_so() -> None:
    (finding,) = check_source(CASES["loss-chosen-by-a-factory-with-an-argparse-default"], "train.py")
    assert "with the default configuration" in finding.message


def test_a_finding_on_an_evaluation_path_says_training_is_not_affected() -> None:
    (finding,) = check_source(CASES["validation-loop-after-eval"], "train.py")
    assert "on an evaluation path" in finding.message and "training itself is not affected" in finding.message
    (training,) = check_source(CASES["trainer-receives-model-and-loss"], "train.py")
    assert "evaluation" not in training.message
