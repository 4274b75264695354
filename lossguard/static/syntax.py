"""Small questions about Python syntax trees (the standard library's `ast`), asked by every part of the observer.

One pre-pass over a module (`ModuleIndex`) collects what the interpreter needs before it starts: the imports, the
classes, every function with the class that owns it, and the module-level names bound exactly once. Everything
else is read by the interpreter's own walk, so a module costs one parse, one index pass and one interpretation.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Iterator, Sequence

FunctionNode = (ast.FunctionDef, ast.AsyncFunctionDef)
TEST_FILE_NAMES = ("test_", "tests_")


def dotted(node: ast.AST) -> str | None:
    """`torch.nn.functional` for an attribute chain of plain names, else None."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def literal_int(expr: ast.AST | None) -> int | None:
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, ast.UnaryOp) and isinstance(expr.op, ast.USub):
        inner = literal_int(expr.operand)
        return -inner if inner is not None else None
    return None


def literal_str(expr: ast.AST | None) -> str | None:
    return expr.value if isinstance(expr, ast.Constant) and isinstance(expr.value, str) else None


def keyword_value(call: ast.Call, name: str) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword.value
    return None


def argument_expr(call: ast.Call, position: int, keyword: str) -> ast.expr | None:
    """The expression passed as `keyword=`, or at `position` among the plain positional arguments."""
    value = keyword_value(call, keyword)
    if value is not None:
        return value
    positional = [arg for arg in call.args if not isinstance(arg, ast.Starred)]
    if any(isinstance(arg, ast.Starred) for arg in call.args[:position + 1]):
        return None
    return positional[position] if position < len(positional) else None


def parameter_names(function: ast.AST) -> list[str]:
    args: ast.arguments = function.args  # type: ignore[attr-defined]
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    if args.vararg is not None:
        names.append(args.vararg.arg)
    names += [a.arg for a in args.kwonlyargs]
    if args.kwarg is not None:
        names.append(args.kwarg.arg)
    return names


def positional_parameter_names(function: ast.AST) -> list[str]:
    args: ast.arguments = function.args  # type: ignore[attr-defined]
    return [a.arg for a in (*args.posonlyargs, *args.args)]


def parameter_defaults(function: ast.AST) -> dict[str, ast.expr]:
    """Default expressions by parameter name."""
    args: ast.arguments = function.args  # type: ignore[attr-defined]
    positional = [a.arg for a in (*args.posonlyargs, *args.args)]
    defaults = dict(zip(positional[len(positional) - len(args.defaults):], args.defaults))
    for param, default in zip(args.kwonlyargs, args.kw_defaults):
        if default is not None:
            defaults[param.arg] = default
    return defaults


def decorator_names(function: ast.AST) -> list[str]:
    names = []
    for decorator in getattr(function, "decorator_list", ()):
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        name = dotted(target)
        if name:
            names.append(name.rsplit(".", 1)[-1])
    return names


