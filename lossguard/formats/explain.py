"""`lossguard explain`: one rule as a page users can act on (what, why, fix, examples), like ruff's rule pages."""

from __future__ import annotations

import textwrap

from lossguard.rules import Rule


_AUTOFIX = {
    "safe": "safe, with `lossguard check --fix`",
    "safe+unsafe": "safe with `lossguard check --fix` when written in the loss call itself; unsafe with "
                   "`--fix --unsafe-fixes` when the model's last layer or `forward` applies it",
}


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


def explain_rule(rule: Rule) -> str:
    parts = [f"{rule.code} [{rule.name}]: {rule.title}", f"Detected: {rule.detection}",
             f"Autofix: {_AUTOFIX.get(rule.autofix, 'none: fix it by hand as below')}"]
    if rule.runtime_only:
        parts.append(f"Not checked statically: {rule.runtime_only}.")
    parts += ["", "Why this is wrong", _wrap(rule.why), "", "How to fix it", _wrap(rule.fix)]
    for title, examples in (("Bad", rule.bad), ("Good", rule.good)):
        for example in examples:
            parts += ["", f"{title}:", textwrap.indent(example.rstrip(), "    ")]
    return "\n".join(parts)
