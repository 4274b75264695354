"""The work budget of one checked file: what keeps the analysis linear in the size of the code.

The interpreter's own walk is linear: every statement of the module and of each function is read once (twice in
a loop, up to a fixed loop nesting). What can multiply work is re-reading a function's body for each call site
with the arguments of that call (the summaries that make trainers, setters and helper functions visible). Each
re-read spends from this budget, sized from the checked file; when it is spent, calls are no longer re-read: their
result is unknown, which silences findings and never makes one up.
"""

from __future__ import annotations

from typing import Hashable

BASE_STEPS = 20_000
READS_PER_FUNCTION = 8  # distinct argument sets one function is re-read with
STEPS_PER_STATEMENT = 4


class Budget:
    def __init__(self, steps: int = BASE_STEPS) -> None:
        self.left = steps
        self.spent = 0
        self.reads: dict[int, int] = {}  # id of a function's node -> times re-read for a call
        self.argument_sets: dict[tuple[int, Hashable], int] = {}  # (function, arguments) -> times read with them

    def may_read(self, function_id: int, arguments: Hashable = None) -> bool:
        """Whether a function may be re-read once more for a call: within the budget, and within its share of
        distinct argument sets. The second read with the same arguments is not a new set: a loop's body is read
        silently, then reporting (statements.py), and a call in it is read once each time."""
        if self.exhausted:
            return False
        key = (function_id, arguments)
        if arguments is not None and self.argument_sets.get(key) == 1:
            self.argument_sets[key] = 2
            return True
        count = self.reads.get(function_id, 0)
        if count >= READS_PER_FUNCTION:
            return False
        self.reads[function_id] = count + 1
        if arguments is not None:
            self.argument_sets[key] = 1
        return True

    def renew(self, steps: int) -> None:
        """A fresh budget of `steps` and fresh shares, for the next module one analysis runs."""
        self.left, self.spent, self.reads, self.argument_sets = steps, 0, {}, {}

    @classmethod
    def for_module(cls, statements: int) -> "Budget":
        """A budget proportional to the checked module's statements, with a floor for small files."""
        return cls(BASE_STEPS + STEPS_PER_STATEMENT * statements)

    def spend(self, steps: int = 1) -> None:
        self.left -= steps
        self.spent += steps

    @property
    def exhausted(self) -> bool:
        return self.left <= 0
