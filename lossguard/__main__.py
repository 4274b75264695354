"""`python -m lossguard`: the same CLI as the `lossguard` command.

`python -m` puts the current folder first on `sys.path`, so a checked project's own `click.py` (or `libcst.py`,
`torch.py`) would be imported, and run, in place of the real package. lossguard never needs the current folder on
its path (`lossguard run` puts back what the user's script expects), so it is taken off before anything else is
imported: checking a folder never executes its code, whichever way lossguard is started.
"""

import os
import sys

if sys.path and sys.path[0] in ("", os.getcwd()) and not getattr(sys.flags, "safe_path", False):
    del sys.path[0]

from lossguard.cli import main  # noqa: E402

if __name__ == "__main__":
    main()
