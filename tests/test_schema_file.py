"""The committed schema.graphql is the clients' contract: it must match the code."""

from __future__ import annotations

import difflib
from pathlib import Path

from deskql.schema.root import schema_sdl

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema.graphql"


def test_schema_file_matches_the_code() -> None:
    assert SCHEMA_FILE.exists(), "schema.graphql is missing: run `deskql export-schema`"
    committed = SCHEMA_FILE.read_text(encoding="utf-8")
    current = schema_sdl()
    if committed != current:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    current.splitlines(keepends=True),
                    "schema.graphql",
                    "schema_sdl()",
                )
            )[:60]
        )
        raise AssertionError(
            "schema.graphql differs from the schema in the code: run `deskql export-schema` "
            f"and commit the file.\n{diff}"
        )
