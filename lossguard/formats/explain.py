"""`lossguard explain`: one rule as a page users can act on (what, why, fix, examples), like ruff's rule pages."""

from __future__ import annotations

import difflib
import textwrap

from lossguard.rules import Rule


_AUTOFIX = {
    "safe": "safe, with `lossguard check --fix`",
    "safe+unsafe": "safe with `lossguard check --fix` when written in the loss call itself; unsafe with "
                   "`--fix --unsafe-fixes` when the model's last layer or `forward` applies it",
}


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


def explain_rule(rule: Rule, fixed: dict[int, tuple[str, bool]] | None = None) -> str:
    """The page. `fixed` maps a bad example's index to its text after `--fix` (and whether that took
    `--unsafe-fixes`); each such example is followed by the fix as a diff."""
    parts = [f"{rule.code} [{rule.name}]: {rule.title}", f"Detected: {rule.detection}",
             f"Autofix: {_AUTOFIX.get(rule.autofix, 'none: fix it by hand as below')}"]
    if rule.runtime_only:
        parts.append(f"Not checked statically: {rule.runtime_only}.")
    parts += ["", "Why this is wrong", _wrap(rule.why), "", "How to fix it", _wrap(rule.fix)]
    for title, examples in (("Bad", rule.bad), ("Good", rule.good)):
        for index, example in enumerate(examples):
            parts += ["", f"{title}:", textwrap.indent(example.rstrip(), "    ")]
            if title == "Bad" and fixed and index in fixed:
                after, unsafe = fixed[index]
                command = "lossguard check --fix" + (" --unsafe-fixes" if unsafe else "")
                diff = difflib.unified_diff(example.splitlines(), after.splitlines(), n=0, lineterm="")
                changes = [line for line in diff if not line.startswith(("---", "+++", "@@"))]
                parts += ["", f"Fixed by `{command}`:", textwrap.indent("\n".join(changes), "    ")]
    return "\n".join(parts)
