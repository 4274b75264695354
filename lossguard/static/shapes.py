"""Shapes the source proves: literal sizes in factories and reshapes, and what squeeze/unsqueeze do to them.

A shape is a tuple with one entry per dimension (None for a size that is not a literal); a shape of None means even
the rank is unknown. Only what the literals prove is claimed.
"""

from __future__ import annotations

import ast
from typing import Callable, Sequence

from lossguard.static.syntax import literal_int
from lossguard.static.values import Shape

__all__ = ["flatten", "literal_int", "sizes", "squeeze", "unsqueeze"]


def sizes(args: Sequence[ast.expr], is_count: Callable[[ast.expr], bool] | None = None) -> Shape | None:
    """The shape named by size arguments: `(n, 1)`, `n, 1`, `[n]`, `-1, C` (-1 and non-literals are unknown).

    `is_count` says whether a single non-literal argument is provably one integer (`x.size(0)`, `len(data)`,
    a name bound to an int), so `torch.ones(x.size(0))` is 1-D; otherwise it may be a whole shape."""
    if not args or any(isinstance(arg, ast.Starred) for arg in args):
        return None
    elements: Sequence[ast.expr]
    if len(args) == 1 and isinstance(args[0], (ast.Tuple, ast.List)):
        elements = args[0].elts
        if any(isinstance(item, ast.Starred) for item in elements):
            return None
    elif len(args) == 1 and literal_int(args[0]) is None and not (is_count is not None and is_count(args[0])):
        return None  # one non-literal argument may be a whole shape: `y.reshape(out.shape)`, `x.view(size)`
    else:
        elements = args
    shape: list[int | None] = []
    for element in elements:
        if (isinstance(element, ast.Constant) and not isinstance(element.value, int)) or _is_dtype(element):
            return None  # `.view(torch.float32)` reinterprets the dtype: no sizes here
        value = literal_int(element)
        shape.append(value if value is not None and value >= 0 else None)
    return tuple(shape)


def _is_dtype(expr: ast.expr) -> bool:
    return isinstance(expr, ast.Attribute) and expr.attr.startswith(
        ("float", "int", "uint", "bfloat", "half", "double", "long", "short", "bool", "complex"))


def _axis(shape: Shape, dim: int) -> int | None:
    index = dim + len(shape) if dim < 0 else dim
    return index if 0 <= index < len(shape) else None


def squeeze(shape: Shape | None, dim: int | None) -> Shape | None:
    """`.squeeze(dim)`; `.squeeze()` with a known shape drops the dims known to be 1 (and keeps unknown ones)."""
    if shape is None:
        return None
    if dim is None:
        if any(size is None for size in shape[1:]):
            return None  # an unknown size may be 1 and vanish too
        return shape[:1] + tuple(size for size in shape[1:] if size != 1)
    axis = _axis(shape, dim)
    if axis is None:
        return None
    if shape[axis] == 1:
        return shape[:axis] + shape[axis + 1:]
    return shape if shape[axis] is not None else None


def unsqueeze(shape: Shape | None, dim: int | None) -> Shape | None:
    if shape is None or dim is None:
        return None
    index = dim + len(shape) + 1 if dim < 0 else dim
    if not 0 <= index <= len(shape):
        return None
    return shape[:index] + (1,) + shape[index:]


def flatten(shape: Shape | None, start_dim: int | None) -> Shape | None:
    if start_dim in (None, 0):
        return (None,)
    if shape is None or start_dim is None or not 0 < start_dim < len(shape):
        return (None,) * (start_dim + 1) if shape is None and start_dim == 1 else None
    return shape[:start_dim] + (None,)
