"""Float conversions seen by one analysis, to take back a guess that another path contradicts.

A float conversion of a value nothing is known about (`torch.as_tensor(mask, dtype=torch.float)`) is read as float
class indices (torch_semantics.py): a good guess for a label read from a file. But when the same conversion is seen,
on another path, converting a proven one-hot (the validation dataset reads the mask as it is, the training one
passes it through an augmentation that is not read), the value it converts is a one-hot encoding, not indices:
the guess made where the argument was unknown is contradicted, and what it found (LG202, float class indices) is
taken back once the analysis is over, whichever path came first. A conversion also seen converting proven class
indices keeps its findings.
"""

from __future__ import annotations

from lossguard.findings import Finding

Place = tuple[str, int, int]  # path, line, column: where a conversion is, as findings name their origin


class ConversionLog:
    """The float conversions one analysis saw converting a proven one-hot, and those it saw converting indices."""

    def __init__(self) -> None:
        self.of_one_hot: set[Place] = set()
        self.of_indices: set[Place] = set()

    def contradicts(self, finding: Finding) -> bool:
        """An LG202 whose float class indices were only guessed at a conversion that also converts a one-hot."""
        if finding.code != "LG202" or not finding.related:
            return False
        origin = finding.related[0]
        place = (origin.path, origin.line, origin.column)
        return place in self.of_one_hot and place not in self.of_indices
