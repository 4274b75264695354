"""The work budget of one checked file: what keeps the analysis linear in the size of the code.

The interpreter's own walk is linear: every statement of the module and of each function is read once (twice in
a loop, up to a fixed loop nesting). What can multiply work is re-reading a function's body for each call site
with the arguments of that call (the summaries that make trainers, setters and helper functions visible). Each
re-read spends from this budget, sized from the checked file; when it is spent, calls are no longer re-read: their
result is unknown, which silences findings and never makes one up.
"""

from __future__ import annotations

BASE_STEPS = 20_000
READS_PER_FUNCTION = 8  # distinct argument sets one function is re-read with
STEPS_PER_STATEMENT = 4


class Budget:
    def __init__(self, steps: int = BASE_STEPS) -> None:
        self.left = steps
        self.spent = 0
        self.reads: dict[int, int] = {}  # id of a function's node -> times re-read for a call

    def may_read(self, function_id: int) -> bool:
        """Whether a function may be re-read once more for a call: within the budget, and within its share."""
        if self.exhausted:
            return False
        count = self.reads.get(function_id, 0)
        if count >= READS_PER_FUNCTION:
            return False
        self.reads[function_id] = count + 1
        return True

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
