"""Migration 0020 (indexes the models declare that migrated databases lacked): on a SQLite
database migrated before it (notification without its unique (agent_id, activity_id) and
two indexes, contact without (created_at), task without (account_id)), `deskql migrate`
deletes the duplicate notifications (the lowest id of each kept) and creates the indexes; a
failure leaves nothing of it and records nothing. On PostgreSQL it is a no-op where the
indexes are there."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import pytest

from tests.test_cli import PG_URL, cli_env, deskql, pg_side_url, rows
from tests.test_migration_0019 import pg

M0020 = "0020_restore_indexes"
INDEXES = importlib.import_module(f"deskql.migrations.{M0020}").INDEXES
NAMES = {name for name, *_ in INDEXES}
UNIQUE = "uid_notificatio_agent_i_937090"
# (id, agent_id, activity_id): (1, 1) three times, (1, 2) once, (2, 1) twice.
NOTIFICATIONS = [(10, 1, 1), (4, 1, 1), (7, 1, 1), (5, 1, 2), (8, 2, 1), (6, 2, 1)]


def sql(var_dir: Path, *statements: str) -> None:
    """Run statements on the SQLite file and commit."""
    conn = sqlite3.connect(var_dir / "deskql.sqlite3")
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


def index_names(var_dir: Path) -> set[str]:
    return {r[0] for r in rows(var_dir, "SELECT name FROM sqlite_master WHERE type = 'index'")}


def back_to_0019_with_duplicates(var_dir: Path) -> None:
    """A database as 0019 left it on SQLite: the indexes absent, duplicate notifications."""
    sql(
        var_dir,
        *(f'DROP INDEX "{name}"' for name in NAMES),
        f"DELETE FROM tortoise_migrations WHERE name = '{M0020}'",
        *(
            "INSERT INTO notification (id, agent_id, activity_id, reason, created_at) "
            f"VALUES ({i}, {agent}, {activity}, 'FOLLOWING', CURRENT_TIMESTAMP)"
            for i, agent, activity in NOTIFICATIONS
        ),
    )
    assert not NAMES & index_names(var_dir)


def test_migrate_removes_duplicate_notifications_and_creates_the_indexes(
    tmp_path: Path,
) -> None:
    var_dir = tmp_path / "var"
    env = cli_env(var_dir)
    assert deskql(env, "migrate").returncode == 0
    assert NAMES <= index_names(var_dir)
    back_to_0019_with_duplicates(var_dir)

    res = deskql(env, "migrate")
    assert res.returncode == 0, res.stderr
    assert f"applied models.{M0020}" in res.stdout
    assert NAMES <= index_names(var_dir)
    kept = rows(var_dir, "SELECT id, agent_id, activity_id FROM notification ORDER BY id")
    assert kept == [(4, 1, 1), (5, 1, 2), (6, 2, 1)]
    with pytest.raises(sqlite3.IntegrityError):
        sql(
            var_dir,
            "INSERT INTO notification (agent_id, activity_id, reason, created_at) "
            "VALUES (1, 2, 'OWNER', CURRENT_TIMESTAMP)",
        )
    assert "up to date" in deskql(env, "migrate").stdout


def test_a_failed_0020_leaves_nothing_and_is_not_recorded(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    env = cli_env(var_dir)
    assert deskql(env, "migrate").returncode == 0
    back_to_0019_with_duplicates(var_dir)
    # The last index's name taken by a table: its CREATE INDEX fails after the others ran.
    sql(var_dir, 'CREATE TABLE "idx_task_account_74d46a" (x INTEGER)')

    res = deskql(env, "migrate")
    assert res.returncode != 0
    assert not NAMES & index_names(var_dir)
    assert len(rows(var_dir, "SELECT id FROM notification")) == len(NOTIFICATIONS)
    assert not rows(var_dir, "SELECT 1 FROM tortoise_migrations WHERE name = ?", M0020)

    sql(var_dir, 'DROP TABLE "idx_task_account_74d46a"')
    res = deskql(env, "migrate")
    assert res.returncode == 0, res.stderr
    assert NAMES <= index_names(var_dir)


@pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="needs DESKQL_DATABASE_URL")
def test_on_postgres_the_indexes_exist_and_0020_adds_what_is_missing(tmp_path: Path) -> None:
    url = pg_side_url("m0020")
    env = cli_env(tmp_path / "var", DESKQL_DATABASE_URL=url)
    assert deskql(env, "migrate").returncode == 0
    names = "SELECT indexname FROM pg_indexes WHERE schemaname = 'public'"
    assert NAMES <= {r["indexname"] for r in pg(url, names)}
    # Task's (account_id) was missing on PostgreSQL too (AddField's db_index made none).
    pg(url, 'DROP INDEX "idx_task_account_74d46a"')
    pg(url, f"DELETE FROM tortoise_migrations WHERE name = '{M0020}'")
    res = deskql(env, "migrate")
    assert res.returncode == 0, res.stderr
    assert f"applied models.{M0020}" in res.stdout
    assert NAMES <= {r["indexname"] for r in pg(url, names)}
