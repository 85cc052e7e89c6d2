"""Shared fixtures: one migrated database per test session (SQLite file by default, the
PostgreSQL of DESKQL_DATABASE_URL when set), emptied before each test; a GraphQL client over
the real ASGI app; factories for departments, agents and tokens."""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from tortoise import Tortoise
from tortoise.connection import get_connection

from deskql import db, models
from deskql.models.enums import Role, TokenKind
from deskql.server import create_app
from deskql.services import auth, mail_directory, organisation
from deskql.settings import Settings


def _test_settings(tmp: Path) -> Settings:
    url = os.environ.get("DESKQL_DATABASE_URL", "")
    return Settings.from_env(
        var_dir=tmp,
        database_url=url,
        password_time_cost=1,
        password_memory_kib=8192,
        # Every query the suite sends that the lean executor answers is run on the full
        # executor too, and any difference fails the test (deskql/readpath, issue 18).
        readpath_verify=os.environ.get("DESKQL_READPATH_VERIFY", "true").lower() != "false",
    )


@pytest.fixture(scope="session")
def settings() -> Settings:
    tmp = Path(tempfile.mkdtemp(prefix="deskql-test-"))
    return _test_settings(tmp)


# A test still running after this many seconds is stuck; its asyncio tasks are printed (who
# waits on what) before pytest-timeout (pyproject: timeout) ends the run.
STUCK_AFTER = 120.0


def dump_tasks(why: str) -> None:
    """Print every asyncio task's stack to the real stderr (pytest's capture would hide it)."""
    out = io.StringIO()
    print(f"\n==== {why}: asyncio tasks ====", file=out)
    for task in asyncio.all_tasks():
        print(f"-- {task!r:.300}", file=out)
        task.print_stack(limit=30, file=out)
    sys.__stderr__.write(out.getvalue())
    sys.__stderr__.flush()


@pytest_asyncio.fixture(autouse=True)
async def _stuck_test_report(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    handle = asyncio.get_running_loop().call_later(
        STUCK_AFTER, dump_tasks, f"{request.node.nodeid} still running after {STUCK_AFTER:.0f} s"
    )
    yield
    handle.cancel()


@pytest.fixture(autouse=True)
def _no_database_ids_in_changes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every Activity a test writes names its ids in `changes` under keys of schema.ids.ID_KEYS
    (clients get them as global ids) or NOT_ID_KEYS: a new kind of change fails here."""
    from deskql.schema.ids import unmapped_id_keys
    from deskql.services import activity
    from deskql.services.macros import apply as macro_apply  # apply_macro looks it up there

    def check(kind: str, changes: Any) -> None:
        unmapped = unmapped_id_keys(changes)
        assert not unmapped, f"{kind}: add {sorted(unmapped)} to schema.ids.ID_KEYS or NOT_ID_KEYS"

    record, activity_row = activity.record, macro_apply._activity_row

    async def checked_record(**kwargs: Any) -> models.Activity:
        check(kwargs["kind"], kwargs.get("changes"))
        return await record(**kwargs)

    def checked_row(actor: Any, plan: Any) -> models.Activity:
        row = activity_row(actor, plan)
        check(row.kind, row.changes)
        return row

    monkeypatch.setattr(activity, "record", checked_record)
    monkeypatch.setattr(macro_apply, "_activity_row", checked_row)


@pytest_asyncio.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Settings]:
    if not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    auth.configure_hasher(settings.password_time_cost, settings.password_memory_kib)
    await db.init_db(settings, migrate=True)
    yield settings
    await db.close_db()


async def empty_database(settings: Settings) -> None:
    """Delete every row and restart ids, then create the organisation again."""
    conn = get_connection("default")
    tables = [model._meta.db_table for model in Tortoise.apps["models"].values()]
    if settings.is_embedded_db:
        await conn.execute_script("PRAGMA foreign_keys = OFF")
        for table in tables:
            await conn.execute_script(f'DELETE FROM "{table}"')
        await conn.execute_script("DELETE FROM sqlite_sequence")
        await conn.execute_script("PRAGMA foreign_keys = ON")
    else:
        names = ", ".join(f'"{t}"' for t in tables)
        await conn.execute_script(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    await organisation.ensure_organisation(settings)
    mail_directory.invalidate()  # the inbound mail snapshot held the old rows
    shutil.rmtree(settings.attachments_dir, ignore_errors=True)


@pytest_asyncio.fixture
async def clean_db(database: Settings) -> Settings:
    await empty_database(database)
    return database


@dataclass
class GQLResult:
    """A GraphQL response, with helpers for the common assertions."""

    status: int
    body: dict[str, Any]

    @property
    def data(self) -> dict[str, Any]:
        assert self.body.get("errors") is None, self.body.get("errors")
        return self.body["data"]

    @property
    def errors(self) -> list[dict[str, Any]]:
        return self.body.get("errors") or []

    def error_codes(self) -> list[str]:
        return [e.get("extensions", {}).get("code") for e in self.errors]


class GQLClient:
    """Sends GraphQL over HTTP to the in-process app, as a given agent."""

    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    def as_(self, token: str | None) -> GQLClient:
        return GQLClient(self.http, token)

    async def __call__(
        self, query: str, variables: dict[str, Any] | None = None, **kwargs: Any
    ) -> GQLResult:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        resp = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        return GQLResult(resp.status_code, resp.json())


@pytest_asyncio.fixture
async def http(clean_db: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(clean_db, manage_db=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        yield client


@pytest.fixture
def gql(http: httpx.AsyncClient) -> GQLClient:
    return GQLClient(http)


@dataclass
class World:
    """A small organisation: two departments, an admin, an agent in each, a shared contact."""

    sales: models.Department
    support: models.Department
    admin: models.Agent
    alice: models.Agent  # agent in Support
    bob: models.Agent  # agent in Sales
    admin_token: str
    alice_token: str
    bob_token: str
    contact: models.Contact


async def make_agent(
    email: str, last: str, role: Role = Role.AGENT, depts: list[int] | None = None
) -> tuple[models.Agent, str]:
    """An agent with a password ('correct horse') and an API token."""
    agent = await organisation.create_agent(
        None,
        email=email,
        last_name=last,
        first_name=last[:1],
        role=role,
        department_ids=depts or [],
        password="correct horse",
    )
    _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="test")
    return agent, token


@pytest_asyncio.fixture
async def world(clean_db: Settings) -> World:
    sales = await organisation.create_department(None, name="Sales")
    support = await organisation.create_department(None, name="Support")
    admin, admin_token = await make_agent("admin@zylker.com", "Admin", Role.ADMINISTRATOR)
    alice, alice_token = await make_agent("alice@zylker.com", "Alice", depts=[support.id])
    bob, bob_token = await make_agent("bob@zylker.com", "Bob", depts=[sales.id])
    contact = await models.Contact.create(
        email="melissa@example.com", first_name="Melissa", last_name="Doe"
    )
    return World(sales, support, admin, alice, bob, admin_token, alice_token, bob_token, contact)


def gid(type_name: str, pk: int) -> str:
    """Global id of a row, for building requests."""
    from deskql.schema.ids import to_global_id

    return to_global_id(type_name, pk)


__all__ = ["GQLClient", "GQLResult", "World", "gid", "make_agent"]
