"""`lossguard explain`: one rule as a page users can act on (what, why, fix, examples), like ruff's rule pages."""

from __future__ import annotations

import textwrap

from lossguard.rules import Rule


def _wrap(text: str) -> str:
    return textwrap.fill(text, width=100)


def explain_rule(rule: Rule) -> str:
    parts = [f"{rule.code} [{rule.name}]: {rule.title}", f"Detected: {rule.detection}"]
    if rule.runtime_only:
        parts.append(f"Not checked statically: {rule.runtime_only}.")
    parts += ["", "Why this is wrong", _wrap(rule.why), "", "How to fix it", _wrap(rule.fix)]
    for title, examples in (("Bad", rule.bad), ("Good", rule.good)):
        for example in examples:
            parts += ["", f"{title}:", textwrap.indent(example.rstrip(), "    ")]
    return "\n".join(parts)
