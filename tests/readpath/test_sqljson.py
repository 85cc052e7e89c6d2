"""Nodes written by the database (deskql/readpath/compiled/sqljson.py), on PostgreSQL and on
SQLite: the expressions write what orjson and the schema's serializers write, byte for byte
(checked here over generated values against the database itself), pages use them when they
can, and a node the database cannot write sends the page to the full executor. The suite runs
with readpath_verify, so every page here is also answered by the full executor and compared
byte for byte."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tortoise import Tortoise

from deskql import models
from deskql.readpath.compiled import serialise, sqljson
from tests.conftest import GQLClient, World, gid
from tests.readpath.test_compiled import seed
from tests.readpath.test_lean import readpath_of

POSTGRES = os.environ.get("DESKQL_DATABASE_URL", "").startswith("postgres")
WRITER = sqljson.DIALECTS["postgres" if POSTGRES else "sqlite"]


def mark(n: int) -> str:
    """The n-th statement parameter (SQLite's ?n may stand more than once)."""
    return f"${n}::text" if POSTGRES else f"?{n}"


# Text both databases can hold: no NUL, no lone surrogates; control characters, quotes,
# backslashes, whitespace of every kind, Polish, Chinese and emoji included.
TEXT = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=40,
) | st.text(alphabet='"\\/\b\f\n\r\t\x01\x1f\x7f\u2028\u3000 żółty工单🙂', max_size=20)
SLOW = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
DATETIMES = st.datetimes(
    min_value=datetime(1900, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(UTC)
)


async def _one(sql: str, *args: Any) -> Any:
    _, rows = await Tortoise.get_connection("default").execute_query(sql, list(args))
    return rows[0][0]


async def _examples(strategy: Any, sql: str, expected: Any) -> None:
    """Each generated example's SELECT against what Python writes (hypothesis drives a
    synchronous function; each example runs its statement on this loop)."""
    loop = asyncio.get_running_loop()
    seen: list[Any] = []

    @SLOW
    @given(strategy)
    def check(values: tuple[Any, ...]) -> None:
        seen.append(values)
        got = asyncio.run_coroutine_threadsafe(_one(sql, *values), loop).result(timeout=60)
        assert got == expected(*values), values

    await asyncio.to_thread(check)
    assert len(seen) >= 100


async def test_text_is_escaped_as_orjson_escapes_it(clean_db: Any) -> None:
    await _examples(
        st.tuples(TEXT), f"SELECT {WRITER.text(mark(1))}", lambda t: orjson.dumps(t).decode()
    )


async def test_a_display_name_is_stripped_as_python_strips_it(clean_db: Any) -> None:
    await _examples(
        st.tuples(TEXT, TEXT),
        f"SELECT {WRITER.name(mark(1), mark(2))}",
        lambda a, b: orjson.dumps(f"{a} {b}".strip()).decode(),
    )


async def test_a_global_id_is_written_as_to_global_id(clean_db: Any) -> None:
    number = "$1::bigint" if POSTGRES else "?1"
    await sqljson.sqlite_functions(Tortoise.get_connection("default"))
    for type_name in ("Ticket", "Notification"):
        await _examples(
            st.tuples(st.integers(1, 2**62)),
            f"SELECT {WRITER.global_id(type_name, number)}",
            lambda n, t=type_name: orjson.dumps(gid(t, n)).decode(),
        )


@pytest.mark.skipif(not POSTGRES, reason="SQLite does not write datetimes")
async def test_a_datetime_is_written_as_isoformat_in_utc(clean_db: Any) -> None:
    expression = sqljson._value(
        WRITER,
        models.Ticket._meta.fields_map["created_at"],
        _leaf("Ticket", "createdAt"),
        "$1::timestamptz",
    )
    whole = DATETIMES.map(lambda d: d.replace(microsecond=0))
    await _examples(
        st.tuples(DATETIMES | whole),
        f"SELECT {expression}",
        lambda d: orjson.dumps(d.astimezone(UTC).isoformat()).decode(),
    )


def _leaf(type_name: str, field: str) -> Any:
    from deskql.schema.root import build_schema
    from deskql.settings import Settings

    gtype = build_schema(Settings())._schema.get_type(type_name).fields[field].type
    while hasattr(gtype, "of_type"):
        gtype = gtype.of_type
    return gtype


PAGE = """
{ tickets(first: 20, sort: {field: NUMBER, direction: DESC}) { edges { node {
  id number subject description status priority channel isSpam %s
  tags contact { __typename id name email account { name } }
  assignee { __typename ... on Agent { id name } ... on Team { name } }
} } } }
""" % ("createdAt updatedAt closedAt" if POSTGRES else "")


@pytest.fixture
def written(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the nodes the database wrote."""
    count: list[int] = []
    original = serialise._written

    def counted(rows: Any) -> Any:
        out = original(rows)
        count.append(len(out))
        return out

    monkeypatch.setattr(serialise, "_written", counted)
    return count


async def test_a_page_is_written_by_the_database_and_equals_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World, written: list[int]
) -> None:
    await seed(world)
    odd = 'Tab\there "quoted" back\\slash\x01\x1f ż工🙂\u2028'
    await models.Ticket.filter(number=211).update(
        subject=odd,
        description="line\nbreak",
        closed_at=datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC),
    )
    await models.Ticket.filter(number=210).update(
        closed_at=datetime(2026, 3, 1, 12, 0, 0, 5, tzinfo=UTC) + timedelta(hours=1)
    )
    await models.Contact.filter(id=world.contact.id).update(first_name="\u3000Ola\t", last_name="")
    names = ["zeta", "Alpha", "ärger", "工单", 'q"uote']
    tags = [await models.Tag.create(name=name) for name in names]
    for ticket in await models.Ticket.filter(number__in=[209, 211]):
        for tag in tags if ticket.number == 211 else tags[:1]:
            await models.TicketTag.create(ticket_id=ticket.id, tag_id=tag.id)
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(PAGE)
    assert res.errors == [], res.errors
    assert path.compiled == 1, path.fallbacks
    assert written == [12]
    nodes = {e["node"]["number"]: e["node"] for e in res.data["tickets"]["edges"]}
    assert nodes[211]["subject"] == odd
    if POSTGRES:
        assert nodes[211]["closedAt"] == "2026-03-01T12:00:00+00:00"
        assert nodes[210]["closedAt"] == "2026-03-01T13:00:00.000005+00:00"
    assert nodes[211]["contact"] is None
    # The loader's order (the database's collation); the full executor's, as readpath_verify
    # compares byte for byte.
    assert sorted(nodes[211]["tags"]) == sorted(names)
    assert (nodes[209]["tags"], nodes[210]["tags"]) == (["zeta"], [])
    assert nodes[210]["contact"]["name"] == "Ola"
    assert nodes[210]["contact"]["__typename"] == "Contact"
    assert nodes[210]["contact"]["account"] == {"name": "Zylker Corp"}
    assert nodes[209]["assignee"] == {
        "__typename": "Agent",
        "id": gid("Agent", world.alice.id),
        "name": "A Alice",
    }
    assert nodes[207]["assignee"] == {"__typename": "Team", "name": "Printers"}
    assert nodes[208]["assignee"] is None


async def test_a_node_the_database_cannot_write_goes_to_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World, written: list[int]
) -> None:
    await seed(world)
    conn = Tortoise.get_connection("default")
    await conn.execute_query("UPDATE ticket SET status = 'no-such-status' WHERE number = 205")
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(PAGE)
    # The full executor answers, as it did before: the status is not a member of the enum.
    assert path.compiled == 0
    assert written == []
    assert res.errors, res.data


@pytest.mark.skipif(POSTGRES, reason="PostgreSQL keeps a column's type")
async def test_a_value_sqlite_holds_in_another_type_goes_to_the_full_executor(
    gql: GQLClient, http: httpx.AsyncClient, world: World, written: list[int]
) -> None:
    await seed(world)
    conn = Tortoise.get_connection("default")
    # SQLite keeps a blob in a text column as it is given.
    await conn.execute_query("UPDATE ticket SET subject = x'35' WHERE number = 205")
    path = readpath_of(http)
    res = await gql.as_(world.admin_token)(PAGE)
    # The full executor answers, as it did before (it refuses the value).
    assert (path.answered, written) == (0, []), path.fallbacks
    assert "String cannot represent" in str(res.errors), res.errors


async def test_pages_the_database_does_not_write_are_read_as_rows(
    gql: GQLClient, http: httpx.AsyncClient, world: World, written: list[int]
) -> None:
    await seed(world)
    path = readpath_of(http)
    # isOverdue is computed by the schema object; two selections on the nodes (edges and
    # nodes) are two plans.
    for query in (
        "{ tickets(first: 5) { nodes { number isOverdue } } }",
        "{ tickets(first: 5) { nodes { number } edges { node { subject } } } }",
    ):
        res = await gql.as_(world.admin_token)(query)
        assert res.errors == [], res.errors
    assert path.compiled == 2, path.fallbacks
    assert written == []
