"""`python -m lerax_testing`: the `lerax-conformance` command."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
