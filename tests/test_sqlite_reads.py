"""SQLite SELECTs read in the event loop (sqlite_reads.py): on the reader, what is committed,
never what a transaction has not committed yet, and back on aiosqlite's thread when over the
budget or when the reader cannot answer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tortoise.backends.sqlite.client import SqliteClient
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from deskql import models
from deskql.services.search.engine import sqlite_functions
from deskql.sqlite_reads import LoopReadingSqliteClient
from tests.conftest import World

SLOW = (
    "SELECT (WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 300000) "
    "SELECT count(*) FROM c) AS n"
)


@pytest.fixture
def client() -> LoopReadingSqliteClient:
    conn = get_connection("default")
    if not isinstance(conn, LoopReadingSqliteClient):
        pytest.skip("the embedded SQLite database only")
    return conn


@pytest.fixture
def threaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The statements that went to aiosqlite's thread (Tortoise's own execute_query)."""
    sent: list[str] = []
    original = SqliteClient.execute_query

    async def counted(self: Any, query: str, values: Any = None) -> Any:
        sent.append(query)
        return await original(self, query, values)

    monkeypatch.setattr(SqliteClient, "execute_query", counted)
    return sent


async def test_selects_are_read_in_the_loop_and_see_committed_writes(
    client: LoopReadingSqliteClient, threaded: list[str], world: World
) -> None:
    await models.Department.create(name="Printers")
    names = {d.name for d in await models.Department.all()}
    assert "Printers" in names
    assert not [q for q in threaded if q.startswith("SELECT")], threaded
    assert client._reader is not None


async def test_a_transaction_reads_its_own_writes_others_do_not_wait_for_it(
    client: LoopReadingSqliteClient, world: World
) -> None:
    created = asyncio.Event()
    finish = asyncio.Event()

    async def writer() -> None:
        async with in_transaction():
            await models.Department.create(name="Uncommitted")
            # the transaction's own read, on the writing connection
            assert await models.Department.filter(name="Uncommitted").exists()
            created.set()
            await finish.wait()

    task = asyncio.create_task(writer())
    await created.wait()
    # Outside it: answered at once (no waiting for the writer's lock), without its row.
    seen = await asyncio.wait_for(models.Department.filter(name="Uncommitted").exists(), 2)
    assert seen is False
    finish.set()
    await task
    assert await models.Department.filter(name="Uncommitted").exists()


async def test_a_statement_over_the_budget_goes_to_the_thread_from_then_on(
    client: LoopReadingSqliteClient, threaded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "budget_ms", 1.0)
    client._slow.clear()
    _, rows = await client.execute_query(SLOW)
    assert rows[0]["n"] == 300000
    assert threaded == [SLOW]  # interrupted in the loop, answered by the thread
    assert SLOW in client._slow
    _, rows = await client.execute_query(SLOW)
    assert rows[0]["n"] == 300000
    assert threaded == [SLOW, SLOW]
    # A quick one still reads in the loop.
    _, rows = await client.execute_query("SELECT 41 + 1 AS n")
    assert rows[0]["n"] == 42 and len(threaded) == 2


async def test_functions_of_the_writing_connection_exist_on_the_reader(
    client: LoopReadingSqliteClient, threaded: list[str]
) -> None:
    await sqlite_functions(client)
    _, rows = await client.execute_query("SELECT dq_lower('ŁUK Żółty') AS v")
    assert rows[0]["v"] == "łuk żółty"
    assert threaded == []


async def test_errors_and_writes_are_tortoise_s(
    client: LoopReadingSqliteClient, threaded: list[str]
) -> None:
    from tortoise.exceptions import OperationalError

    with pytest.raises(OperationalError):
        await client.execute_query("SELECT nothing FROM no_such_table")
    assert threaded == ["SELECT nothing FROM no_such_table"]  # the thread reports it
    await client.execute_query("UPDATE department SET name = name WHERE id = -1")
    assert threaded[-1].startswith("UPDATE")


def test_an_in_memory_database_has_no_reader(tmp_path: Any) -> None:
    memory = LoopReadingSqliteClient(":memory:", connection_name="m")
    assert memory._open() is None
    missing = LoopReadingSqliteClient(str(tmp_path / "none.sqlite3"), connection_name="x")
    assert missing._open() is None
    off = LoopReadingSqliteClient(str(tmp_path / "x.sqlite3"), connection_name="y", loop_read_ms=0)
    assert off._read("SELECT 1", None) is None
