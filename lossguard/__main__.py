"""`python -m lossguard`: the same CLI as the `lossguard` command."""

from lossguard.cli import main

if __name__ == "__main__":
    main()
