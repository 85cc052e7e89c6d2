"""Migration 0005 gives the incoming email threads stored before 0004 their unique
`inbound_key`: the oldest thread of each Message-ID only, never a key a newer thread has.

The database at 0004 is one of its own (a SQLite file of the test, or <test database>_mig on
PostgreSQL), opened in a TortoiseContext of its own: the session's connection "default" stays
as it is. Its old rows are written with plain SQL, as the 0004 schema has them (today's models
may one day have columns 0004 lacks)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
from tortoise.connection import get_connection
from tortoise.context import TortoiseContext
from tortoise.exceptions import IntegrityError
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from deskql import db, models
from deskql.models.enums import Channel, ThreadDirection
from deskql.services import threads, uow
from deskql.settings import Settings
from tests.test_cli import cli_env, deskql, free_port

BACKFILL = importlib.import_module("deskql.migrations.0005_backfill_inbound_key")
AT_0004 = "0004_workflows"  # later migrations (after 0005) are applied and unapplied with it
M0005 = "models.0005_backfill_inbound_key"
# The migrations after 0005 (each branch adds its own): they are applied after it.
LATER = sorted(
    f"models.{p.stem}"
    for p in (Path(__file__).resolve().parent.parent / "migrations").glob("0*.py")
    if p.stem > "0005_backfill_inbound_key"
)
INCOMING, OUTGOING = ThreadDirection.INCOMING.value, ThreadDirection.OUTGOING.value
EMAIL = Channel.EMAIL.value


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class Old:
    """A thread of a database at 0004, and the key it has after 0005."""

    name: str
    message_id: str | None
    expected: str | None
    direction: str = INCOMING
    channel: str = EMAIL
    key: str | None = None  # stored after 0004: it has its key already
    is_public: bool = True


# In id order: the oldest first.
THREADS = [
    Old("incoming", "<first-1@example.com>", sha("<first-1@example.com>")),
    Old("duplicate, oldest", "<dup-1@Example.COM>", sha("<dup-1@example.com>")),
    Old("outgoing reply", "<out-1@zylker.deskql.local>", None, direction=OUTGOING),
    Old("duplicate, later", "<dup-1@example.com>", None),
    # The local part is case-sensitive: another message, its own key.
    Old("local part in other case", "<DUP-1@example.com>", sha("<DUP-1@example.com>")),
    Old("phone", "<phone-1@example.com>", None, channel=Channel.PHONE.value),
    Old("web", "<web-1@example.com>", None, channel=Channel.WEB.value),
    Old("no Message-ID", None, None),
    Old("Message-ID without <id>", "no angle brackets", None),
    Old("bounce", "<bounce-1@mx.example.com>", sha("<bounce-1@mx.example.com>"), is_public=False),
    Old("duplicate, third", " <dup-1@EXAMPLE.com> (resent)", None),
    Old("old copy of a newer thread", "<again-1@example.com>", None),
    Old(
        "newer thread with its key",
        "<again-1@EXAMPLE.com>",
        sha("<again-1@example.com>"),
        key=sha("<again-1@example.com>"),
    ),
]
EXPECTED = {t.name: t.expected for t in THREADS}
FILLED = sum(1 for t in THREADS if t.expected and not t.key)


async def insert(table: str, now: tuple[str, ...] = ("created_at",), **values: object) -> int:
    """INSERT one row with plain SQL (SQLite or PostgreSQL placeholders); its id."""
    conn = get_connection("default")
    postgres = conn.capabilities.dialect == "postgres"
    marks = [f"${i}" if postgres else "?" for i in range(1, len(values) + 1)]
    columns = ", ".join(f'"{c}"' for c in [*values, *now])
    given = ", ".join([*marks, *["CURRENT_TIMESTAMP"] * len(now)])
    sql = f'INSERT INTO "{table}" ({columns}) VALUES ({given}) RETURNING "id"'
    rows = await conn.execute_query_dict(sql, list(values.values()))
    return rows[0]["id"]


async def write_old_threads() -> dict[str, int]:
    """A department, ticket #1 and THREADS, as a database at 0004 has them; name -> id."""
    department = await insert("department", name="Support", description="")
    ticket = await insert(
        "ticket",
        now=("created_at", "updated_at"),
        number=1,
        subject="Printer jam",
        description="",
        status="OPEN",
        priority=2,
        channel=EMAIL,
        is_spam=False,
        version=1,
        department_id=department,
    )
    ids = {}
    for t in THREADS:
        ids[t.name] = await insert(
            "thread",
            ticket_id=ticket,
            direction=t.direction,
            channel=t.channel,
            is_public=t.is_public,
            from_address="melissa@example.com",
            to_addresses="support@zylker.deskql.local",
            cc_addresses="",
            subject="Printer jam",
            body_text="It jams.",
            body_html="",
            message_id=t.message_id,
            inbound_key=t.key,
            in_reply_to="",
            references="",
        )
    return ids


async def keys(ids: dict[str, int]) -> dict[str, str | None]:
    """The inbound_key of each named thread."""
    stored = dict(
        await models.Thread.filter(id__in=list(ids.values())).values_list("id", "inbound_key")
    )
    return {name: stored[pk] for name, pk in ids.items()}


