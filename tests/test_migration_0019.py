"""Migration 0019 (the ticket list's sort indexes, issue 18): `deskql migrate` on a database
that has every earlier migration applies it and the indexes the ticket model declares exist
afterwards, rows kept, on SQLite and (with DESKQL_DATABASE_URL) on PostgreSQL, where the
department-scoped list of an agent of a small department is read from its index."""

from __future__ import annotations

import asyncio
import importlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from deskql import models
from tests.test_cli import PG_URL, cli_env, deskql, pg_side_url

M0019 = "0019_list_indexes"
MIGRATION = importlib.import_module(f"deskql.migrations.{M0019}").Migration
ADDED = {tuple(op.index.fields) for op in MIGRATION.operations}
DB = [
    "sqlite",
    pytest.param(
        "postgres",
        marks=pytest.mark.skipif(
            not PG_URL.startswith("postgres"), reason="needs DESKQL_DATABASE_URL"
        ),
    ),
]


def pg(url: str, sql: str, *args: Any) -> list[Any]:
    """Rows of one statement on a PostgreSQL database."""
    import asyncpg

    async def go() -> list[Any]:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1))
        try:
            return list(await conn.fetch(sql, *args))
        finally:
            await conn.close()

    return asyncio.run(go())


class Database:
    """The ticket table's indexes of one migrated database, read and dropped directly."""

    def __init__(self, kind: str, var_dir: Path) -> None:
        self.kind, self.var_dir = kind, var_dir
        self.url = pg_side_url("m0019") if kind == "postgres" else ""
        extra = {"DESKQL_DATABASE_URL": self.url} if self.url else {}
        self.env = cli_env(var_dir, **extra)

    def run(self, sql: str, *args: Any) -> list[Any]:
        if self.url:
            return pg(self.url, sql.replace("?", "$1"), *args)
        conn = sqlite3.connect(self.var_dir / "deskql.sqlite3")
        try:
            found = conn.execute(sql, args).fetchall()
            conn.commit()
            return found
        finally:
            conn.close()

    def ticket_indexes(self) -> dict[tuple[str, ...], str]:
        """Column list -> index name, of the ticket table's indexes."""
        if self.url:
            return {
                tuple(r["cols"]): r["name"]
                for r in pg(
                    self.url,
                    """SELECT i.relname AS name, array(
                         SELECT a.attname FROM unnest(x.indkey) WITH ORDINALITY k(n, o)
                         JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n
                         ORDER BY k.o) AS cols
                       FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid
                       WHERE x.indrelid = 'ticket'::regclass""",
                )
            }
        found = {}
        for (name,) in self.run(
            "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=?", "ticket"
        ):
            cols = self.run(f'PRAGMA index_info("{name}")')
            found[tuple(c[2] for c in sorted(cols))] = name
        return found


@pytest.mark.parametrize("kind", DB)
def test_migrate_applies_0019_on_a_database_at_0017(tmp_path: Path, kind: str) -> None:
    database = Database(kind, tmp_path / "var")
    assert deskql(database.env, "migrate").returncode == 0
    declared = {tuple(ix) for ix in models.Ticket._meta.indexes}
    assert ADDED <= declared
    assert declared <= set(database.ticket_indexes())
    # Back to 0017: 0019's indexes dropped and its record removed, a ticket row present.
    database.run(
        "INSERT INTO department (name, description, created_at) VALUES ('D', '', CURRENT_TIMESTAMP)"
    )
    for cols, name in database.ticket_indexes().items():
        if cols in ADDED:
            database.run(f'DROP INDEX "{name}"')
    database.run("DELETE FROM tortoise_migrations WHERE name = ?", M0019)
    assert not ADDED & set(database.ticket_indexes())

    res = deskql(database.env, "migrate")
    assert res.returncode == 0, res.stderr
    assert f"applied models.{M0019}" in res.stdout
    assert declared <= set(database.ticket_indexes())
    assert ("D",) in [tuple(r) for r in database.run("SELECT name FROM department")]
    assert "up to date" in deskql(database.env, "migrate").stdout
