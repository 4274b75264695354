"""Import aliases of a module, and the qualified name of an expression through them.

Cheaper and, for this job, more precise than a scope analysis: one pass over the import statements gives
`tnn -> torch.nn`, `BCE -> torch.nn.BCEWithLogitsLoss`, `functional -> torch.nn.functional`, and dotted
expressions are resolved by walking their attributes. `from models import *` is remembered as a star module:
names not bound otherwise are looked up there (see the observer's `lookup`).
"""

from __future__ import annotations

import ast
from typing import Iterable

from lossguard.static.syntax import dotted


class ImportMap:
    """Local name -> fully qualified name, from every import statement of a module (relative ones keep their dots)."""

    def __init__(self, statements: Iterable[ast.Import | ast.ImportFrom]) -> None:
        self.aliases: dict[str, str] = {}
        self.star_modules: list[str] = []
        for node in statements:
            self._add(node)

    def _add(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    self.aliases[alias.asname] = alias.name
                else:
                    top = alias.name.split(".", 1)[0]
                    self.aliases.setdefault(top, top)
            return
        base = "." * node.level + (node.module or "")
        for alias in node.names:
            if alias.name == "*":
                if base not in self.star_modules:
                    self.star_modules.append(base)
                continue
            joiner = "" if base.endswith(".") or not base else "."
            self.aliases[alias.asname or alias.name] = f"{base}{joiner}{alias.name}"

    def qualify(self, node: ast.AST) -> str | None:
        """`F.softmax` -> `torch.nn.functional.softmax` when F is imported; None for anything not from an import."""
        name = dotted(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        full = self.aliases.get(head)
        if full is None:
            return None
        return f"{full}.{rest}" if rest else full
