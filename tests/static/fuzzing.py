"""The static checker's fuzz harness, shared by the bounded CI run (tests/static/test_fuzz.py) and the long run by
hand (bench/fuzz_static.py): mutators that turn the real training scripts of fixtures/ into hostile variants, and
judges that say whether the checker's answer to one input is acceptable.

Acceptable means: findings, silence, or one clean error line. Not acceptable: an exception out of `check_source`
other than SourceError, a traceback or an "internal error" line from the CLI, a warning about the checked code
leaking out, more than one error line for one file, or an exit code other than 0, 1 or 2.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import random
import re
import time
import traceback
import warnings
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner

from lossguard.cli import main
from lossguard.static.checker import check_paths, check_source
from lossguard.static.source import SourceError
from tests.static.generated_programs import Program

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures"
# Prepended to generated programs so that the CLI's pre-filter lets them through to the interpreter.
LOSS_PREAMBLE = "import torch.nn as nn\nimport torch.nn.functional as F\ncriterion = nn.CrossEntropyLoss()\n"


@dataclass
class Verdict:
    """The judge's answer for one input: `problem` is None when the checker behaved."""

    problem: str | None
    seconds: float  # CPU time of this process: a loaded machine does not make an input look slow


def fixture_files() -> list[Path]:
    """Every Python file and notebook of fixtures/, in a stable order."""
    return sorted(p for p in FIXTURES.rglob("*") if p.suffix in (".py", ".ipynb"))


# --- mutators: each takes the source's lines (or bytes) and a Random, returns new text ---------------------------

def _delete_lines(lines: list[str], rng: random.Random) -> list[str]:
    for _ in range(rng.randint(1, 3)):
        if lines:
            del lines[rng.randrange(len(lines))]
    return lines


def _duplicate_lines(lines: list[str], rng: random.Random) -> list[str]:
    if lines:
        start = rng.randrange(len(lines))
        block = lines[start:start + rng.randint(1, 4)]
        at = rng.randrange(len(lines) + 1)
        lines[at:at] = block
    return lines


def _swap_lines(lines: list[str], rng: random.Random) -> list[str]:
    if len(lines) > 1:
        i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
        lines[i], lines[j] = lines[j], lines[i]
    return lines


def _reindent_lines(lines: list[str], rng: random.Random) -> list[str]:
    for _ in range(rng.randint(1, 3)):
        if lines:
            i = rng.randrange(len(lines))
            stripped = lines[i].lstrip(" \t")
            lines[i] = rng.choice(["", " ", "    ", "\t", " " * rng.randint(1, 16)]) + stripped
    return lines


def _dedent_block(lines: list[str], rng: random.Random) -> list[str]:
    """Take a run of lines out of its block (or push it into a deeper one)."""
    if lines:
        start = rng.randrange(len(lines))
        shift = rng.choice([-4, 4, 8])
        for i in range(start, min(len(lines), start + rng.randint(2, 10))):
            lines[i] = lines[i][4:] if shift < 0 and lines[i].startswith("    ") else " " * max(shift, 0) + lines[i]
    return lines


LINE_MUTATORS = [_delete_lines, _duplicate_lines, _swap_lines, _reindent_lines, _dedent_block]


def _truncate(data: bytes, rng: random.Random) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _insert_bytes(data: bytes, rng: random.Random) -> bytes:
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(len(data) + 1)
        noise = bytes(rng.randrange(256) for _ in range(rng.randint(1, 6)))
        if rng.random() < 0.5:  # characters that matter to Python's and JSON's grammar
            noise = rng.choice([b"(", b")", b":", b"\n", b"\\", b'"', b"'''", b"#", b"{", b"]", b",", b"\x00",
                                b"\r", b"\t", b"lambda", b"*", b"yield", b"await "])
        data = data[:at] + noise + data[at:]
    return data


BYTE_MUTATORS = [_truncate, _insert_bytes]


@functools.lru_cache(maxsize=1)
def _corpus() -> tuple[list[ast.stmt], list[ast.expr]]:
    """Every statement and expression of the fixtures' Python files: the material the tree mutator splices in."""
    statements: list[ast.stmt] = []
    expressions: list[ast.expr] = []
    for path in fixture_files():
        if path.suffix == ".py":
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.stmt):
                    statements.append(node)
                elif isinstance(node, ast.expr) and not isinstance(node, ast.Starred):
                    expressions.append(node)
    return statements, expressions


