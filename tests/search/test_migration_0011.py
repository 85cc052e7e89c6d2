"""Migration 0011 builds the index of the records a database already has, in batches, on
SQLite and PostgreSQL; unapplying it drops the engine structures and applying it again works.
`deskql reindex` rebuilds the index from the records."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest
from tortoise.connection import get_connection
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget

from deskql import db
from deskql.models.enums import Channel
from deskql.schema.ids import from_global_id
from deskql.services import auth
from deskql.services.search import query
from deskql.settings import Settings
from tests.test_cli import cli_env, deskql
from tests.test_migration_0005 import insert, opened, side  # noqa: F401 - fixture

SEARCH_MIGRATION = importlib.import_module("deskql.migrations.0011_search")


async def migrate_to(settings: Settings, name: str) -> None:
    apps = db.tortoise_config(settings)["apps"]
    await MigrationExecutor(get_connection("default"), apps).migrate(
        [MigrationTarget(db.APP_LABEL, name)]
    )


async def old_rows() -> dict[str, int]:
    department = await insert("department", name="Support", description="")
    ids = {}
    for number, subject in enumerate(["Żółty rower", "Printer jam", "工单系统", "Zółw"], start=1):
        ids[subject] = await insert(
            "ticket",
            now=("created_at", "updated_at"),
            number=number,
            subject=subject,
            description="",
            status="OPEN",
            priority=2,
            channel=Channel.EMAIL.value,
            is_spam=False,
            version=1,
            department_id=department,
        )
    ids["contact"] = await insert(
        "contact",
        now=("created_at", "updated_at"),
        first_name="Łucja",
        last_name="Kowalska",
        email="lucja@example.pl",
        secondary_email="",
        phone="",
        mobile="",
        description="",
    )
    return ids


async def found(text: str) -> list[tuple[str, int]]:
    admin = auth.Actor(0, auth.Role.ADMINISTRATOR, frozenset())
    plan = await query.plan(admin, query=text, decode_id=lambda g, t: from_global_id(g)[1])
    hits, _ = await query.page(plan, offset=0, limit=10)
    return [(h.module, h.object_id) for h in hits]


async def test_0011_indexes_existing_records_in_batches(
    side: Settings,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(SEARCH_MIGRATION, "BATCH", 2)  # several batches per module
    async with opened(side):
        await migrate_to(side, "0005_backfill_inbound_key")
        ids = await old_rows()
        await db.apply_migrations(side)
        assert await found("zolty") == [("ticket", ids["Żółty rower"])]
        assert await found("工单") == [("ticket", ids["工单系统"])]
        assert await found("zolw") == [("ticket", ids["Zółw"])]
        assert await found("lucja") == [("contact", ids["contact"])]
        # Reversible: back to 0005 drops it all, forwards builds it again.
        await migrate_to(side, "0005_backfill_inbound_key")
        await db.apply_migrations(side)
        assert await found("printer jam") == [("ticket", ids["Printer jam"])]


def test_deskql_reindex(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    assert deskql(env, "migrate").returncode == 0
    demo = deskql(env, "demo")
    assert demo.returncode == 0, demo.stderr
    res = deskql(env, "reindex", "--batch", "7")
    assert res.returncode == 0, res.stderr
    assert res.stdout.startswith("Reindexed ") and int(res.stdout.split()[1]) > 10
