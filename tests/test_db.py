"""db: the ORM connection survives tasks cancelled at any point of a transaction."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import asyncpg
import pytest
from tortoise.connection import get_connection
from tortoise.transactions import in_transaction

from deskql import models
from deskql.db import PooledConnection
from deskql.settings import Settings


async def test_a_task_cancelled_while_its_transaction_begins_leaves_the_connection_usable(
    clean_db: Settings,
) -> None:
    # Tortoise's SQLite transaction takes the connection's lock and then awaits BEGIN; cancelled
    # in between, it never released the lock and every later query of the process waited
    # forever (a subscriber disconnecting, a worker stopping at shutdown).
    async def writer() -> None:
        async with in_transaction():
            await models.Department.create(name="Never")
            await asyncio.sleep(10)

    for steps in range(12):  # cancel at each point from "asking for the lock" onwards
        task = asyncio.create_task(writer())
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        async with asyncio.timeout(5):
            # No half-begun transaction is left open: a write outside one commits at once...
            await models.Department.create(name=f"Kept {steps}")
            if clean_db.is_embedded_db:
                other = sqlite3.connect(clean_db.db_url.split("://", 1)[1])
                try:
                    names = {row[0] for row in other.execute("SELECT name FROM department")}
                finally:
                    other.close()
                assert f"Kept {steps}" in names
            # ...and the next transaction starts.
            async with in_transaction():
                assert await models.Department.filter(name="Never").count() == 0
    assert await models.Department.filter(name="Never").count() == 0
    assert await models.Department.filter(name__startswith="Kept").count() == 12


def _pool(settings: Settings) -> Any:
    if settings.is_embedded_db:
        pytest.skip("PostgreSQL's connection pool")
    return get_connection("default")._pool


async def test_a_pooled_connection_goes_back_without_a_reset_round_trip(
    clean_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    pool = _pool(clean_db)
    sent: list[str] = []
    original = PooledConnection.execute

    async def spy(self: PooledConnection, query: str, *args: Any, **kwargs: Any) -> Any:
        sent.append(query)
        return await original(self, query, *args, **kwargs)

    monkeypatch.setattr(PooledConnection, "execute", spy)
    await models.Department.create(name="Support")  # INSERT ... RETURNING: fetchrow
    assert await models.Department.filter(name="Support").count() == 1  # fetch
    await models.Department.filter(name="Support").update(name="Help")  # execute
    # asyncpg would have sent this after each of the three statements (it has one to send).
    async with pool.acquire() as conn:
        assert isinstance(conn._con, PooledConnection)
        assert "RESET ALL" in asyncpg.connection.Connection.get_reset_query(conn._con)
    assert sent == ['UPDATE "department" SET "name"=$1 WHERE "name"=$2']


async def test_a_connection_released_inside_a_transaction_is_rolled_back(
    clean_db: Settings,
) -> None:
    pool = _pool(clean_db)
    await models.Department.create(name="Support")
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("UPDATE department SET name = 'Half done'")
        pid = await conn.fetchval("SELECT pg_backend_pid()")
    async with pool.acquire() as conn:  # the same idle connection comes back first
        assert await conn.fetchval("SELECT pg_backend_pid()") == pid
        assert not conn.is_in_transaction()
    assert await models.Department.filter(name="Support").count() == 1


async def test_a_task_cancelled_while_begin_runs_gives_its_pooled_connection_back(
    clean_db: Settings,
) -> None:
    # Tortoise's pooled transaction acquires a connection, then awaits BEGIN; cancelled in
    # between, the connection never went back to the pool: a few cancelled requests and the
    # process had no connection left.
    pool = _pool(clean_db)

    async def writer() -> None:
        async with in_transaction():
            await models.Department.create(name="Never")
            await asyncio.sleep(10)

    size = pool.get_max_size()
    for steps in range(3 * size):
        task = asyncio.create_task(writer())
        for _ in range(steps % 12):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)

    async def hold() -> None:
        async with in_transaction():
            await models.Department.filter(name="Never").count()
            await asyncio.sleep(0.1)

    async with asyncio.timeout(10):
        # Every connection of the pool is usable at once (each hold() needs its own)...
        await asyncio.gather(*(hold() for _ in range(size)))
    assert pool.get_idle_size() == pool.get_size() == size  # ...and all came back
    assert await models.Department.filter(name="Never").count() == 0


async def test_a_statement_cancelled_after_its_preparation_leaves_no_lock_behind(
    clean_db: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # asyncpg prepares without a Sync: a task cancelled just as the preparation's answer came
    # left the server waiting inside that exchange, holding the table's lock, and with no
    # reset statement on release nothing ever ended it (a TRUNCATE waited forever).
    pool = _pool(clean_db)
    base_get_statement = asyncpg.connection.Connection._get_statement

    async def prepared_then_cancelled(self: Any, *args: Any, **kwargs: Any) -> Any:
        await base_get_statement(self, *args, **kwargs)
        raise asyncio.CancelledError  # as a cancel delivered right after the answer

    async with pool.acquire() as conn:
        pid = await conn.fetchval("SELECT pg_backend_pid()")
        monkeypatch.setattr(
            asyncpg.connection.Connection, "_get_statement", prepared_then_cancelled
        )
        with pytest.raises(asyncio.CancelledError):
            await conn.fetch('SELECT "name" FROM "department" WHERE "id" = $1', 7)
        monkeypatch.undo()
    # The connection sits idle in the pool; another session wants the table.
    client = get_connection("default")
    other = await asyncpg.connect(
        host=client.host,
        port=client.port,
        user=client.user,
        password=client.password,
        database=client.database,
    )
    try:
        async with other.transaction():
            await other.execute("SET LOCAL lock_timeout = '2s'")
            # Without the reset the abandoned preparation's lock is still held: this failed
            # with LockNotAvailableError after 2 s.
            await other.execute('LOCK TABLE "department" IN ACCESS EXCLUSIVE MODE')
    finally:
        await other.close()
    async with pool.acquire() as conn:  # the connection itself works as before
        assert await conn.fetchval("SELECT pg_backend_pid()") == pid
        assert await conn.fetchval("SELECT count(*) FROM department") == 0
