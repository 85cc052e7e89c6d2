"""The help center's schema: its committed SDL (help.graphql) matches the code, everything in
it is documented, and nothing of the agents' private fields is in it."""

from __future__ import annotations

import difflib
from pathlib import Path

from graphql import GraphQLInputObjectType, GraphQLInterfaceType, GraphQLObjectType

from deskql.schema.help.root import build_help_schema, help_schema_sdl

HELP_FILE = Path(__file__).resolve().parents[2] / "help.graphql"


def test_help_schema_file_matches_the_code() -> None:
    assert HELP_FILE.exists(), "help.graphql is missing: run `deskql export-schema`"
    committed = HELP_FILE.read_text(encoding="utf-8")
    current = help_schema_sdl()
    if committed != current:
        diff = "".join(
            list(
                difflib.unified_diff(
                    committed.splitlines(keepends=True),
                    current.splitlines(keepends=True),
                    "help.graphql",
                    "help_schema_sdl()",
                )
            )[:60]
        )
        raise AssertionError(
            f"help.graphql differs from the code: run `deskql export-schema`.\n{diff}"
        )


def test_everything_in_the_help_schema_has_a_description() -> None:
    schema = build_help_schema()._schema
    missing: list[str] = []
    for name, gtype in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if name not in {"Query", "Mutation", "Subscription"} and not gtype.description:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType | GraphQLInputObjectType):
            for fname, field in gtype.fields.items():
                if not field.description:
                    missing.append(f"{name}.{fname}")
                for aname, arg in getattr(field, "args", {}).items():
                    if not arg.description:
                        missing.append(f"{name}.{fname}({aname})")
    assert missing == [], f"undocumented: {missing}"


def test_no_private_field_is_in_the_help_schema() -> None:
    sdl = help_schema_sdl()
    for word in ("isPublic", "isSpam", "spam", "tags", "timeEntries", "fromAddress", "internal"):
        assert word not in sdl, word
    types = set(build_help_schema()._schema.type_map)
    # None of the agents' types: its own small ones.
    assert not types & {"Ticket", "Thread", "Comment", "Agent", "Contact", "Activity"}
