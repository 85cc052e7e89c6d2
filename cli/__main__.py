"""`python -m deskql.cli`: the `deskql` command."""

from __future__ import annotations

import sys

from deskql.cli.parser import main

if __name__ == "__main__":
    sys.exit(main())
