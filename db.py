"""Database start-up: the Tortoise config, migration checks and shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg
from tortoise import Tortoise
from tortoise.backends.base.client import TransactionContextPooled
from tortoise.backends.base.config_generator import expand_db_url
from tortoise.backends.sqlite.client import SqliteTransactionContext
from tortoise.connection import get_connection, get_connections
from tortoise.exceptions import DBConnectionError
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from deskql import sqlite_rebuild  # noqa: F401 - SQLite table rebuilds keep their indexes
from deskql.models import MODEL_MODULES
from deskql.settings import Settings

APP_LABEL = "models"


class MigrationsPending(RuntimeError):
    """The database is behind the code; `deskql migrate` brings it up to date."""


class DatabaseUnavailable(DBConnectionError):
    """The database cannot be reached (server down, database missing, refused login)."""


def redacted(url: str) -> str:
    """A database URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


async def check_connection(settings: Settings) -> None:
    """Run a trivial statement; DatabaseUnavailable saying why when it fails (before asking
    about migrations, whose table would look empty on a database that is not there)."""
    try:
        await get_connection("default").execute_query("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - every driver's failure means the same here
        reason = str(exc).strip() or type(exc).__name__
        cause = exc.__cause__ or exc.__context__
        if cause is not None and str(cause).strip() and str(cause) not in reason:
            reason = f"{reason} ({str(cause).strip()})"
        raise DatabaseUnavailable(
            f"cannot connect to the database {redacted(settings.db_url)}: {reason}"
        ) from exc


async def _sqlite_transaction_enter(self: SqliteTransactionContext) -> Any:
    """SqliteTransactionContext.__aenter__ that gives the connection back when it fails or is
    cancelled before the transaction is open. Tortoise's keeps the connection's lock then, and
    every later query of the process waits forever (tests/test_db.py)."""
    await self._trxlock.acquire()
    token = None
    try:
        await self.ensure_connection()
        token = get_connections().set(self.connection_name, self.connection)
        await self.connection.begin()
    except BaseException:
        if token is not None:
            get_connections().reset(token)
        # The BEGIN may still run on aiosqlite's thread after we stopped waiting for it; roll
        # back behind it (its queue is in order) before anyone else may use the connection.
        _cleanups.add(task := asyncio.get_running_loop().create_task(_abandon(self)))
        task.add_done_callback(_cleanups.discard)
        raise
    self.token = token
    return self.connection


_cleanups: set[asyncio.Task[None]] = set()


async def _abandon(context: SqliteTransactionContext) -> None:
    try:
        raw = context.connection._connection
        if raw is not None:
            await raw.rollback()
    except Exception:  # noqa: BLE001 - the lock must come back whatever the rollback did
        logging.getLogger("deskql.db").warning("rollback of an abandoned transaction failed")
    finally:
        context._trxlock.release()


SqliteTransactionContext.__aenter__ = _sqlite_transaction_enter  # type: ignore[method-assign]


async def _pooled_transaction_enter(self: TransactionContextPooled) -> Any:
    """TransactionContextPooled.__aenter__ (PostgreSQL) that gives the pooled connection back
    when BEGIN fails or is cancelled. Tortoise's acquires a connection, then awaits BEGIN;
    stopped there, `__aexit__` never runs: the connection never returned to the pool (one
    fewer for the process, for good) and the task kept seeing it as its connection."""
    await self.ensure_connection()
    pool = self.client._parent._pool
    self.client._connection = await pool.acquire()
    self.token = get_connections().set(self.connection_name, self.client)
    try:
        await self.client.begin()
    except BaseException:
        get_connections().reset(self.token)
        # Released in the background: the caller may be cancelled again while waiting. The
        # pool rolls back a BEGIN that did run (asyncpg's release ends open transactions).
        _cleanups.add(task := asyncio.get_running_loop().create_task(_give_back(pool, self)))
        task.add_done_callback(_cleanups.discard)
        raise
    return self.client


async def _give_back(pool: Any, context: TransactionContextPooled) -> None:
    try:
        await pool.release(context.client._connection)
    except Exception:  # noqa: BLE001 - asyncpg terminates a connection it cannot reset
        logging.getLogger("deskql.db").warning("releasing an abandoned connection failed")


TransactionContextPooled.__aenter__ = _pooled_transaction_enter  # type: ignore[method-assign]


class PooledConnection(asyncpg.connection.Connection):  # type: ignore[misc]
    """A PostgreSQL connection that goes back to the pool without a round trip.

    asyncpg resets every connection it takes back (`SELECT pg_advisory_unlock_all(); CLOSE
    ALL; UNLISTEN *; RESET ALL`), after each statement Tortoise runs outside a transaction:
    one extra round trip per statement (STACK_NOTES). DeskQL leaves no session state to
    reset: no session-level SET (only SET LOCAL inside transactions), no LISTEN (the broadcast
    has its own connections), no advisory locks, no cursors WITH HOLD. An open transaction
    is still rolled back on release (asyncpg does that apart from the reset query)."""

    def get_reset_query(self) -> str:
        """No reset statement (see the class), unless a statement's preparation was
        interrupted: then one `SELECT 1`, which ends the exchange the server waits in."""
        if self.__dict__.pop("_unsynced", False):
            return "SELECT 1"
        return ""

    async def _get_statement(self, *args: Any, **kwargs: Any) -> Any:
        """asyncpg's, noting when it is cancelled. asyncpg prepares with Parse, Describe and a
        Flush, not a Sync; a task cancelled as the answer arrives leaves the server inside
        that exchange ('active', waiting for the client) and holding the statement's table
        locks until the connection's next message. Without a reset statement that could be
        never: a TRUNCATE or ALTER waited on them forever (tests/test_db.py)."""
        try:
            return await super()._get_statement(*args, **kwargs)
        except asyncio.CancelledError:
            self._unsynced = True
            raise


def placeholders(client: Any, count: int) -> str:
    """`count` comma-separated parameter marks as the client's database wants them ($1.. on
    PostgreSQL, ? on SQLite)."""
    if client.capabilities.dialect == "postgres":
        return ",".join(f"${i}" for i in range(1, count + 1))
    return ",".join("?" * count)


def _with_pool(url: str, size: int) -> str:
    """Add a pool size to a PostgreSQL URL unless it names one (Tortoise's default is 5)."""
    if not url.startswith(("postgres", "asyncpg")):
        return url
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query.setdefault("maxsize", str(size))
    return urlunsplit(parts._replace(query=urlencode(query)))


def tortoise_config(settings: Settings) -> dict[str, Any]:
    """The Tortoise ORM configuration for these settings."""
    url = settings.db_url
    if settings.is_embedded_db:
        path = url.split("://", 1)[1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
    connection: str | dict[str, Any] = url
    if settings.is_embedded_db:
        connection = expand_db_url(url)
        # SELECTs outside transactions read in the event loop (sqlite_reads.py).
        connection["engine"] = "deskql.sqlite_reads"
        connection["credentials"]["loop_read_ms"] = settings.sqlite_loop_read_ms
        connection["credentials"]["read_threads"] = settings.sqlite_read_threads
        if settings.sqlite_cache_mib:
            # Negative: KiB, whatever the page size (Tortoise sends each credential as a PRAGMA).
            connection["credentials"].setdefault("cache_size", -settings.sqlite_cache_mib * 1024)
    if url.startswith(("postgres", "asyncpg")):
        connection = expand_db_url(_with_pool(url, settings.db_pool_size))
        if connection["engine"] == "tortoise.backends.asyncpg":
            connection["credentials"]["connection_class"] = PooledConnection
    return {
        "connections": {"default": connection},
        "apps": {
            APP_LABEL: {
                "models": MODEL_MODULES,
                "default_connection": "default",
                "migrations": "deskql.migrations",
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _executor(settings: Settings) -> MigrationExecutor:
    config = tortoise_config(settings)
    return MigrationExecutor(get_connection("default"), config["apps"])


async def pending_migrations(settings: Settings) -> list[str]:
    """Names of the migrations not yet applied to the connected database."""
    steps = await _executor(settings).plan([MigrationTarget(APP_LABEL, "__latest__")])
    return [f"{s.migration.app_label}.{s.migration.name}" for s in steps if not s.backward]


async def apply_migrations(settings: Settings) -> list[str]:
    """Apply every pending migration; returns the names applied."""
    pending = await pending_migrations(settings)
    if pending:
        async with _sqlite_foreign_keys_off(settings):
            await _executor(settings).migrate([MigrationTarget(APP_LABEL, "__latest__")])
    return pending


@asynccontextmanager
async def _sqlite_foreign_keys_off(settings: Settings) -> AsyncIterator[None]:
    """SQLite: foreign keys off while migrations run, then checked (SQLite's own procedure for
    a table rebuild). Tortoise alters a column by rebuilding the table (copy, DROP, RENAME);
    with foreign keys on, the DROP is an implicit DELETE of every row, so rows of other tables
    referencing it were deleted (CASCADE), set NULL, or the migration failed (RESTRICT).
    The pragma cannot change inside a transaction: it is set around the executor."""
    if not settings.is_embedded_db:
        yield
        return
    conn = get_connection("default")
    await conn.execute_script("PRAGMA foreign_keys = OFF")
    try:
        yield
    finally:
        await conn.execute_script("PRAGMA foreign_keys = ON")
    _, broken = await conn.execute_query("PRAGMA foreign_key_check")
    if broken:
        tables = sorted({row[0] for row in broken})
        logging.getLogger("deskql.db").warning(
            "after migrating, %d row(s) reference missing rows (tables: %s)",
            len(broken),
            ", ".join(tables),
        )


async def init_db(settings: Settings, *, migrate: bool | None = None) -> None:
    """Open the connections; migrate or refuse when the database is behind the code."""
    from deskql.services import customer_keys

    customer_keys.configure(settings.phone_region)  # how contacts' phones are compared
    await Tortoise.init(config=tortoise_config(settings), _enable_global_fallback=True)
    try:
        await check_connection(settings)
    except DatabaseUnavailable:
        await Tortoise.close_connections()
        raise
    do_migrate = settings.should_auto_migrate if migrate is None else migrate
    if do_migrate:
        await apply_migrations(settings)
        return
    pending = await pending_migrations(settings)
    if pending:
        await Tortoise.close_connections()
        raise MigrationsPending(
            f"the database is behind the code ({len(pending)} migration(s) pending: "
            f"{', '.join(pending)}); run `deskql migrate` first"
        )


async def close_db() -> None:
    """Close every connection."""
    await Tortoise.close_connections()


async def recreate_postgres_database(url: str) -> None:
    """Drop and create the PostgreSQL database named in the URL, through the server's
    `postgres` database (tests and benchmarks start from an empty one)."""
    import asyncpg

    base, _, name = url.rpartition("/")
    name = name.split("?", 1)[0]
    conn = await asyncpg.connect(base.replace("postgres://", "postgresql://", 1) + "/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


class Statements(logging.Handler):
    """Collects the SQL statements Tortoise logs (at DEBUG) while it is attached."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.sql: list[str] = []

    @property
    def count(self) -> int:
        """How many statements ran."""
        return len(self.sql)

    def emit(self, record: logging.LogRecord) -> None:
        message = record.getMessage()
        # Pool and connection life-cycle messages share the logger; they are not statements.
        if message.startswith(("Created connection", "Closed connection")):
            return
        self.sql.append(message)


@contextmanager
def count_statements() -> Iterator[Statements]:
    """Capture the SQL statements run inside the block (tests and benchmarks)."""
    logger = logging.getLogger("tortoise.db_client")
    handler = Statements()
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
