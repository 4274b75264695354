"""`import lossguard.auto` installs the runtime guard for the rest of the process.

Environment: `LOSSGUARD=0` (or `false`, `off`, `no`) leaves the guard out; `LOSSGUARD_POLICY=raise` (or `warn`,
`log`) picks the policy. Handy in a notebook's first cell or at the top of a training script. The findings that
are decided with all the evidence of the run (LG201 for float one-hot targets) are decided when the process exits.
"""

from __future__ import annotations

import atexit
import os

from lossguard.runtime.api import Guard

guard: Guard | None = None

if os.environ.get("LOSSGUARD", "1").strip().lower() not in ("0", "false", "off", "no"):
    from lossguard.runtime.api import install

    guard = install(os.environ.get("LOSSGUARD_POLICY", "warn").strip().lower() or "warn")
    atexit.register(guard.uninstall)
