"""The `deskql` command, run as a real process (`python -m cli`) against a temporary SQLite
file: migrate, create-agent, demo, export-schema, makemigrations, and a server that refuses a
database that is behind. With DESKQL_DATABASE_URL set, the PostgreSQL start-up path too."""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from deskql import db
from deskql.schema.root import schema_sdl

ROOT = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("DESKQL_DATABASE_URL", "")


def cli_env(var_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a CLI process: none of the caller's DESKQL_* settings, a var dir,
    cheap password hashing (the tests' own), plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DESKQL_")}
    env.update(
        DESKQL_VAR_DIR=str(var_dir),
        DESKQL_PASSWORD_TIME_COST="1",
        DESKQL_PASSWORD_MEMORY_KIB="8192",
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


def deskql(
    env: dict[str, str], *args: str, timeout: float = 120, cwd: Path = ROOT
) -> subprocess.CompletedProcess:
    """Run `deskql ARGS` (as `python -m deskql.cli`, from `cwd`) and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "deskql.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def running_server(
    env: dict[str, str], *args: str, startup_timeout: float = 90
) -> Iterator[tuple[str, subprocess.Popen]]:
    """Start `deskql serve ARGS` on a free port; yield its base URL once /health answers."""
    port = free_port()
    # Its own SMTP port too, so that servers of concurrent test runs never collide.
    env = {**env, "DESKQL_SMTP_PORT": str(free_port())}
    log = Path(env["DESKQL_VAR_DIR"]) / f"serve-{port}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "deskql.cli",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            + list(args),
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_timeout
        while True:
            if proc.poll() is not None:
                pytest.fail(f"the server exited with {proc.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{base}/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"the server did not answer /health in time:\n{log.read_text()}")
            time.sleep(0.2)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def rows(var_dir: Path, sql: str, *params: object) -> list[tuple]:
    """Query the SQLite file of a var dir directly (proof of what was written)."""
    conn = sqlite3.connect(var_dir / "deskql.sqlite3")
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def count(var_dir: Path, table: str) -> int:
    return rows(var_dir, f'SELECT COUNT(*) FROM "{table}"')[0][0]


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


# --- migrate -----------------------------------------------------------------------------


def test_migrate_applies_then_reports_up_to_date(var_dir: Path) -> None:
    env = cli_env(var_dir)
    first = deskql(env, "migrate")
    assert first.returncode == 0, first.stderr
    assert "applied models.0001_initial" in first.stdout
    assert "organisation: Zylker (zylker, ENTERPRISE)" in first.stdout
    assert count(var_dir, "organisation") == 1

    second = deskql(env, "migrate")
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout
    assert "applied" not in second.stdout
    assert count(var_dir, "organisation") == 1


def test_server_refuses_a_database_that_is_behind(var_dir: Path) -> None:
    env = cli_env(var_dir, DESKQL_AUTO_MIGRATE="false")
    res = deskql(env, "serve", "--port", str(free_port()))
    assert res.returncode == 2
    assert "behind" in res.stderr
    assert "deskql migrate" in res.stderr
    assert "Traceback" not in res.stderr + res.stdout
    # Nothing was created: the migration table does not even exist.
    tables = {r[0] for r in rows(var_dir, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert "ticket" not in tables and "organisation" not in tables

    # After `deskql migrate` the same server starts.
    assert deskql(env, "migrate").returncode == 0
    with running_server(env) as (base, _):
        assert httpx.get(f"{base}/health").json() == {"status": "ok"}


def test_makemigrations_finds_the_models_and_migrations_in_step(var_dir: Path) -> None:
    # From another folder, as an installed `deskql` runs: the config is found by package name.
    res = deskql(cli_env(var_dir), "makemigrations", cwd=var_dir.parent)
    assert res.returncode == 0, res.stderr
    assert "No changes detected" in res.stdout


# --- create-agent ------------------------------------------------------------------------


def test_create_agent_prints_a_token_that_works_against_the_app(var_dir: Path) -> None:
    env = cli_env(var_dir)
    res = deskql(
        env,
        "create-agent",
        "--email",
        "Nina.Newman@Zylker.com",
        "--first-name",
        "Nina",
        "--last-name",
        "Newman",
        "--role",
        "administrator",
        "--department",
        "Support",
        "--department",
        "Field Ops",
        "--password",
        "a good password",
        "--token",
    )
    assert res.returncode == 0, res.stderr
    assert "created department Support" in res.stdout
    assert "created department Field Ops" in res.stdout
    match = re.search(r"^token: (dq_\S+)$", res.stdout, re.MULTILINE)
    assert match, res.stdout
    token = match.group(1)

    assert rows(var_dir, "SELECT email, first_name, last_name, role FROM agent") == [
        ("nina.newman@zylker.com", "Nina", "Newman", "ADMINISTRATOR")
    ]
    assert rows(
        var_dir,
        "SELECT d.name FROM department d JOIN department_membership m ON m.department_id = d.id "
        "ORDER BY d.name",
    ) == [("Field Ops",), ("Support",)]
    assert rows(var_dir, "SELECT kind FROM api_token") == [("API",)]
    assert {r[0] for r in rows(var_dir, "SELECT kind FROM activity")} == {
        "department.created",
        "agent.created",
    }

    # A second agent joins the existing department instead of creating another.
    again = deskql(
        env,
        "create-agent",
        "--email",
        "omar@zylker.com",
        "--last-name",
        "Omar",
        "--department",
        "Support",
    )
    assert again.returncode == 0, again.stderr
    assert "created department" not in again.stdout
    assert "no password set" in again.stdout
    assert "token:" not in again.stdout
    assert count(var_dir, "department") == 2

    query = "{ me { email role departments { name } } }"
    with running_server(env) as (base, _):
        ok = httpx.post(
            f"{base}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert ok.status_code == 200
        me = ok.json()["data"]["me"]
        assert me["email"] == "nina.newman@zylker.com"
        assert me["role"] == "ADMINISTRATOR"
        assert sorted(d["name"] for d in me["departments"]) == ["Field Ops", "Support"]

        bad = httpx.post(
            f"{base}/graphql",
            json={"query": query},
            headers={"Authorization": f"Bearer {token}x"},
        ).json()
        assert bad["data"] is None
        assert bad["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"

        login = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($i: LoginInput!) { login(input: $i) { errors { code } token } }",
                "variables": {
                    "i": {"email": "nina.newman@zylker.com", "password": "a good password"}
                },
            },
        ).json()["data"]["login"]
        assert login["errors"] == [] and login["token"].startswith("dq_")


@pytest.mark.parametrize(
    ("args", "field", "code"),
    [
        (["--email", "not-an-email", "--last-name", "X"], "email", "INVALID_EMAIL"),
        (["--email", "x@zylker.com", "--last-name", "  "], "lastName", "REQUIRED"),
        (
            ["--email", "x@zylker.com", "--last-name", "X", "--password", "short"],
            "password",
            "INVALID",
        ),
        (["--email", "taken@zylker.com", "--last-name", "X"], "email", "DUPLICATE"),
    ],
)
def test_create_agent_refused_writes_nothing(
    var_dir: Path, args: list[str], field: str, code: str
) -> None:
    env = cli_env(var_dir)
    first = deskql(env, "create-agent", "--email", "taken@zylker.com", "--last-name", "Taken")
    assert first.returncode == 0, first.stderr
    before = {t: count(var_dir, t) for t in ("agent", "department", "activity", "api_token")}

    res = deskql(env, "create-agent", *args, "--department", "Brand New Dept", "--token")
    assert res.returncode == 1
    assert f"{field}: " in res.stderr and f"({code})" in res.stderr
    assert "Traceback" not in res.stderr
    assert "token:" not in res.stdout
    # The department named with the refused agent was rolled back with it.
    assert {t: count(var_dir, t) for t in before} == before
    assert rows(var_dir, "SELECT name FROM department WHERE name = 'Brand New Dept'") == []


def test_create_agent_rejects_an_unknown_role(var_dir: Path) -> None:
    res = deskql(
        cli_env(var_dir),
        "create-agent",
        "--email",
        "x@zylker.com",
        "--last-name",
        "X",
        "--role",
        "owner",
    )
    assert res.returncode == 2
    assert "invalid choice: 'owner'" in res.stderr
    assert not (var_dir / "deskql.sqlite3").exists()


# --- demo --------------------------------------------------------------------------------

DEMO_COUNTS = {
    "department": 3,
    "agent": 7,
    "team": 3,
    "product": 5,
    "account": 8,
    "contact": 25,
    "ticket": 60,
}


def _summary(stdout: str) -> dict[str, int]:
    line = next(x for x in stdout.splitlines() if x.startswith("Loaded the demo data: "))
    parts = line.removeprefix("Loaded the demo data: ").split(", ")
    return {name: int(n) for n, name in (p.split(" ", 1) for p in parts)}


def test_demo_loads_a_realistic_data_set_once(var_dir: Path) -> None:
    env = cli_env(var_dir)
    res = deskql(env, "demo")
    assert res.returncode == 0, res.stderr
    assert "admin@zylker.com" in res.stdout and "deskql-demo" in res.stdout
    assert {t: count(var_dir, t) for t in DEMO_COUNTS} == DEMO_COUNTS
    summary = _summary(res.stdout)
    assert summary["departments"] == 3 and summary["agents"] == 7 and summary["tickets"] == 60
    assert summary["contacts"] == 25 and summary["comments"] == count(var_dir, "comment")
    assert summary["tags"] == count(var_dir, "tag")

    assert {r[0] for r in rows(var_dir, "SELECT name FROM department")} == {
        "Support",
        "Sales",
        "Billing",
    }
    assert rows(var_dir, "SELECT role FROM agent WHERE email = 'admin@zylker.com'") == [
        ("ADMINISTRATOR",)
    ]
    # Every agent has a profile and a password; every agent belongs to a department.
    assert rows(
        var_dir,
        "SELECT COUNT(*) FROM agent WHERE about = '' OR hobbies = '' OR password_hash IS NULL",
    ) == [(0,)]
    assert rows(
        var_dir,
        "SELECT COUNT(*) FROM agent a WHERE NOT EXISTS "
        "(SELECT 1 FROM department_membership m WHERE m.agent_id = a.id)",
    ) == [(0,)]
    assert count(var_dir, "team_membership") >= 4

    statuses = dict(rows(var_dir, "SELECT status, COUNT(*) FROM ticket GROUP BY status"))
    assert set(statuses) == {"OPEN", "ON_HOLD", "ESCALATED", "CLOSED"}
    assert len(rows(var_dir, "SELECT DISTINCT priority FROM ticket")) == 4
    assert len(rows(var_dir, "SELECT DISTINCT channel FROM ticket")) == 5
    assert len(rows(var_dir, "SELECT DISTINCT department_id FROM ticket")) == 3
    assert rows(var_dir, "SELECT COUNT(*) FROM ticket WHERE assignee_agent_id IS NOT NULL")[0][0]
    assert rows(var_dir, "SELECT COUNT(*) FROM ticket WHERE assignee_team_id IS NOT NULL")[0][0]
    assert rows(
        var_dir,
        "SELECT COUNT(*) FROM ticket WHERE assignee_agent_id IS NULL AND assignee_team_id IS NULL",
    )[0][0]
    assert rows(var_dir, "SELECT COUNT(*) FROM ticket WHERE product_id IS NOT NULL")[0][0]
    closed_without_time = (
        "SELECT COUNT(*) FROM ticket WHERE status = 'CLOSED' AND closed_at IS NULL"
    )
    assert rows(var_dir, closed_without_time) == [(0,)]

    now = datetime.now(UTC)
    due = rows(var_dir, "SELECT due_at, status FROM ticket WHERE due_at IS NOT NULL")
    overdue = [d for d, s in due if s != "CLOSED" and datetime.fromisoformat(d) < now]
    upcoming = [d for d, s in due if datetime.fromisoformat(d) > now]
    assert overdue and upcoming

    # Some ticket carries both tags and comments.
    tagged_and_commented = rows(
        var_dir,
        "SELECT t.id, COUNT(DISTINCT tt.id), COUNT(DISTINCT c.id) FROM ticket t "
        "JOIN ticket_tag tt ON tt.ticket_id = t.id JOIN comment c ON c.ticket_id = t.id "
        "GROUP BY t.id",
    )
    assert tagged_and_commented
    assert all(n_tags <= 10 for _, n_tags, _ in tagged_and_commented)
    # Contacts from a first ticket (CUS-1) and contacts of accounts.
    assert rows(
        var_dir, "SELECT COUNT(*) FROM contact WHERE email = 'harper.lee@mockingbird.example'"
    )
    assert rows(var_dir, "SELECT COUNT(*) FROM contact WHERE account_id IS NOT NULL")[0][0] >= 15
    assert count(var_dir, "account_product") >= 8

    # It went through the services: one Activity row per ticket created, and the lifecycle.
    kinds = dict(rows(var_dir, "SELECT kind, COUNT(*) FROM activity GROUP BY kind"))
    assert kinds["ticket.created"] == 60
    assert kinds["agent.created"] == 7
    assert kinds["ticket.comment_added"] == count(var_dir, "comment")
    assert kinds["ticket.tag_added"] == count(var_dir, "ticket_tag")
    assert kinds["ticket.updated"] == statuses["CLOSED"] + statuses["ESCALATED"]
    # Customers rated most closed tickets, through the help center's service (TIC-5).
    assert 0 < summary["ratings"] == count(var_dir, "ticket_rating") <= statuses["CLOSED"]
    assert kinds["ticket.rated"] == summary["ratings"]
    assert rows(
        var_dir,
        "SELECT COUNT(*) FROM ticket_rating r JOIN ticket t ON t.id = r.ticket_id "
        "WHERE t.status <> 'CLOSED' OR r.contact_id IS NOT t.contact_id",
    ) == [(0,)]

    # A second run refuses: the database has agents.
    again = deskql(env, "demo")
    assert again.returncode == 1
    assert "already has 7 agent(s)" in again.stderr and "--force" in again.stderr
    assert {t: count(var_dir, t) for t in DEMO_COUNTS} == DEMO_COUNTS

    # --force adds tickets and reuses the people and catalogue.
    forced = deskql(env, "demo", "--force")
    assert forced.returncode == 0, forced.stderr
    assert _summary(forced.stdout)["agents"] == 0
    assert _summary(forced.stdout)["contacts"] == 0
    assert count(var_dir, "ticket") == 120
    assert count(var_dir, "agent") == 7
    assert count(var_dir, "contact") == 25


def test_demo_is_deterministic(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    for var in (one, two):
        assert deskql(cli_env(var), "demo").returncode == 0
    sql = (
        "SELECT number, subject, status, priority, channel, department_id, contact_id, "
        "assignee_agent_id, assignee_team_id FROM ticket ORDER BY number"
    )
    assert rows(one, sql) == rows(two, sql)
    tags = "SELECT ticket_id, tag_id FROM ticket_tag ORDER BY ticket_id, tag_id"
    assert rows(one, tags) == rows(two, tags)


# --- export-schema -----------------------------------------------------------------------


def test_export_schema_writes_the_sdl(tmp_path: Path) -> None:
    target = tmp_path / "out.graphql"
    res = deskql(cli_env(tmp_path / "var"), "export-schema", str(target))
    assert res.returncode == 0, res.stderr
    assert target.read_text() == schema_sdl()
    assert str(target) in res.stdout

    printed = deskql(cli_env(tmp_path / "var"), "export-schema", "-")
    assert printed.returncode == 0
    assert printed.stdout == schema_sdl()


# --- PostgreSQL: the scale-out start-up path ---------------------------------------------


def pg_side_url(suffix: str) -> str:
    """A database beside the test database: <name>_<suffix>, recreated empty."""
    base, _, name = PG_URL.rpartition("/")
    name = name.split("?", 1)[0]
    url = f"{base}/{name}_{suffix}"
    asyncio.run(db.recreate_postgres_database(url))
    return url


@pytest.mark.skipif(not PG_URL.startswith("postgres"), reason="needs DESKQL_DATABASE_URL")
def test_postgres_needs_migrate_before_serve(var_dir: Path) -> None:
    env = cli_env(var_dir, DESKQL_DATABASE_URL=pg_side_url("cli"))
    # No automatic migration on PostgreSQL: several processes must not race to migrate.
    refused = deskql(env, "serve", "--port", str(free_port()))
    assert refused.returncode == 2
    assert "deskql migrate" in refused.stderr
    assert "Traceback" not in refused.stderr

    assert "applied models.0001_initial" in deskql(env, "migrate").stdout
    assert "up to date" in deskql(env, "migrate").stdout
    made = deskql(env, "create-agent", "--email", "pg@zylker.com", "--last-name", "Pg", "--token")
    assert made.returncode == 0, made.stderr
    token = re.search(r"^token: (\S+)$", made.stdout, re.MULTILINE).group(1)  # type: ignore[union-attr]
    with running_server(env) as (base, _):
        res = httpx.post(
            f"{base}/graphql",
            json={"query": "{ me { email } }"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert res.json() == {"data": {"me": {"email": "pg@zylker.com"}}}


# --- the README stays in step with the settings ------------------------------------------


def test_readme_documents_every_setting() -> None:
    from deskql.settings import Settings

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(DESKQL_[A-Z_]+)` \|", readme, re.MULTILINE))
    expected = {"DESKQL_" + name.upper() for name in Settings.__dataclass_fields__}
    assert documented == expected, (
        f"README.md's configuration table lacks {sorted(expected - documented)} "
        f"and has unknown {sorted(documented - expected)}"
    )
