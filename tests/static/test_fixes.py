"""Fixes: golden before/after files, and the properties every fix keeps on every fixture and catalogue example.

Golden files live in tests/static/fixes/: `NAME.before.EXT` is fixed into exactly `NAME.after.EXT` (unsafe fixes
enabled when NAME contains `.unsafe`); `NAME.nofix.EXT` holds pitfalls with no provable fix and must not change.
"""

from __future__ import annotations

import ast
import json
from collections import Counter
from pathlib import Path

import pytest

from lossguard.rules import RULES
from lossguard.static.autofix import _apply, fix_text
from lossguard.static.checker import check_file_text
from lossguard.static.fixes import SAFE_FIX_CODES, UNSAFE_FIX_CODES, Edit, apply_edits
from lossguard.static.notebook import read_notebook

GOLDEN = Path(__file__).parent / "fixes"
FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
BEFORE = sorted(GOLDEN.glob("*.before.*"))
NOFIX = sorted(GOLDEN.glob("*.nofix.*"))


def _checked_as(path: Path) -> str:
    """Golden files are checked as the programs they stand for, not as test modules (they live under tests/)."""
    return f"/nonexistent/golden/{path.name}" if GOLDEN in path.parents else str(path)


def _fix(path: Path, text: str | None = None, unsafe: bool | None = None):
    text = path.read_text(encoding="utf-8") if text is None else text
    unsafe = ".unsafe." in path.name if unsafe is None else unsafe
    return fix_text(text, _checked_as(path), enabled=None, config=None, unsafe=unsafe)


def _codes(text: str, path: Path) -> Counter[str]:
    return Counter(f.code for f in check_file_text(text, _checked_as(path))[0])


def _parses(text: str, path: Path) -> bool:
    source = read_notebook(text.encode("utf-8")).source if path.suffix == ".ipynb" else text
    ast.parse(source)
    return True


@pytest.mark.parametrize("before", BEFORE, ids=lambda p: p.name)
def test_golden_fix(before: Path) -> None:
    after = before.with_name(before.name.replace(".before.", ".after."))
    fixed = _fix(before)
    assert fixed.fixed == after.read_text(encoding="utf-8")
    assert fixed.applied, "a golden case must apply a fix"
    remaining = _codes(fixed.fixed, before)
    assert not remaining & Counter(fix.code for fix in fixed.applied), "the fixed file re-checks clean for the codes"
    assert _fix(after, fixed.fixed).fixed == fixed.fixed, "a second --fix changes nothing"


@pytest.mark.parametrize("before", [p for p in BEFORE if ".unsafe." in p.name], ids=lambda p: p.name)
def test_unsafe_fixes_need_the_flag(before: Path) -> None:
    fixed = _fix(before, unsafe=False)
    assert not fixed.changed and not fixed.applied


@pytest.mark.parametrize("path", NOFIX, ids=lambda p: p.name)
def test_no_fix_without_proof(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert _codes(text, path), "the case must have findings"
    assert not _fix(path, unsafe=True).changed


def test_every_declared_fix_has_a_golden_case() -> None:
    applied = {(fix.code, fix.safe) for before in BEFORE for fix in _fix(before).applied}
    assert {code for code, safe in applied if safe} == SAFE_FIX_CODES
    assert {code for code, safe in applied if not safe} == UNSAFE_FIX_CODES


def test_notebook_fix_keeps_outputs_metadata_and_source_forms() -> None:
    before = json.loads((GOLDEN / "notebook.before.ipynb").read_text(encoding="utf-8"))
    after = json.loads((GOLDEN / "notebook.after.ipynb").read_text(encoding="utf-8"))
    assert before["metadata"] == after["metadata"]
    for old, new in zip(before["cells"], after["cells"]):
        assert {k: v for k, v in old.items() if k != "source"} == {k: v for k, v in new.items() if k != "source"}
        assert type(old["source"]) is type(new["source"])
    assert [c["source"] for c in before["cells"][:2]] == [c["source"] for c in after["cells"][:2]]


def _programs() -> list[tuple[str, Path, str]]:
    cases = [(str(p.relative_to(FIXTURES)), p, p.read_text(encoding="utf-8"))
             for p in sorted(FIXTURES.rglob("*")) if p.suffix in (".py", ".ipynb")]
    cases += [(f"{rule.code}-bad-{n}", Path(f"/nonexistent/{rule.code}_{n}.py"), example)
              for rule in RULES for n, example in enumerate(rule.bad)]
    return cases


@pytest.mark.parametrize("name,path,text", _programs(), ids=lambda v: v if isinstance(v, str) and "\n" not in v else "")
def test_fixes_recheck_clean_stay_parsable_and_are_idempotent(name: str, path: Path, text: str) -> None:
    before = _codes(text, path)
    fixed = _fix(path, text, unsafe=True)
    assert _parses(fixed.fixed, path)
    after = _codes(fixed.fixed, path)
    for code, count in Counter(fix.code for fix in fixed.applied).items():
        assert after[code] <= before[code] - count, f"{code} still reported after its fix"
    assert set(after) <= set(before), "a fix must not introduce a new kind of finding"
    again = _fix(path, fixed.fixed, unsafe=True)
    assert not again.changed and not again.applied


def test_a_pass_that_would_not_parse_is_discarded() -> None:
    assert _apply("x = (1)\n", [Edit((1, 4), (1, 7), "(")], None) is None


def test_edits_are_spliced_by_line_and_column_also_with_crlf() -> None:
    text = "a = f(x)\r\nb = g(y)\r\n"
    assert apply_edits(text, [Edit((2, 4), (2, 8), "y")]) == "a = f(x)\r\nb = y\r\n"


@pytest.mark.parametrize("line", [
    "for i in range(2):\n\tif i:\n\t\tloss = F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)  # café — ok\n",
    'z = "ééé"; loss = F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)\n',
])
def test_positions_count_characters_with_tabs_and_non_ascii(line: str) -> None:
    source = "import torch\nimport torch.nn.functional as F\n" + line
    fixed = fix_text(source, "/nonexistent/train.py", enabled=None, config=None, unsafe=False)
    assert fixed.fixed == source.replace("torch.sigmoid(x)", "x")


def test_a_pass_whose_fix_leaves_its_finding_is_discarded(monkeypatch: pytest.MonkeyPatch) -> None:
    from lossguard.static import autofix
    from lossguard.static.fixes import Fix, PlannedFix

    source = ("import torch\nimport torch.nn.functional as F\n"
              "loss = F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)\n")

    def useless(text, findings, program, unsafe):  # renames `loss`: parses, but the pitfall stays
        return [PlannedFix(f, Fix(f.code, True, "rename", (Edit((3, 0), (3, 4), "total"),))) for f in findings]

    monkeypatch.setattr(autofix, "plan_for_text", useless)
    fixed = fix_text(source, "/nonexistent/train.py", enabled=None, config=None, unsafe=False)
    assert fixed.fixed == source and fixed.applied == []
