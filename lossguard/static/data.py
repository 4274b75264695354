"""Data pipelines: what a training loop's batches hold, from the Dataset that makes each sample.

`for x, y in DataLoader(dataset, ...)` gives what `dataset[i]` returns, with a batch dimension in front: a one-hot
row built in `__getitem__` is a batch of one-hot rows, a scalar float target is a 1-D float batch (the `(n,)` of
LG301/LG302), a Python int label is an int64 batch. Datasets are the project's classes with `__getitem__` (read with
an unknown index) and `TensorDataset(x, y)`; `random_split` and `Subset` keep their dataset's samples.
`enumerate`, `tqdm`, `iter`/`next` are followed through.
"""

from __future__ import annotations

from dataclasses import replace

from lossguard.static.values import Const, DictValue, Number, LayerList, Tensor, TupleValue, Value


def batched(item: Value) -> Value:
    """What the default collate function makes of a list of `item`s: one more dimension in front."""
    if isinstance(item, Tensor):
        shape = (None, *item.shape) if item.shape is not None else None
        return replace(item, shape=shape, classes_last=False, over_batch=False)
    if isinstance(item, Number):
        return Tensor(dtype="float64" if item.is_float else "int64", shape=(None,))
    if isinstance(item, Const) and not isinstance(item.value, (bool, str)) and item.value is not None:
        return Tensor(dtype="int64" if isinstance(item.value, int) else "float64", shape=(None,))
    if isinstance(item, TupleValue):
        return TupleValue(tuple(batched(part) for part in item.items), item.is_list)
    if isinstance(item, DictValue):
        return DictValue(tuple((key, batched(value)) for key, value in item.items))
    return None


def row_of(value: Value) -> Value:
    """`tensor[i]`: the same kind and dtype, one dimension less."""
    if not isinstance(value, Tensor):
        return None
    shape = value.shape[1:] if value.shape else None
    row = replace(value, shape=shape, classes_last=False, over_batch=False)
    return row if row != Tensor() else None


def iteration_item(iterated: Value) -> Value:
    """What a `for` loop's variable holds over `iterated`."""
    from lossguard.static.values import Batches, Enumerated, join_all

    if isinstance(iterated, Batches):
        return iterated.item
    if isinstance(iterated, Enumerated):
        return TupleValue((Number(), iteration_item(iterated.inner)))
    if isinstance(iterated, TupleValue) and iterated.items:
        return join_all(iterated.items)
    if isinstance(iterated, LayerList):
        return iterated.last
    if isinstance(iterated, Tensor):
        return row_of(iterated)
    return None
