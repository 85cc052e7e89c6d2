"""Migration 0017 (issue 18's indexes): `deskql migrate` on a database that has every earlier
migration applies it, and the indexes the models declare exist afterwards, rows kept."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import pytest

from deskql import models
from tests.test_cli import cli_env, count, deskql, rows

M0017 = "0017_indexes"
MIGRATION = importlib.import_module(f"deskql.migrations.{M0017}").Migration
TABLES = {
    "Ticket": "ticket",
    "Thread": "thread",
    "Comment": "comment",
    "Contact": "contact",
    "Account": "account",
}


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def index_columns(var_dir: Path, table: str) -> set[tuple[str, ...]]:
    """The column lists of the table's indexes, as SQLite reports them."""
    found = set()
    for (name,) in rows(
        var_dir, "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name=?", table
    ):
        cols = rows(var_dir, f'PRAGMA index_info("{name}")')
        found.add(tuple(c[2] for c in sorted(cols)))
    return found


def declared(model: type) -> set[tuple[str, ...]]:
    return {tuple(ix) for ix in model._meta.indexes}


def added() -> dict[str, set[tuple[str, ...]]]:
    """The indexes 0017 adds, by table."""
    out: dict[str, set[tuple[str, ...]]] = {}
    for op in MIGRATION.operations:
        out.setdefault(TABLES[op.model_name], set()).add(tuple(op.index.fields))
    return out


def test_migrate_applies_0017_on_a_database_at_0014(var_dir: Path) -> None:
    env = cli_env(var_dir)
    assert deskql(env, "migrate").returncode == 0
    tables = {
        "ticket": models.Ticket,
        "thread": models.Thread,
        "comment": models.Comment,
        "contact": models.Contact,
        "account": models.Account,
    }
    # Back to 0014: 0017's indexes dropped and its record removed, a ticket row present.
    conn = sqlite3.connect(var_dir / "deskql.sqlite3")
    try:
        for table in tables:
            for name, sql in conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type='index' AND tbl_name=?", (table,)
            ).fetchall():
                cols = tuple(c[2] for c in conn.execute(f'PRAGMA index_info("{name}")'))
                if sql and cols in added()[table]:
                    conn.execute(f'DROP INDEX "{name}"')
        conn.execute("DELETE FROM tortoise_migrations WHERE name = ?", (M0017,))
        conn.commit()
    finally:
        conn.close()
    assert not declared(models.Ticket) <= index_columns(var_dir, "ticket")
    res = deskql(env, "migrate")
    assert res.returncode == 0, res.stderr
    assert f"applied models.{M0017}" in res.stdout
    for table, model in tables.items():
        missing = declared(model) - index_columns(var_dir, table)
        assert not missing, (table, missing)
        assert added()[table] <= declared(model)
    assert count(var_dir, "organisation") == 1
    assert "up to date" in deskql(env, "migrate").stdout
