"""SQLite migrations that rebuild a table (tortoise's AlterField: copy, DROP, RENAME) keep the
rows of other tables that reference it: db.apply_migrations runs them with foreign keys off.
With them on, the DROP deleted every row of the table first, and the ON DELETE actions of the
referencing rows ran (0012's rebuild of contact deleted the contact's follows and products)."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.test_cli import ROOT, cli_env, deskql, rows

MIGRATE_TO = """
import asyncio, sys
from pathlib import Path
from tortoise import Tortoise
from tortoise.migrations.executor import MigrationTarget
from deskql import db
from deskql.settings import Settings

async def main():
    settings = Settings.from_env()
    await Tortoise.init(config=db.tortoise_config(settings), _enable_global_fallback=True)
    await db._executor(settings).migrate([MigrationTarget(db.APP_LABEL, sys.argv[1])])
    await Tortoise.close_connections()

asyncio.run(main())
"""


def insert(conn: sqlite3.Connection, table: str, **values: object) -> None:
    """A row with these values; every other NOT NULL column without a default gets a
    placeholder of its type."""
    for _, name, kind, notnull, default, pk in conn.execute(f'PRAGMA table_info("{table}")'):
        if name in values or not notnull or default is not None or pk:
            continue
        kind = kind.upper()
        if "INT" in kind or "BOOL" in kind:
            values[name] = 0
        elif "TIMESTAMP" in kind or "DATE" in kind:
            values[name] = "2026-01-01 00:00:00+00:00"
        else:
            values[name] = ""
    cols = ", ".join(f'"{c}"' for c in values)
    marks = ", ".join("?" * len(values))
    conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(values.values()))


def test_rebuilding_contact_keeps_the_rows_that_reference_it(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = cli_env(var_dir)
    done = subprocess.run(
        [sys.executable, "-c", MIGRATE_TO, "0011_search"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    conn = sqlite3.connect(var_dir / "deskql.sqlite3")
    try:
        insert(conn, "department", id=1, name="Support")
        insert(conn, "agent", id=1, email="a@example.com", last_name="A", role="AGENT")
        insert(conn, "contact", id=1, last_name="Doe", email="doe@example.com")
        insert(conn, "product", id=1, name="Widget")
        insert(conn, "contact_product", id=1, contact_id=1, product_id=1)
        insert(conn, "follow", id=1, agent_id=1, contact_id=1)
        conn.commit()
    finally:
        conn.close()

    res = deskql(env, "migrate")
    assert res.returncode == 0, res.stderr
    assert "applied models.0012_customers_tools" in res.stdout
    assert rows(var_dir, "SELECT contact_id, product_id FROM contact_product") == [(1, 1)]
    assert rows(var_dir, "SELECT agent_id, contact_id FROM follow") == [(1, 1)]
    assert rows(var_dir, "SELECT id, last_name FROM contact") == [(1, "Doe")]
    assert rows(var_dir, "PRAGMA foreign_key_check") == []
