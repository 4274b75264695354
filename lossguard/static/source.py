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


def decode_python(data: bytes) -> str:
    """Decode Python source as the interpreter would: BOM, PEP 263 coding cookie, else UTF-8."""
    try:
        encoding, _ = tokenize.detect_encoding(io.BytesIO(data).readline)
        return data.decode(encoding)
    except (SyntaxError, LookupError, UnicodeDecodeError) as error:
        reason = getattr(error, "reason", None) or str(error).splitlines()[0]
        line = data[: getattr(error, "start", 0)].count(b"\n") + 1 if isinstance(error, UnicodeDecodeError) else 1
        raise SourceError(f"cannot decode: {reason}", line) from None
