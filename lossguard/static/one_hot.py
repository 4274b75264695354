"""One-hot encodings written by hand as one equality mask per class: `np.stack([mask == c for c in range(C)])`.

Segmentation and tabular code often builds its one-hot target without `F.one_hot`: it compares the label map with
each class in turn and stacks the masks along a new class dimension. Each position equals at most one class, so
the stack holds one 1 per position (none where the label lies outside the classes compared): a one-hot encoding,
whatever dtype it is cast to afterwards. Only that shape of code is recognised, read from the syntax: a stacking
call whose parts are one comprehension, with a single loop over `range(...)` or over a literal collection of
distinct constants, whose element compares something that does not depend on the loop with the loop variable
(optionally cast: `(mask == c).float()`, `.astype(np.float32)`). Comparisons with thresholds (`x > t`), masks
from other loops or from a collection that may repeat a value are not proven one-hot and stay unknown.
"""

from __future__ import annotations

import ast

STACKING_FUNCTIONS = frozenset({"torch.stack", "numpy.stack"})
_CAST_METHODS = frozenset({"float", "double", "half", "long", "int", "byte", "bool", "astype", "to", "type"})


def stacks_class_masks(call: ast.Call) -> bool:
    """Whether the first argument of this stacking call is one equality mask per distinct class value."""
    parts = call.args[0] if call.args else next((k.value for k in call.keywords if k.arg in ("tensors", "arrays")),
                                                None)
    if not isinstance(parts, (ast.ListComp, ast.GeneratorExp)) or len(parts.generators) != 1:
        return False
    loop = parts.generators[0]
    if loop.ifs or loop.is_async or not isinstance(loop.target, ast.Name) or not _distinct_values(loop.iter):
        return False
    return _compares_with(_uncast(parts.elt), loop.target.id)


def _distinct_values(iterable: ast.expr) -> bool:
    """`range(...)` or a literal list/tuple of distinct constants: each class is compared once."""
    if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name) and iterable.func.id == "range":
        return not iterable.keywords and 1 <= len(iterable.args) <= 3  # a range never repeats a value
    if isinstance(iterable, (ast.List, ast.Tuple)) and iterable.elts:
        if not all(isinstance(item, ast.Constant) for item in iterable.elts):
            return False
        values = [item.value for item in iterable.elts]  # type: ignore[attr-defined]
        return len({(type(value), value) for value in values}) == len(values)
    return False


def _uncast(element: ast.expr) -> ast.expr:
    """`(mask == c).float()` / `.astype(np.float32)`: the comparison under a dtype conversion."""
    while (isinstance(element, ast.Call) and isinstance(element.func, ast.Attribute)
           and element.func.attr in _CAST_METHODS):
        element = element.func.value
    return element


def _compares_with(element: ast.expr, variable: str) -> bool:
    """`labels == c` or `c == labels`, where `labels` does not mention `c`."""
    if not (isinstance(element, ast.Compare) and len(element.ops) == 1 and isinstance(element.ops[0], ast.Eq)):
        return False
    left, right = element.left, element.comparators[0]
    for mask, value in ((left, right), (right, left)):
        if isinstance(value, ast.Name) and value.id == variable:
            return not any(isinstance(node, ast.Name) and node.id == variable for node in ast.walk(mask))
    return False
