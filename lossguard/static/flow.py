"""The static observer: an abstract interpreter that follows values from the model to the loss call.

It walks a module's statements in order, keeping for each name what is provably known about its value (an
activation's output, a one-hot target, a model whose forward returns probabilities, a bound loss, a trainer object
and its attributes, a dict of outputs). At each loss call it asks the judge whether the observed input and target
break the loss's contract. Unknown stays unknown: branches that disagree, arithmetic, unresolved calls and
anything it does not model give `None`, and `None` never breaks a rule.

The interpreter is split by what it knows about: `statements.py` (blocks, branches, loops, binding),
`expressions.py` (names, containers, conditions), `calls.py` (the project's functions, classes and objects, with
memoised summaries and the work budget), `torch_semantics.py` (what torch calls do, and judging loss calls). This
module ties them together per module: reading the module body, exporting its names to importers, and reading every
function and method on its own.
"""

from __future__ import annotations

import ast
from typing import Any, Callable, Mapping

from lossguard.findings import Finding
from lossguard.static.budget import Budget
from lossguard.static.calls import Calls
from lossguard.static.classes import ClassInfo
from lossguard.static.conversions import ConversionLog
from lossguard.static.expressions import Expressions
from lossguard.static.frame import Frame
from lossguard.static.imports import ImportMap
from lossguard.static.statements import Statements
from lossguard.static.syntax import index_module, is_test_path, literal_str, names_bound_once
from lossguard.static.torch_semantics import TorchSemantics
from lossguard.static.values import ClassRef, ExternalRef, Value

Locator = Callable[[int], "tuple[int | None, int]"]  # program line -> (notebook cell, line in cell)
# resolver(qualified name, importer) -> (found in the project, its value)
Resolver = Callable[[str, "ModuleObserver"], "tuple[bool, Value]"]


def _no_cells(line: int) -> tuple[int | None, int]:
    return None, line


