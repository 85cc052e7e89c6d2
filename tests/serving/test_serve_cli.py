"""`deskql serve` as a process (issue 11, points 5-7): the start-up banner, request lines in
text and JSON, a port in use in one line with exit code 2, a database that cannot be reached
said as such (not "migrations pending")."""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import httpx
import pytest

from tests.test_cli import cli_env, deskql, free_port, running_server


def log_with(var_dir: Path, text: str, within: float = 10) -> str:
    """The server's log once it contains `text` (a request's line follows its response)."""
    deadline = time.monotonic() + within
    while True:
        log = next(var_dir.glob("serve-*.log")).read_text()
        if text in log or time.monotonic() > deadline:
            return log
        time.sleep(0.05)


@pytest.fixture
def var_dir(tmp_path: Path) -> Path:
    return tmp_path / "var"


def test_banner_and_request_lines(var_dir: Path) -> None:
    env = cli_env(var_dir)
    with running_server(env) as (base, _proc):
        port = base.rsplit(":", 1)[1]
        resp = httpx.post(f"{base}/graphql", json={"query": "query Ping { __typename }"})
        request_id = resp.headers["x-request-id"]
        log = log_with(var_dir, request_id)
    assert f"GraphQL endpoint: http://127.0.0.1:{port}/graphql" in log
    assert f"GraphiQL: http://127.0.0.1:{port}/graphql in a browser" in log
    assert "Inbound SMTP (mail to tickets): 127.0.0.1:" in log
    assert (
        f"Outgoing mail: no relay configured, written to {var_dir.resolve()}/mail/outgoing" in log
    )
    line = next(x for x in log.splitlines() if f"request_id={request_id}" in x)
    assert "INFO" in line and "deskql.request: POST /graphql Ping 200 " in line
    assert "Traceback" not in log


def test_json_logs(var_dir: Path) -> None:
    env = cli_env(var_dir, DESKQL_LOG_FORMAT="json", DESKQL_RELAY_HOST="smtp.example.com")
    with running_server(env) as (base, _proc):
        resp = httpx.post(f"{base}/graphql", json={"query": "query Ping { __typename }"})
        log = log_with(var_dir, resp.headers["x-request-id"])
    records = [json.loads(x) for x in log.splitlines() if x.startswith("{")]
    assert records, log
    mine = [r for r in records if r.get("request_id") == resp.headers["x-request-id"]]
    assert len(mine) == 1
    assert mine[0]["logger"] == "deskql.request" and mine[0]["level"] == "INFO"
    assert (mine[0]["operation"], mine[0]["status"]) == ("Ping", 200)
    banner = [r["message"] for r in records if r["logger"] == "deskql"]
    assert "Outgoing mail: through the relay smtp.example.com:25" in banner


def test_a_port_in_use_is_one_line_and_exit_code_2(var_dir: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        env = cli_env(var_dir, DESKQL_SMTP_PORT=str(free_port()))
        http = deskql(env, "serve", "--port", str(port), timeout=60)
        env = cli_env(var_dir, DESKQL_SMTP_PORT=str(port))
        smtp = deskql(env, "serve", "--port", str(free_port()), timeout=60)
        alone = deskql(env, "smtp", timeout=60)
    assert http.returncode == 2
    assert http.stderr.strip() == (
        f"deskql: port {port} on 127.0.0.1 is already in use "
        "(choose another with --port or DESKQL_PORT)"
    )
    for done in (smtp, alone):
        assert done.returncode == 2
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert f"port {port} on 127.0.0.1 is already in use" in done.stderr
        assert "Traceback" not in done.stderr


def test_a_database_that_cannot_be_reached_says_so(var_dir: Path) -> None:
    env = cli_env(
        var_dir,
        DESKQL_DATABASE_URL=f"postgres://postgres:hunter2@127.0.0.1:{free_port()}/deskql_gone",
        DESKQL_SMTP_PORT=str(free_port()),
    )
    done = deskql(env, "serve", "--port", str(free_port()), timeout=60)
    assert done.returncode == 2
    assert "cannot connect to the database" in done.stderr
    assert "postgres://postgres:***@127.0.0.1" in done.stderr  # no password in messages
    assert "hunter2" not in done.stderr
    assert "pending" not in done.stderr and "Traceback" not in done.stderr


def test_a_bad_allow_list_is_one_line(var_dir: Path) -> None:
    var_dir.mkdir(parents=True)
    allowlist = var_dir / "operations.json"
    allowlist.write_text('{"0000": "query A { me { id } }"}')
    env = cli_env(
        var_dir,
        DESKQL_PERSISTED_QUERIES_ALLOWLIST=str(allowlist),
        DESKQL_SMTP_PORT=str(free_port()),
    )
    done = deskql(env, "serve", "--port", str(free_port()), timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"deskql: bad configuration: {allowlist}: 0000 is not the SHA-256 of its query"
    ]