def _mutate_tree(source: bytes, rng: random.Random) -> bytes | None:
    """Mutations that keep the source parseable, so the interpreter (not the parser) meets them: a statement of
    another fixture spliced into a random block, an expression replaced by another, a block emptied, statements
    swapped. `return` at the top level or `break` outside a loop are fine: Python's parser accepts them."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return None
    statements, expressions = _corpus()
    blocks = [body for node in ast.walk(tree) for body in (getattr(node, "body", None), getattr(node, "orelse", None))
              if isinstance(body, list) and body and isinstance(body[0], ast.stmt)]
    for _ in range(rng.randint(1, 3)):
        action = rng.randrange(4)
        if action == 0 and blocks:
            block = rng.choice(blocks)
            block.insert(rng.randrange(len(block) + 1), copy.deepcopy(rng.choice(statements)))
        elif action == 1:
            parents = [(node, name) for node in ast.walk(tree) for name, value in ast.iter_fields(node)
                       if isinstance(value, ast.expr) and not isinstance(value, ast.Starred)
                       and not (isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.For, ast.withitem,
                                                  ast.comprehension, ast.NamedExpr)) and name in ("target", "targets",
                                                                                                  "optional_vars"))]
            if parents:
                node, name = rng.choice(parents)
                setattr(node, name, copy.deepcopy(rng.choice(expressions)))
        elif action == 2 and blocks:
            block = rng.choice(blocks)
            block[:] = [ast.Pass()]
        elif action == 3 and blocks:
            block = rng.choice(blocks)
            i, j = rng.randrange(len(block)), rng.randrange(len(block))
            block[i], block[j] = block[j], block[i]
    try:
        return ast.unparse(ast.fix_missing_locations(tree)).encode("utf-8") + b"\n"
    except (ValueError, TypeError, RecursionError, AttributeError):
        return None


def mutate_python(source: bytes, rng: random.Random) -> bytes:
    """One to three mutations of a Python file: tree-level ones that keep it parseable, line-level ones on its
    text, byte-level ones on its bytes."""
    for _ in range(rng.randint(1, 3)):
        if rng.random() < 0.4:
            source = _mutate_tree(source, rng) or source
        elif rng.random() < 0.7:
            lines = source.decode("utf-8", "replace").splitlines(keepends=True)
            source = "".join(rng.choice(LINE_MUTATORS)(lines, rng)).encode("utf-8")
        else:
            source = rng.choice(BYTE_MUTATORS)(source, rng)
    return source


def _mangle_source(source: object, rng: random.Random) -> object:
    """A cell's source: mutated as Python, or turned into the other JSON shape (list <-> string), or broken."""
    text = "".join(source) if isinstance(source, list) else str(source)
    choice = rng.random()
    if choice < 0.6:
        text = mutate_python(text.encode("utf-8"), rng).decode("utf-8", "replace")
        return text.splitlines(keepends=True) if rng.random() < 0.5 else text
    if choice < 0.7:
        return rng.choice([None, 3, {"x": text}, [text, 4], []])
    if choice < 0.85:
        return rng.choice(["%%bash\n", "%%time\n", "%%writefile x.py\n", "!", "%", "%%capture out\n"]) + text
    return text.splitlines(keepends=True)[::-1]


def mutate_notebook(data: bytes, rng: random.Random) -> bytes:
    """Cells shuffled, dropped or duplicated, sources mangled, cell types changed; or the JSON itself damaged."""
    if rng.random() < 0.15:
        return mutate_python(data, rng)  # the JSON text itself: truncated, bytes inserted, lines moved
    notebook = json.loads(data)
    cells = notebook.get("cells", [])
    for _ in range(rng.randint(1, 4)):
        action = rng.randrange(6)
        if action == 0:
            rng.shuffle(cells)
        elif action == 1 and cells:
            del cells[rng.randrange(len(cells))]
        elif action == 2 and cells:
            cells.insert(rng.randrange(len(cells) + 1), dict(rng.choice(cells)))
        elif action == 3 and cells:
            cell = dict(cells[i := rng.randrange(len(cells))])
            cell["source"] = _mangle_source(cell.get("source", ""), rng)
            cells[i] = cell
        elif action == 4 and cells:
            cell = dict(cells[i := rng.randrange(len(cells))])
            cell["cell_type"] = rng.choice(["markdown", "raw", "code", None, 7])
            cells[i] = cell
        elif action == 5:
            notebook["nbformat"] = rng.choice([3, 4, 5, "4", None])
    notebook["cells"] = cells
    return json.dumps(notebook).encode("utf-8")


def mutant(path: Path, rng: random.Random) -> bytes:
    data = path.read_bytes()
    return mutate_notebook(data, rng) if path.suffix == ".ipynb" else mutate_python(data, rng)


