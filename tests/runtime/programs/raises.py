"""A training script that fails in its own code (for `lossguard run`'s traceback)."""


def load_batch(index):
    raise KeyError(f"no batch {index}")


load_batch(7)
