"""Tables: what pandas and scikit-learn's splits do to the rank of the arrays that become targets.

A regression or binary target often starts as a column of a CSV file: `df = pd.read_csv(path)`, `y =
df["target"].values`, then `train_test_split(X, y)` and a Dataset that returns `y[i]`, so the batches are `(n,)`.
Only what pandas guarantees is claimed: a table read or built by pandas stays a table through the row-wise
methods listed here; one column picked by a constant name is a Series, whose `.values` / `.to_numpy()` is 1-D;
`.values` of a whole table is 2-D. Anything else (a method not listed, `.iloc`, a non-constant key) is unknown.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from lossguard.static.values import Const, Tensor, TupleValue

TABLE_MAKERS = frozenset({
    "pandas.read_csv", "pandas.read_table", "pandas.read_excel", "pandas.read_parquet", "pandas.read_json",
    "pandas.read_feather", "pandas.read_pickle", "pandas.DataFrame",
})
ARRAY_SPLITS = frozenset({"sklearn.model_selection.train_test_split", "sklearn.cross_validation.train_test_split"})
# DataFrame methods that return a DataFrame (rows chosen, reordered or cleaned; columns renamed or dropped)
_TABLE_METHODS = frozenset({
    "sample", "drop", "reset_index", "dropna", "fillna", "copy", "head", "tail", "sort_values", "sort_index",
    "rename", "drop_duplicates", "astype", "query",
})
# Series methods that return a Series of the same length
_COLUMN_METHODS = frozenset({"astype", "fillna", "copy", "clip", "round", "abs", "map"})


@dataclass(frozen=True)
class Table:
    """A pandas DataFrame."""


@dataclass(frozen=True)
class Column:
    """One column of a DataFrame (a Series): 1-D."""


def table_method(base: Table | Column, method: str) -> Any:
    """What a method of a table or a column returns: a table, a column, a 1-D array, or unknown."""
    if isinstance(base, Table):
        return Table() if method in _TABLE_METHODS else None
    if method in _COLUMN_METHODS:
        return Column()
    return Tensor(shape=(None,)) if method == "to_numpy" else None


def table_attribute(base: Table | Column, name: str) -> Any:
    if name != "values":
        return None
    return Tensor(shape=(None, None)) if isinstance(base, Table) else Tensor(shape=(None,))


def table_item(base: Table, key: Any) -> Any:
    """`df["target"]` is a column; `df[["a", "b"]]` a table; anything else (a mask, a slice) is unknown."""
    if isinstance(key, Const) and isinstance(key.value, str):
        return Column()
    if isinstance(key, TupleValue) and key.is_list and key.items and all(
            isinstance(item, Const) and isinstance(item.value, str) for item in key.items):
        return Table()
    return None


def split_arrays(arrays: list[Any]) -> Any:
    """`train_test_split(X, y)`: `(X_train, X_test, y_train, y_test)`, each split of the rank of its array."""
    parts: list[Any] = []
    for array in arrays:
        if isinstance(array, Tensor) and array.shape:
            part: Any = replace(array, shape=(None, *array.shape[1:]), zeros_at=None)
        elif isinstance(array, (Table, Column)):
            part = array
        else:
            part = None
        parts += [part, part]
    return TupleValue(tuple(parts)) if parts else None