_TOKENS = ["def", "class", "return", "lambda", "yield", "await", "async", "for", "in", "if", "else", "while",
           "with", "as", "import", "from", "try", "except", "global", "nonlocal", "del", "match", "case", "(", ")",
           "[", "]", "{", "}", ":", ",", ".", "=", ":=", "*", "**", "@", "->", "+", "-", "/", "|", "\n", "    ",
           "\t", "#", "'", '"', '"""', "\\", "0", "1.5", "x", "y", "model", "self", "nn", "F", "torch",
           "nn.Softmax(dim=1)", "nn.Sigmoid()", "nn.Linear(4, 2)", "nn.Sequential", "nn.CrossEntropyLoss()",
           "F.nll_loss", "F.binary_cross_entropy", ".sigmoid()", ".softmax(1)", "criterion", "loss", "backward()"]


def random_bytes(rng: random.Random) -> bytes:
    """Input made from nothing: uniform random bytes, printable noise, or a soup of Python and torch tokens; each
    names a loss, so that the pre-filter lets it through to the parser and the interpreter."""
    kind = rng.randrange(3)
    size = rng.randint(0, 2_000)
    if kind == 0:
        data = bytes(rng.randrange(256) for _ in range(size))
    elif kind == 1:
        data = bytes(rng.choice(b"abcxyz_019 ()[]{}:.,=+-*/@#'\"\n\t\r\\") for _ in range(size))
    else:
        data = " ".join(rng.choice(_TOKENS) for _ in range(size // 4)).encode("utf-8")
    at = rng.randrange(len(data) + 1)
    return data[:at] + b"nn.CrossEntropyLoss()" + data[at:]


def as_cell(data: bytes) -> bytes:
    """`data`, decoded as well as it goes, as the one code cell of an otherwise valid notebook."""
    cell = {"cell_type": "code", "metadata": {}, "outputs": [], "execution_count": None,
            "source": data.decode("utf-8", "replace")}
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [cell]}).encode("utf-8")


# --- judges -------------------------------------------------------------------------------------------------------

_FINDING = re.compile(r"^(?P<path>.+?):(cell \d+:)?\d+:\d+: LG\d{3} \[")


def judge_source(source: str, path: str = "<fuzz>") -> Verdict:
    """`check_source` returns findings or raises SourceError; nothing else, and no warning escapes."""
    started = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            check_source(source, path)
        except SourceError:
            pass
        except Exception:
            return Verdict(f"check_source raised:\n{traceback.format_exc()}", time.process_time() - started)
    seconds = time.process_time() - started
    if caught:
        return Verdict(f"a warning escaped: {caught[0].category.__name__}: {caught[0].message}", seconds)
    return Verdict(None, seconds)


def judge_cli(path: Path) -> Verdict:
    """`lossguard check -q PATH` on one file: exit 0/1/2, findings on stdout, at most one clean line on stderr."""
    started = time.process_time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = CliRunner().invoke(main, ["check", "-q", str(path)])
    seconds = time.process_time() - started
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        trace = "".join(traceback.format_exception(result.exception))
        return Verdict(f"the CLI raised:\n{trace}", seconds)
    output, errors = result.stdout, result.stderr
    if result.exit_code not in (0, 1, 2):
        return Verdict(f"exit code {result.exit_code}:\n{output}{errors}", seconds)
    if "Traceback" in output + errors or "internal error" in output + errors:
        return Verdict(f"traceback or internal error:\n{output}{errors}", seconds)
    if caught:
        return Verdict(f"a warning escaped: {caught[0].category.__name__}: {caught[0].message}", seconds)
    stray = [line for line in output.splitlines() if not _FINDING.match(line)]
    if stray:
        return Verdict(f"a stdout line that is not a finding: {stray[0]!r}", seconds)
    error_lines = errors.splitlines()
    if len(error_lines) > 1 or (error_lines and not error_lines[0].startswith(f"{path}:")):
        return Verdict(f"stderr is not one clean line:\n{errors}", seconds)
    if (result.exit_code == 2) != bool(error_lines and ": error: " in error_lines[0]):
        return Verdict(f"exit code {result.exit_code} with stderr {errors!r}", seconds)
    return Verdict(None, seconds)


def _importers(path: Path) -> list[Path]:
    """The files of a fixture project that import `path` (its entry point `train.py` imports the other modules)."""
    entry = next((folder / "train.py" for folder in path.parents if folder.name == "project"), None)
    return [entry] if entry is not None and entry != path and entry.exists() else []


