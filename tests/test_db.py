"""db: the ORM connection survives tasks cancelled at any point of a transaction."""

from __future__ import annotations

import asyncio
import sqlite3

from tortoise.transactions import in_transaction

from deskql import models
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
