"""SQLite SELECTs read in the event loop (sqlite_reads.py): on the reader, what is committed,
never what a transaction has not committed yet, and back on aiosqlite's thread when over the
budget or when the reader cannot answer."""

from __future__ import annotations

import asyncio
import threading
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
    monkeypatch.setattr(client, "read_threads", 0)  # aiosqlite's thread, as before
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


async def test_slow_reads_run_side_by_side_on_reading_threads(
    client: LoopReadingSqliteClient, threaded: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(client, "budget_ms", 1.0)
    client._slow.clear()
    slow_ok = SLOW.replace("AS n", "AS n, ? AS tag")
    # Interrupted in the loop once, then answered by a reading thread (not aiosqlite's).
    _, rows = await client.execute_query(slow_ok, [1])
    assert (rows[0]["n"], rows[0]["tag"]) == (300000, 1)
    assert slow_ok in client._slow and threaded == []
    loop_thread = threading.get_ident()
    seen: set[int] = set()
    original = client._thread_read

    def noting(query: str, values: Any) -> Any:
        seen.add(threading.get_ident())
        return original(query, values)

    monkeypatch.setattr(client, "_thread_read", noting)
    results = await asyncio.gather(*(client.execute_query_dict(slow_ok, [i]) for i in range(6)))
    assert [r[0]["tag"] for r in results] == list(range(6))
    assert threaded == [] and loop_thread not in seen
    assert 1 <= len(seen) <= client.read_threads
    # A committed write is seen by the reading threads' next statement.
    await models.Department.create(name="Seen on a thread")
    names = "SELECT name, (" + SLOW[8:] + " FROM department WHERE name = ?"
    client._slow[names] = None
    _, rows = await client.execute_query(names, ["Seen on a thread"])
    assert [r["name"] for r in rows] == ["Seen on a thread"] and threaded == []


async def test_a_write_behind_with_is_tortoise_s(
    client: LoopReadingSqliteClient, threaded: list[str]
) -> None:
    await models.Department.create(name="Old name")
    write = (
        "WITH x AS (SELECT 'New name' AS v) UPDATE department SET name = (SELECT v FROM x) "
        "WHERE name = 'Old name'"
    )
    client._slow[write] = None  # even sent to a reading thread, the write is not lost
    await client.execute_query(write)
    assert threaded == [write]
    assert await models.Department.filter(name="New name").exists()
    _, rows = await client.execute_query("WITH x AS (SELECT 7 AS v) SELECT v FROM x")
    assert rows[0]["v"] == 7 and threaded == [write]  # a WITH that reads: in the loop


async def test_functions_of_the_writing_connection_exist_on_the_reader(
    client: LoopReadingSqliteClient, threaded: list[str]
) -> None:
    await sqlite_functions(client)
    _, rows = await client.execute_query("SELECT dq_lower('ŁUK Żółty') AS v")
    assert rows[0]["v"] == "łuk żółty"
    assert threaded == []
    # and on the reading threads, whenever they opened their connections
    on_thread = "SELECT dq_lower(?) AS v"
    client._slow[on_thread] = None
    for word in ("ŻÓŁW", "ĄŚ"):
        _, rows = await client.execute_query(on_thread, [word])
        assert rows[0]["v"] == word.lower()
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


async def test_an_in_memory_database_has_no_reader(tmp_path: Any) -> None:
    memory = LoopReadingSqliteClient(":memory:", connection_name="m")
    assert memory._open() is None
    missing = LoopReadingSqliteClient(str(tmp_path / "none.sqlite3"), connection_name="x")
    assert missing._open() is None
    off = LoopReadingSqliteClient(str(tmp_path / "x.sqlite3"), connection_name="y", loop_read_ms=0)
    assert await off._rows("SELECT 1", None) is None