@pytest_asyncio.fixture
async def side(database: Settings, tmp_path: Path) -> Settings:
    """Settings of an empty database beside the session's: a SQLite file, or <name>_mig."""
    url = os.environ.get("DESKQL_DATABASE_URL", "")
    if url:
        base, _, name = url.rpartition("/")
        url = f"{base}/{name.split('?', 1)[0]}_mig"
        await db.recreate_postgres_database(url)
    return Settings.from_env(var_dir=tmp_path / "side", database_url=url)


@asynccontextmanager
async def opened(settings: Settings) -> AsyncIterator[None]:
    """Inside: the connection "default" is the one to `settings`' database (not the session's)."""
    async with TortoiseContext() as ctx:
        await ctx.init(config=db.tortoise_config(settings))
        yield


async def migrate_to_0004(settings: Settings) -> None:
    """Migrate to 0004, forwards or back, with Tortoise's executor (as `tortoise migrate`)."""
    apps = db.tortoise_config(settings)["apps"]
    executor = MigrationExecutor(get_connection("default"), apps)
    await executor.migrate([MigrationTarget(db.APP_LABEL, AT_0004)])


async def test_0005_gives_old_incoming_email_threads_their_key_once(side: Settings) -> None:
    async with opened(side):
        await migrate_to_0004(side)
        assert await db.pending_migrations(side) == [M0005, *LATER]
        ids = await write_old_threads()
        assert await keys(ids) == {t.name: t.key for t in THREADS}

        assert await db.apply_migrations(side) == [M0005, *LATER]
        assert await keys(ids) == EXPECTED
        assert await db.pending_migrations(side) == []

        # Idempotent: the same work again finds nothing to do.
        conn = get_connection("default")
        assert await BACKFILL.backfill_inbound_keys(models.Thread, conn) == 0
        assert await keys(ids) == EXPECTED
        # Unapplying it is a no-op (the keys stay), and applying it again changes nothing.
        await migrate_to_0004(side)
        assert await db.pending_migrations(side) == [M0005, *LATER]
        assert await keys(ids) == EXPECTED
        assert await db.apply_migrations(side) == [M0005, *LATER]
        assert await keys(ids) == EXPECTED

        # The unique key now refuses a second thread of an old message (the insert of the
        # inbound path, in its transaction), in any spelling of its domain.
        ticket = await models.Ticket.get(number=1)
        for mid in ("<first-1@EXAMPLE.com>", "<dup-1@example.com>", "<bounce-1@mx.example.com>"):
            with pytest.raises(IntegrityError):
                async with uow.transaction():
                    await threads.add_incoming_thread(
                        ticket=ticket,
                        contact_id=None,
                        from_address="melissa@example.com",
                        to_addresses="",
                        cc_addresses="",
                        subject="Printer jam",
                        body_text="It jams.",
                        body_html="",
                        message_id=mid,
                        in_reply_to="",
                        references="",
                        inbound_key=threads.inbound_key(mid),
                    )
        assert await models.Thread.all().count() == len(THREADS)
        assert await models.Activity.all().count() == 0


@pytest.mark.parametrize(("batch", "updates"), [(1, FILLED), (2, 3), (1000, 1)])
async def test_the_backfill_works_in_batches_of_ids(
    clean_db: Settings, batch: int, updates: int
) -> None:
    """Duplicates in different batches still leave the key to the oldest; one UPDATE per batch
    that fills something."""
    ids = await write_old_threads()
    with db.count_statements() as statements:
        filled = await BACKFILL.backfill_inbound_keys(
            models.Thread, get_connection("default"), batch=batch
        )
    assert filled == FILLED == 4
    assert await keys(ids) == EXPECTED
    assert sum(sql.startswith("UPDATE") for sql in statements.sql) == updates
    # Candidates: INCOMING EMAIL with a Message-ID and no key (8), `batch` at a time, until an
    # empty batch.
    selects = [sql for sql in statements.sql if "LIMIT" in sql]
    assert len(selects) == -(-8 // batch) + 1
    assert await BACKFILL.backfill_inbound_keys(models.Thread, get_connection("default")) == 0


async def test_deskql_migrate_applies_0005_to_a_database_at_0004(side: Settings) -> None:
    async with opened(side):
        await migrate_to_0004(side)
        ids = await write_old_threads()
    env = cli_env(side.var_dir, DESKQL_AUTO_MIGRATE="false")
    if side.database_url:
        env["DESKQL_DATABASE_URL"] = side.database_url

    # A server refuses the database: 0005 is pending (db.pending_migrations, through the CLI).
    refused = await asyncio.to_thread(deskql, env, "serve", "--port", str(free_port()))
    assert refused.returncode == 2, refused.stderr
    pending = ", ".join([M0005, *LATER])
    assert f"{1 + len(LATER)} migration(s) pending: {pending}" in refused.stderr

    migrated = await asyncio.to_thread(deskql, env, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert [line for line in migrated.stdout.splitlines() if line.startswith("applied")] == [
        f"applied {m}" for m in [M0005, *LATER]
    ]
    again = await asyncio.to_thread(deskql, env, "migrate")
    assert again.returncode == 0, again.stderr
    assert "up to date" in again.stdout
    async with opened(side):
        assert await keys(ids) == EXPECTED
        assert await db.pending_migrations(side) == []
