"""Import aliases of a module, and the qualified name of an expression through them.

Cheaper and, for this job, more precise than libcst's QualifiedNameProvider: one pass over the import statements
gives `tnn -> torch.nn`, `BCE -> torch.nn.BCEWithLogitsLoss`, `functional -> torch.nn.functional`, and dotted
expressions are resolved by walking their attributes.
"""

from __future__ import annotations

import libcst as cst


def _dotted(node: cst.BaseExpression) -> str | None:
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


class ImportMap:
    """Local name -> fully qualified name, from every import statement of a module (relative ones keep their dots)."""

    def __init__(self, module: cst.Module) -> None:
        self.aliases: dict[str, str] = {}
        for node in _import_statements(module):
            self._add(node)

    def _add(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = _dotted(alias.name)
                if full is None:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                else:
                    top = full.split(".", 1)[0]
                    self.aliases.setdefault(top, top)
            return
        if isinstance(node.names, cst.ImportStar):
            return
        base = "." * len(node.relative) + (_dotted(node.module) or "" if node.module else "")
        for alias in node.names:
            name = _dotted(alias.name)
            if name is None:
                continue
            local = alias.asname.name.value if alias.asname and isinstance(alias.asname.name, cst.Name) else name
            joiner = "" if base.endswith(".") or not base else "."
            self.aliases[local] = f"{base}{joiner}{name}"

    def qualify(self, node: cst.BaseExpression) -> str | None:
        """`F.softmax` -> `torch.nn.functional.softmax` when F is imported; None for anything not from an import."""
        dotted = _dotted(node)
        if dotted is None:
            return None
        head, _, rest = dotted.partition(".")
        full = self.aliases.get(head)
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full


def _import_statements(module: cst.Module) -> list[cst.Import | cst.ImportFrom]:
    found: list[cst.Import | cst.ImportFrom] = []

    class Collector(cst.CSTVisitor):
        def visit_Import(self, node: cst.Import) -> None:
            found.append(node)

        def visit_ImportFrom(self, node: cst.ImportFrom) -> None:
            found.append(node)

        def visit_SimpleStatementLine(self, node: cst.SimpleStatementLine) -> bool:
            return any(isinstance(s, (cst.Import, cst.ImportFrom)) for s in node.body)

    module.visit(Collector())
    return found
