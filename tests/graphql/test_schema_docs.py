"""Every type, field, argument, input field and enum of the schema is documented: clients read
the docs from the schema (DESIGN rule 7)."""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLUnionType,
)

from deskql.schema.root import build_schema


def test_everything_has_a_description() -> None:
    schema = build_schema()._schema
    missing: list[str] = []
    for name, gtype in schema.type_map.items():
        if name.startswith("__") or name in {"String", "Int", "Float", "Boolean", "ID"}:
            continue
        if isinstance(gtype, GraphQLObjectType) and name in {"Query", "Mutation", "Subscription"}:
            pass
        elif not gtype.description:
            missing.append(name)
        if isinstance(gtype, GraphQLObjectType | GraphQLInterfaceType):
            for fname, field in gtype.fields.items():
                if not field.description:
                    missing.append(f"{name}.{fname}")
                for aname, arg in field.args.items():
                    if not arg.description:
                        missing.append(f"{name}.{fname}({aname})")
        elif isinstance(gtype, GraphQLInputObjectType):
            for fname, field in gtype.fields.items():
                if not field.description:
                    missing.append(f"{name}.{fname}")
        elif isinstance(gtype, GraphQLEnumType | GraphQLUnionType):
            pass
    assert missing == [], f"undocumented: {missing}"


def test_id_scalars_and_core_fields_exist() -> None:
    schema = build_schema()._schema
    query = schema.query_type
    assert query is not None
    for field in ["node", "nodes", "me", "ticket", "tickets"]:
        assert field in query.fields, field
    assert schema.type_map["Node"] is not None
