"""The README's generated tables (rules and loss contracts), rendered from the catalogue and the contracts.

`python -m lossguard.formats.markdown` rewrites them in README.md; a test fails when the README is stale.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from lossguard.contracts import CONTRACTS, Kind
from lossguard.rules import RULES

_INPUT_WORDS = {
    Kind.LOGITS: "logits (no activation)",
    Kind.LOG_DISTRIBUTION: "log-probabilities (log_softmax)",
    Kind.PROBABILITIES: "probabilities in [0, 1] (sigmoid)",
    Kind.VALUES: "any real values",
}


def rules_table() -> str:
    lines = ["| code | name | detected | autofix | pitfall |", "|---|---|---|---|---|"]
    lines += [f"| {r.code} | `{r.name}` | {r.detection} | {r.autofix.replace('+', ', ') or '-'} | {r.title} |"
              for r in RULES]
    return "\n".join(lines)


def contracts_table() -> str:
    lines = ["| loss module | functional | input | target |", "|---|---|---|---|"]
    lines += [
        f"| `{c.module}` | `F.{c.functional}` | {_INPUT_WORDS.get(c.expected_input, c.expected_input.value)} "
        f"| {c.accepted_targets} |"
        for c in CONTRACTS
    ]
    return "\n".join(lines)


GENERATED = {"rules": rules_table, "contracts": contracts_table}


def refresh(text: str) -> str:
    """`text` with every `<!-- NAME:start -->...<!-- NAME:end -->` block regenerated."""
    for name, render in GENERATED.items():
        pattern = re.compile(rf"(<!-- {name}:start -->\n).*?(<!-- {name}:end -->)", re.S)
        text = pattern.sub(lambda m: m.group(1) + render() + "\n" + m.group(2), text)
    return text


def main(readme: str = "README.md") -> int:
    path = Path(readme)
    old = path.read_text(encoding="utf-8")
    new = refresh(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
        print(f"updated {readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
