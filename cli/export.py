"""`deskql export-schema`: schema.graphql and help.graphql written from the code."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from deskql.cli.common import DEFAULT_HELP_SCHEMA_FILE, DEFAULT_SCHEMA_FILE
from deskql.settings import Settings

# --- export-schema -----------------------------------------------------------------------


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> int:
    """Write the GraphQL schema (SDL) to a file, or to standard output for `-`."""
    from deskql.schema.root import schema_sdl

    sdl = schema_sdl()
    if args.output == "-":
        sys.stdout.write(sdl)
        return 0
    path = Path(args.output)
    path.write_text(sdl, encoding="utf-8")
    print(f"wrote {path} ({len(sdl.splitlines())} lines)")
    if path.resolve() == DEFAULT_SCHEMA_FILE.resolve():
        # The help center's own schema (/help/graphql) is committed beside it.
        from deskql.schema.help.root import help_schema_sdl

        help_sdl = help_schema_sdl()
        DEFAULT_HELP_SCHEMA_FILE.write_text(help_sdl, encoding="utf-8")
        print(f"wrote {DEFAULT_HELP_SCHEMA_FILE} ({len(help_sdl.splitlines())} lines)")
    return 0