def is_test_path(path: str) -> bool:
    """A test module by pytest's conventions: test_*.py, *_test.py, conftest.py, or under a tests/ folder."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    stem = name.rsplit(".", 1)[0]
    return (name.startswith(TEST_FILE_NAMES) or stem.endswith("_test") or name == "conftest.py"
            or any(part in ("tests", "test") for part in parts[:-1]))


def assigned_names(node: ast.AST) -> set[str]:
    """Every plain name bound anywhere inside `node` (assignment, loop and with targets, walrus, imports)."""
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            names.add(child.id)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            for alias in child.names:
                names.add((alias.asname or alias.name).split(".", 1)[0])
    return names


def attribute_stores(node: ast.AST) -> Iterator[tuple[str, str]]:
    """(receiver, attribute) of each assignment `receiver.attribute = ...` inside `node` (also augmented, annotated,
    and as an item of a tuple or list target)."""
    for child in ast.walk(node):
        targets: list[ast.AST] = []
        if isinstance(child, ast.Assign):
            targets = list(child.targets)
        elif isinstance(child, (ast.AnnAssign, ast.AugAssign)):
            targets = [child.target]
        while targets:
            target = targets.pop()
            if isinstance(target, (ast.Tuple, ast.List)):
                targets.extend(target.elts)
            elif isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name):
                yield target.value.id, target.attr


_MUTATING_METHODS = frozenset({
    "update", "setdefault", "pop", "popitem", "clear", "append", "extend", "insert", "remove",
    "add_module", "register_module", "register_buffer", "register_parameter", "__setattr__", "__setitem__",
})


def names_written_through(function: ast.AST) -> frozenset[str]:
    """Names N of objects the function changes in place: `N.x = ...`, `N[k] = ...`, `del N.x`, `setattr(N, ...)`,
    `N.update(...)` and the like. What a cut call (recursion) may have changed in an argument, read from the text."""
    names: set[str] = set()
    for node in ast.walk(function):
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, (ast.Attribute, ast.Subscript)):
                base = base.value
            if isinstance(base, ast.Name):
                names.add(base.id)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and (
                isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr")):
            names.add(node.args[0].id)
        elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
              and node.func.attr in _MUTATING_METHODS and isinstance(node.func.value, ast.Name)):
            names.add(node.func.value.id)
    return frozenset(names)


@dataclass
class ModuleIndex:
    """What one pre-pass over a module finds: imports, classes, functions with their owners, stable globals."""

    imports: list[ast.Import | ast.ImportFrom] = field(default_factory=list)
    classes: list[ast.ClassDef] = field(default_factory=list)
    functions: list[tuple[ast.AST, ast.ClassDef | None]] = field(default_factory=list)
    node_count: int = 0


def index_module(tree: ast.Module) -> ModuleIndex:
    """One iterative walk over the statements (imports, classes and defs are statements, so expressions, most
    of a tree's nodes, need not be visited); `node_count` counts statements."""
    index = ModuleIndex()
    stack: list[tuple[ast.stmt, ast.ClassDef | None]] = [(stmt, None) for stmt in reversed(tree.body)]
    while stack:
        node, owner = stack.pop()
        index.node_count += 1
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            index.imports.append(node)
            continue
        member_of: ast.ClassDef | None = None
        if isinstance(node, ast.ClassDef):
            index.classes.append(node)
            member_of = node
        elif isinstance(node, FunctionNode):
            index.functions.append((node, owner))
        for body in _statement_lists(node):
            stack.extend((child, member_of if body is getattr(node, "body", None) else None)
                         for child in reversed(body))
    index.imports.sort(key=lambda n: (n.lineno, n.col_offset))
    index.classes.sort(key=lambda n: (n.lineno, n.col_offset))
    index.functions.sort(key=lambda pair: (pair[0].lineno, pair[0].col_offset))  # type: ignore[attr-defined]
    return index


def _statement_lists(node: ast.stmt) -> Iterator[list[ast.stmt]]:
    for name in ("body", "orelse", "finalbody"):
        block = getattr(node, name, None)
        if isinstance(block, list):
            yield block
    for handler in getattr(node, "handlers", ()):
        yield handler.body
    for case in getattr(node, "cases", ()):
        yield case.body


def names_bound_once(body: Sequence[ast.stmt]) -> frozenset[str]:
    """Module-level names bound exactly once, outside loops: functions may read them as known globals."""
    counts: dict[str, int] = {}

    def bump(name: str, times: int) -> None:
        counts[name] = counts.get(name, 0) + times

    def targets(expr: ast.AST, times: int) -> None:
        if isinstance(expr, ast.Name):
            bump(expr.id, times)
        elif isinstance(expr, (ast.Tuple, ast.List)):
            for element in expr.elts:
                targets(element, times)
        elif isinstance(expr, ast.Starred):
            targets(expr.value, times)

    def walk(statements: Sequence[ast.stmt], times: int) -> None:
        for stmt in statements:
            if isinstance(stmt, ast.Assign):
                for target in stmt.targets:
                    targets(target, times)
            elif isinstance(stmt, (ast.AnnAssign, ast.AugAssign)):
                targets(stmt.target, 2)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias in stmt.names:
                    if alias.name != "*":
                        bump((alias.asname or alias.name).split(".", 1)[0], times)
            elif isinstance(stmt, (*FunctionNode, ast.ClassDef)):
                bump(stmt.name, times)
            elif isinstance(stmt, (ast.For, ast.AsyncFor, ast.While)):
                if not isinstance(stmt, ast.While):
                    targets(stmt.target, 2)
                walk(stmt.body, 2)
                walk(stmt.orelse, 2)
            elif isinstance(stmt, ast.If):  # only one side runs: a name bound once on each side is bound once
                before = dict(counts)
                walk(stmt.body, times)
                after_body = dict(counts)
                counts.clear()
                counts.update(before)
                walk(stmt.orelse, times)
                for name, count in after_body.items():
                    counts[name] = max(count, counts.get(name, 0))
            elif isinstance(stmt, (ast.With, ast.AsyncWith)):
                walk(stmt.body, times)
            elif isinstance(stmt, (ast.Try, getattr(ast, "TryStar", ast.Try))):
                walk(stmt.body, times)
                for handler in stmt.handlers:
                    walk(handler.body, times)
                walk(stmt.orelse, times)
                walk(stmt.finalbody, times)
            else:
                for name in assigned_names(stmt):
                    bump(name, 2)

    walk(body, 1)
    return frozenset(name for name, count in counts.items() if count == 1)