class ModuleObserver(Statements, Expressions, Calls, TorchSemantics):
    """Observe one parsed module and collect its findings.

    `enabled` filters rule codes; `reporting` is False for modules read only because a checked file imports
    them; `resolver` finds the project's own modules behind an import (see project.py); `budget` is shared by
    every module one checked file's analysis reads.
    """

    def __init__(
        self, module: ast.Module, path: str, enabled: frozenset[str] | None = None, *, reporting: bool = True,
        resolver: Resolver | None = None, locate: Locator = _no_cells, lines: list[str] | None = None,
        budget: Budget | None = None,
    ) -> None:
        self.module = module
        self.lines = lines if lines is not None else []  # the source, for `# noqa` and columns
        self.path = path
        self.test_file = is_test_path(path)
        self.enabled = enabled
        self.reporting = reporting
        self.runs_as_program = False  # set for the file under analysis and the importers run as scripts
        self.resolver = resolver
        self.locate = locate
        self.budget = budget or Budget()
        index = index_module(module)
        self.node_count = index.node_count
        self.imports = ImportMap(index.imports)
        self.star_externals: list[str] = []
        self.resolved_names: dict[str, Value] = {}
        self._globals_state = "new"  # new -> running -> done
        self._functions_done = False
        self.findings: list[Finding] = []
        self.conversions = ConversionLog()  # shared by the modules of one analysis (project.py)
        self.globals_env: dict[str, Value] = {}
        self.stable_globals = names_bound_once(module.body)
        self.closures: dict[ast.AST, Mapping[str, Value]] = {}
        self.classes: dict[ast.ClassDef, ClassInfo] = {node: ClassInfo(node, self) for node in index.classes}
        self._functions = [(node, self.classes.get(owner) if owner is not None else None)
                           for node, owner in index.functions]
        self.call_stack: list[ast.AST] = []
        self.call_memo: dict[tuple[Any, ...], Any] = {}
        self.defaults_memo: dict[ast.AST, dict[str, Value]] = {}
        self.recursion_writes: dict[ast.AST, frozenset[str]] = {}
        self.current_call: ast.Call | None = None
        self._depth = 0
        self._star_modules: list[Value] | None = None
        self._star_lookups: set[str] = set()  # names being looked up through this module's star imports

    @property
    def module_running(self) -> bool:
        return self._globals_state == "running"

    def column_of(self, line: int, byte_offset: int) -> int:
        """Python's parser counts columns in UTF-8 bytes; findings count characters, as editors do."""
        if not 1 <= line <= len(self.lines):
            return byte_offset
        text = self.lines[line - 1]
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", errors="ignore"))

    # ------------------------------------------------------------------ driver
    def run(self) -> list[Finding]:
        """Interpret the module body, then every function and method on its own; return the findings."""
        self.ensure_globals()
        if not self._functions_done:
            self._functions_done = True
            for function, owner in self._functions:
                self.analyse_standalone(function, owner, self.findings)
        return self.findings

    def ensure_globals(self) -> None:
        """Interpret the module body once, so its top-level names (classes, defs, models) can be exported."""
        if self._globals_state != "new":
            return
        self._globals_state = "running"
        top = Frame(env=self.globals_env, reporting=self.reporting, sink=self.findings, sink_id=id(self.findings),
                    is_module=True, defer_contracts=self.test_file)
        try:
            self.exec_block(self.module.body, top)
        except RecursionError:
            pass  # deeper than this interpreter goes: what follows is unknown
        finally:
            self._globals_state = "done"

    def export(self, name: str) -> Value:
        """The value of a top-level name as another module imports it (unknown while this module is running)."""
        self.ensure_globals()
        if self._globals_state != "done":
            return None
        if name in self.globals_env:
            return self.globals_env[name] if name in self.stable_globals else None
        if name in self.imports.aliases:
            return self.resolve_name(name)  # a re-export: `from .unet import UNet` in a package's __init__
        if self.imports.star_modules and not name.startswith("_"):
            return self.star_lookup(name)
        return None

    def public_names(self) -> frozenset[str] | None:
        """`__all__` when the module spells it out as a literal list, else None (every public name)."""
        for statement in self.module.body:
            if (isinstance(statement, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__"
                                                          for t in statement.targets)
                    and isinstance(statement.value, (ast.List, ast.Tuple))):
                names = [literal_str(element) for element in statement.value.elts]
                if all(name is not None for name in names):
                    return frozenset(names)  # type: ignore[arg-type]
        return None

    def class_ref(self, node: ast.ClassDef) -> Value:
        info = self.classes.get(node)
        return ClassRef(info) if info is not None else None

    # ------------------------------------------------------------------ imports
    def resolve_name(self, name: str) -> Value:
        """The value of an imported name: the project's own definition, or an external reference."""
        if name not in self.resolved_names:
            self.resolved_names[name] = None  # guards import cycles
            self.resolved_names[name] = self.resolve_qualified(self.imports.aliases[name])
        return self.resolved_names[name]

    def resolve_qualified(self, qualified: str) -> Value:
        from lossguard.static import names as N

        if qualified.split(".", 1)[0] in N.EXTERNAL_ROOTS:
            return ExternalRef(N.canonical(qualified))
        if self.resolver is not None:
            found, value = self.resolver(qualified, self)
            if found:
                return value
        if qualified.startswith("."):
            return None  # a relative import the project does not have: unknown
        return ExternalRef(N.canonical(qualified))

    def star_lookup(self, name: str) -> Value:
        """A name brought in by `from module import *`: the project module's export, or a torch name we model."""
        from lossguard.static import names as N
        from lossguard.static.values import ModuleRef

        if name in self._star_lookups:  # a cycle of star imports (a package and its module import * from each other)
            return None
        self._star_lookups.add(name)
        try:
            for value in self.load_star_modules():
                if isinstance(value, ModuleRef):
                    public = value.observer.public_names()
                    if public is None or name in public:
                        found = value.observer.export(name)
                        if found is not None:
                            return found
                elif isinstance(value, ExternalRef):
                    candidate = N.canonical(f"{value.name}.{name}")
                    if N.is_known(candidate):
                        return ExternalRef(candidate)
            return None
        finally:
            self._star_lookups.discard(name)

    def load_star_modules(self) -> list[Value]:
        if self._star_modules is None:
            self._star_modules = []
            for module in self.imports.star_modules:
                value = self.resolve_qualified(module)
                if isinstance(value, ExternalRef):
                    self.star_externals.append(value.name)
                self._star_modules.append(value)
        return self._star_modules
