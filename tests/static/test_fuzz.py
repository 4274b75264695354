"""Fuzzing the static checker: generated valid programs (hypothesmith), mutated real training scripts (fixtures/)
and random bytes never make it raise, print a traceback or leak a warning; every input yields findings, silence or
one clean line.

Seeded and bounded for CI (about 20 s here alone, under a minute on a loaded machine); raise the counts for a long
run with LOSSGUARD_FUZZ_PROGRAMS (generated programs), LOSSGUARD_FUZZ_MUTANTS (mutants per fixture file),
LOSSGUARD_FUZZ_NOISE (random inputs) and LOSSGUARD_FUZZ_GRAPHS (import graphs), or run bench/fuzz_static.py.
"""

from __future__ import annotations

import os
import random
import shutil
from pathlib import Path

import pytest

from tests.static.fuzzing import (
    FIXTURES,
    LOSS_PREAMBLE,
    as_cell,
    fixture_files,
    import_graph,
    judge_file,
    judge_import_graph,
    judge_source,
    mutant,
    random_bytes,
)

hypothesis = pytest.importorskip("hypothesis")
hypothesmith = pytest.importorskip("hypothesmith")

PROGRAMS = int(os.environ.get("LOSSGUARD_FUZZ_PROGRAMS", "60"))
MUTANTS = int(os.environ.get("LOSSGUARD_FUZZ_MUTANTS", "60"))
NOISE = int(os.environ.get("LOSSGUARD_FUZZ_NOISE", "40"))
GRAPHS = int(os.environ.get("LOSSGUARD_FUZZ_GRAPHS", "100"))
SEED = int(os.environ.get("LOSSGUARD_FUZZ_SEED", "12"))


@pytest.mark.filterwarnings("ignore::SyntaxWarning")  # hypothesmith's own compile() of what it generates
@hypothesis.settings(max_examples=PROGRAMS, derandomize=True, deadline=None, database=None,
                     suppress_health_check=list(hypothesis.HealthCheck))
@hypothesis.given(program=hypothesmith.from_grammar())
def test_generated_programs_are_checked_cleanly(program: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Alone (the interpreter on whatever Python allows) and after a preamble that defines a loss (so that the CLI's
    # pre-filter lets the file through to the interpreter, with a loss in scope for the generated code to meet).
    folder = tmp_path_factory.mktemp("generated")
    for index, source in enumerate([program, LOSS_PREAMBLE + program]):
        verdict = judge_source(source)
        assert verdict.problem is None, f"{verdict.problem}\n--- input ---\n{source}"
        verdict = judge_file(folder / f"program{index}.py", source.encode("utf-8"))
        assert verdict.problem is None, f"{verdict.problem}\n--- input ---\n{source}"


@pytest.fixture(scope="module")
def fixture_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of fixtures/ in which one file at a time is replaced by its mutant (imports still resolve)."""
    copy = tmp_path_factory.mktemp("fixtures") / "fixtures"
    shutil.copytree(FIXTURES, copy)
    return copy


@pytest.mark.parametrize("original", fixture_files(), ids=lambda p: str(p.relative_to(FIXTURES)))
def test_mutated_fixtures_are_checked_cleanly(original: Path, fixture_copy: Path) -> None:
    rng = random.Random(f"{SEED}:{original.relative_to(FIXTURES)}")
    target = fixture_copy / original.relative_to(FIXTURES)
    try:
        for number in range(MUTANTS):
            data = mutant(original, rng)
            verdict = judge_file(target, data)
            shown = data.decode("utf-8", "replace")
            assert verdict.problem is None, f"mutant {number} of {original.name}: {verdict.problem}\n---\n{shown}"
    finally:
        shutil.copyfile(original, target)


def test_random_bytes_are_checked_cleanly(tmp_path: Path) -> None:
    # Noise as a Python file, and decoded as the source of a notebook cell (the notebook itself valid JSON).
    rng = random.Random(f"{SEED}:noise")
    for number in range(NOISE):
        data = random_bytes(rng)
        for path, content in [(tmp_path / "noise.py", data), (tmp_path / "noise.ipynb", as_cell(data))]:
            verdict = judge_file(path, content)
            assert verdict.problem is None, f"noise {number} as {path.name}: {verdict.problem}\n---\n{content!r}"


def test_random_import_graphs_are_followed_without_endless_lookups(tmp_path: Path) -> None:
    # Found this way: a cycle of star imports looked a name up until the recursion limit (see test_project.py).
    rng = random.Random(f"{SEED}:imports")
    for number in range(GRAPHS):
        files = import_graph(rng)
        verdict = judge_import_graph(files, tmp_path / f"graph{number}")
        shown = "\n".join(f"--- {name}\n{text}" for name, text in files.items())
        assert verdict.problem is None, f"import graph {number}: {verdict.problem}\n{shown}"
