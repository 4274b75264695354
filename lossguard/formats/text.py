"""The text format: `path:line:col: CODE [name] message`, a hint line, and a closing summary, like ruff."""

from __future__ import annotations

from lossguard.findings import Finding


def location_text(path: str, line: int, column: int, cell: int | None) -> str:
    """`path:line:col`, or `path:cell N:line:col` inside a notebook."""
    where = f"cell {cell}:" if cell is not None else ""
    return f"{path}:{where}{line}:{column}"


def render_text(findings: list[Finding], *, quiet: bool = False, files_checked: int = 0, errors: int = 0,
                skipped: int = 0) -> str:
    lines: list[str] = []
    for finding in findings:
        head = location_text(finding.path, finding.line, finding.column, finding.cell)
        lines.append(f"{head}: {finding.code} [{finding.name}] {finding.message}")
        if not quiet:
            lines.append(f"  hint: {finding.hint}")
    if not quiet:
        files = len({f.path for f in findings})
        unchecked = f"; {errors} could not be checked (see the errors above)" if errors else ""
        if skipped:
            unchecked += f"; {skipped} skipped as too large (see above)"
        if findings:
            noun = "problem" if len(findings) == 1 else "problems"
            lines.append(f"Found {len(findings)} {noun} in {files} of {files_checked} files checked{unchecked}.")
        elif errors or skipped:
            lines.append(f"No problems found in {files_checked} files checked{unchecked}.")
        else:
            lines.append(f"All checks passed ({files_checked} files checked).")
    return "\n".join(lines)
