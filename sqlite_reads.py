"""SQLite reads in the event loop (the embedded default's Tortoise engine).

Tortoise's SQLite client runs every statement on aiosqlite's thread: each is a hand-off to
that thread and back, and with a few requests at once the two threads pass the GIL back and
forth. For a page of 50 tickets the hand-offs cost more than the statements (bench/
ticket_list.py: 2.2 vs 1.4 ms of CPU a request at 8 at once, measured in-process). This client
answers a SELECT outside a transaction on a second, read-only connection to the same file,
in the event loop itself, within a time budget:

- only a statement beginning `SELECT`, only on the client itself (a transaction's statements
  go through Tortoise's transaction wrapper, on the writing connection, as before), only for a
  database file (`:memory:` is another database per connection);
- the database is in WAL mode (Tortoise's default): the reader sees every committed write and
  never waits for the writer; between statements it holds no snapshot;
- a statement beginning `WITH` is read the same way (one that writes fails on the read-only
  connection and goes to aiosqlite's thread, below);
- a statement still running after `budget_ms` is interrupted (a progress handler) and run
  again on one of `read_threads` reading threads, each with its own read-only connection, and
  that statement's text goes there from then on: a slow scan holds the event loop for the
  budget once, not each time, and slow reads (searches, reports) run side by side on the
  machine's cores instead of one after another on aiosqlite's thread, where the writes wait
  behind them (with read_threads 0 they go to aiosqlite's thread, as before);
- any other error of a reader (busy, a write, a function only the writing connection has)
  sends the statement to aiosqlite's thread, which answers or fails it as it always did.

Functions created on the writing connection (`create_function`, e.g. search's `dq_lower`) are
created on the reader too."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tortoise.backends.sqlite.client import SqliteClient

# Statements that ran over the budget, sent to the thread from then on (most recent kept)
SLOW_KEPT = 256
READS = ("SELECT", "WITH")  # statements a reader may answer (a write fails on it)
READ_THREADS = 2  # the threads of the slow reads (the machines this runs on have 2+ cores)


class LoopReadingSqliteClient(SqliteClient):
    """Tortoise's SQLite client, reading SELECTs in the event loop (see the module)."""

    def __init__(self, file_path: str, **kwargs: Any) -> None:
        self.budget_ms = float(kwargs.pop("loop_read_ms", 10))
        self.read_threads = int(kwargs.pop("read_threads", READ_THREADS))
        super().__init__(file_path, **kwargs)
        self._reader: sqlite3.Connection | None = None
        self._functions: list[tuple[str, int, Any, bool]] = []
        self._slow: OrderedDict[str, None] = OrderedDict()
        self._pool: ThreadPoolExecutor | None = None
        self._local = threading.local()  # a reading thread's connection and its functions
        self._thread_readers: list[sqlite3.Connection] = []

    async def create_connection(self, with_db: bool) -> None:
        """Tortoise's, then its connection's create_function noted for the reader."""
        await super().create_connection(with_db)
        raw = self._connection
        if raw is None or getattr(raw, "_deskql_noted", False):
            return
        create = raw.create_function

        async def noted(name: str, num_params: int, func: Any, deterministic: bool = False) -> Any:
            self._functions.append((name, num_params, func, deterministic))
            if self._reader is not None:
                self._reader.create_function(name, num_params, func, deterministic=deterministic)
            return await create(name, num_params, func, deterministic=deterministic)

        raw.create_function = noted  # type: ignore[method-assign]
        raw._deskql_noted = True  # type: ignore[attr-defined]

    async def close(self) -> None:
        """Close the readers, then Tortoise's connection."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        for reader in self._thread_readers:
            reader.close()
        self._thread_readers.clear()
        self._local = threading.local()
        await super().close()

    async def execute_query(self, query: str, values: list[Any] | None = None) -> Any:
        """A read answered by a reader when it can be (see the module), else Tortoise's."""
        rows = await self._rows(query, values)
        if rows is None:
            return await super().execute_query(query, values)
        return len(rows), rows

    async def execute_query_dict(self, query: str, values: list[Any] | None = None) -> Any:
        """As execute_query, as dicts."""
        rows = await self._rows(query, values)
        if rows is None:
            return await super().execute_query_dict(query, values)
        return list(map(dict, rows))

    async def _rows(self, query: str, values: list[Any] | None) -> list[Any] | None:
        """The rows from the loop's reader, or a reading thread's for a slow statement; None
        when aiosqlite's thread must answer (a write, or nothing may read)."""
        if self.budget_ms <= 0 or self._connection is None or not query.startswith(READS):
            return None
        query = query.replace("\x00", "'||CHAR(0)||'")  # as Tortoise's execute_query does
        if query not in self._slow:
            rows = self._read(query, values)  # notes the statement as slow when interrupted
            if rows is not None or query not in self._slow:
                return rows
        if self.read_threads <= 0:
            return None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.read_threads, thread_name_prefix="sqlite-read")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self._thread_read, query, values)

    def _thread_read(self, query: str, values: list[Any] | None) -> list[Any] | None:
        """On a reading thread: the statement on that thread's own read-only connection."""
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            reader = self._connect()
            if reader is None:
                return None
            self._local.reader, self._local.functions = reader, 0
            self._thread_readers.append(reader)
        # Functions created since (on the writing connection) are added here, in this thread.
        self._local.functions = self._add_functions(reader, self._local.functions)
        try:
            rows = reader.execute(query, values or ()).fetchall()
        except sqlite3.Error:
            return None
        self.log.debug("%s: %s", query, values)
        return rows

    def _read(self, query: str, values: list[Any] | None) -> list[Any] | None:
        """A read in the event loop within the budget; over it, the statement is noted as
        slow (it goes to a thread from then on) and None returned, as for any error."""
        reader = self._reader or self._open()
        if reader is None:
            return None
        deadline = time.perf_counter() + self.budget_ms / 1000
        reader.set_progress_handler(lambda: time.perf_counter() > deadline, 1000)
        try:
            rows = reader.execute(query, values or ()).fetchall()
        except sqlite3.Error as exc:
            if isinstance(exc, sqlite3.OperationalError) and "interrupted" in str(exc):
                self._slow[query] = None
                while len(self._slow) > SLOW_KEPT:
                    self._slow.popitem(last=False)
            return None
        finally:
            reader.set_progress_handler(None, 0)
        self.log.debug("%s: %s", query, values)
        return rows

    def _add_functions(self, reader: sqlite3.Connection, known: int) -> int:
        """Create on `reader` the writing connection's functions after its first `known`;
        how many it has now."""
        for name, num_params, func, deterministic in self._functions[known:]:
            reader.create_function(name, num_params, func, deterministic=deterministic)
        return len(self._functions)

    def _open(self) -> sqlite3.Connection | None:
        """The event loop's read-only connection (None for an in-memory database or one not
        there), with the writing connection's functions."""
        reader = self._connect()
        if reader is None:
            return None
        self._add_functions(reader, 0)
        self._reader = reader
        return reader

    def _connect(self) -> sqlite3.Connection | None:
        """A new read-only connection (None for an in-memory database or one not there)."""
        if self.filename == ":memory:" or "mode=memory" in self.filename:
            return None
        path = Path(self.filename)
        if not path.exists():
            return None
        try:
            reader = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=0,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error:
            return None
        reader.row_factory = sqlite3.Row
        cache = self.pragmas.get("cache_size")
        if cache is not None:
            reader.execute(f"PRAGMA cache_size={int(cache)}")
        return reader


client_class = LoopReadingSqliteClient