def judge_file(path: Path, data: bytes) -> Verdict:
    """Both entry points on one input: the CLI on the file (and on the project file that imports it), and
    `check_source` on its text when it is Python."""
    path.write_bytes(data)
    verdict = judge_cli(path)
    for importer in _importers(path):
        if not verdict.problem:
            by_importer = judge_cli(importer)
            verdict = Verdict(by_importer.problem and f"checking {importer.name}, which imports it: "
                              f"{by_importer.problem}", verdict.seconds + by_importer.seconds)
    if verdict.problem or path.suffix != ".py":
        return verdict
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return verdict
    by_source = judge_source(text, str(path))
    return Verdict(by_source.problem, verdict.seconds + by_source.seconds)


def judge_structure(program: Program, folder: Path) -> Verdict:
    """A generated training program written to `folder` and checked: exactly the answer known by construction, and
    no error line."""
    folder.mkdir(parents=True)
    (folder / "pyproject.toml").write_text("")
    for name, text in program.files.items():
        (folder / name).write_text(text)
    started = time.process_time()
    try:
        result = check_paths([str(folder / program.checked)])
    except Exception:
        return Verdict(f"check_paths raised:\n{traceback.format_exc()}", time.process_time() - started)
    seconds = time.process_time() - started
    found = [(Path(f.path).name, f.cell, f.line, f.code) for f in result.findings]
    if found != program.expected() or result.errors:
        return Verdict(f"expected {program.expected()}, got {found} {result.errors}; choices {program.choices}",
                       seconds)
    return Verdict(None, seconds)


# --- import graphs ------------------------------------------------------------------------------------------------

GRAPH_MODULES = ["pkg/__init__.py", "pkg/a.py", "pkg/b.py", "pkg/sub/__init__.py", "pkg/sub/c.py", "main.py"]
_GRAPH_SOURCES = ["pkg", "pkg.a", "pkg.b", "pkg.sub", "pkg.sub.c", ".", ".a", ".b", ".sub", "..a", ".c", "main"]
_GRAPH_NAMES = ["model", "build", "criterion", "Net", "x"]
_GRAPH_BODIES = [
    "def build():\n    return nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1))\n\nmodel = build()\n",
    "criterion = nn.CrossEntropyLoss()\n",
    "class Net(nn.Module):\n    def forward(self, x):\n        return x.softmax(1)\n\nmodel = Net()\n",
    "loss = criterion(model(x), y)\n",
    "loss = nn.CrossEntropyLoss()(build()(x), y)\n",
    "model = model\n",
]


def import_graph(rng: random.Random) -> dict[str, str]:
    """A small package whose modules import each other at random (star imports, names, aliases, `__all__`, relative
    and absolute), cycles included: a package and its module importing * from each other, a module importing
    itself. Each module defines or uses a model, a loss or both."""
    files = {}
    for module in GRAPH_MODULES:
        lines = ["import torch.nn as nn"]
        for _ in range(rng.randint(0, 4)):
            source, name = rng.choice(_GRAPH_SOURCES), rng.choice(_GRAPH_NAMES)
            lines.append(rng.choice([f"from {source} import *"] * 3 + [  # the form that chains lookups on
                f"from {source} import {name}", f"from {source} import {name} as {rng.choice(_GRAPH_NAMES)}",
                f"__all__ = {rng.sample(_GRAPH_NAMES, 2)}"]))
        files[module] = "\n".join(lines) + "\n" + rng.choice(_GRAPH_BODIES)
    return files


def judge_import_graph(files: dict[str, str], folder: Path) -> Verdict:
    """The package checked as a folder: no exception, no error line, and the interpreter never hits Python's
    recursion limit (which it would survive silently, losing every finding of the module)."""
    from lossguard.static.flow import ModuleObserver

    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)
    real_exec_block = ModuleObserver.exec_block
    recursion: list[str] = []

    def exec_block(self, body, frame):  # type: ignore[no-untyped-def]
        try:
            return real_exec_block(self, body, frame)
        except RecursionError:
            recursion.append(traceback.format_exc(limit=-12))
            raise

    started = time.process_time()
    ModuleObserver.exec_block = exec_block  # type: ignore[method-assign]
    try:
        result = check_paths([str(folder)])
    except Exception:
        return Verdict(f"check_paths raised:\n{traceback.format_exc()}", time.process_time() - started)
    finally:
        ModuleObserver.exec_block = real_exec_block  # type: ignore[method-assign]
    seconds = time.process_time() - started
    if result.errors:
        return Verdict(f"error lines: {result.errors}", seconds)
    if recursion:
        return Verdict(f"the interpreter hit the recursion limit:\n{recursion[0]}", seconds)
    return Verdict(None, seconds)
