"""Reading a file to check: bytes -> text, with a clear error for what cannot be decoded."""

from __future__ import annotations

import io
import tokenize


class SourceError(Exception):
    """A file that cannot be read, decoded or parsed. `line`/`column` locate the problem when known."""

    def __init__(self, reason: str, line: int = 1, column: int = 1) -> None:
        super().__init__(reason)
        self.reason = reason
        self.line = line
        self.column = column
        self.cell: int | None = None

    def located(self, path: str) -> str:
        """The one-line error: `path:line:col: error: reason` (`path:cell N:line:col: ...` in a notebook)."""
        cell = f"cell {self.cell}:" if self.cell is not None else ""
        return f"{path}:{cell}{self.line}:{self.column}: error: {self.reason}"


class FileSkipped(Exception):
    """A file deliberately not analysed (too large or too dense for the per-file bounds): a notice, not an error."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason

    def located(self, path: str) -> str:
        return f"{path}: skipped: {self.reason}"


# Syntax nodes one file may have (Python's parser holds ~700 bytes per node at its peak: ~300 MB here); generated
# code past it is skipped. The count is estimated before parsing from the characters that make most nodes.
MAX_SYNTAX_NODES = 300_000
_NODE_MAKING = (b"(", b"[", b",", b".", b"=", b":", b"+", b"-", b"*")


def estimated_nodes(data: bytes) -> int:
    """About two syntax nodes per call, subscript, item, attribute, assignment and operator (measured on real
    and generated code: 2.0-2.1)."""
    return 2 * sum(data.count(mark) for mark in _NODE_MAKING)


def decode_python(data: bytes) -> str:
    """Decode Python source as the interpreter would: BOM, PEP 263 coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        line = data[: getattr(error, "start", 0)].count(b"\n") + 1 if isinstance(error, UnicodeDecodeError) else 1
        raise SourceError(f"cannot decode: {reason}", line) from None
