"""End to end: mail sent with smtplib to `deskql serve` (SMTP inside the app) becomes a ticket
an administrator reads over GraphQL, then `deskql smtp` alone threads the customer's reply.
Real processes, real sockets, one SQLite file (the processes run one after the other)."""

from __future__ import annotations

import smtplib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from deskql.services.demo import ADMIN_EMAIL, PASSWORD
from deskql.settings import ROOT
from tests.test_cli import cli_env, free_port

SUPPORT = "support@zylker.deskql.local"


@contextmanager
def process(env: dict[str, str], log: Path, *args: str) -> Iterator[subprocess.Popen]:
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "deskql.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(check: object, proc: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            pytest.fail(f"the process exited with {proc.returncode}:\n{log.read_text()}")
        try:
            if check():  # type: ignore[operator]
                return
        except (OSError, httpx.TransportError):
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not come up in time:\n{log.read_text()}")
        time.sleep(0.2)


def smtp_ready(port: int) -> bool:
    with smtplib.SMTP("127.0.0.1", port, timeout=5) as client:
        return client.noop()[0] == 250


def send(port: int, raw: bytes, rcpt: str = SUPPORT) -> tuple[int, int]:
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        client.ehlo("e2e.example")
        client.mail("carla@customer.example")
        code, _ = client.rcpt(rcpt)
        if code != 250:
            return code, 0
        return code, client.data(raw)[0]


def rows(var_dir: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(var_dir / "deskql.sqlite3")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


FIRST = (
    "From: Carla Customer <carla@customer.example>\r\nTo: " + SUPPORT + "\r\n"
    "Subject: =?UTF-8?Q?Rechnung_f=C3=BCr_Oktober?=\r\nMessage-ID: <e2e-1@customer.example>\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nDie Rechnung f\xfcr Oktober fehlt.\r\n"
).encode("latin-1")

QUERY = """
query { tickets(filter: {channel: [EMAIL]}) { nodes { number subject status
  contact { email name } threads { nodes { bodyText originalContent } } } }
  inboundMessages(status: PROCESSED) { totalCount } }
"""


def test_mail_to_ticket_through_serve_then_smtp(tmp_path: Path) -> None:
    var_dir = tmp_path / "var"
    http_port, smtp_port = free_port(), free_port()
    env = cli_env(var_dir, DESKQL_SMTP_PORT=str(smtp_port))
    serve_log = tmp_path / "serve.log"
    var_dir.mkdir(parents=True)
    with process(
        env, serve_log, "serve", "--demo", "--host", "127.0.0.1", "--port", str(http_port)
    ) as proc:
        base = f"http://127.0.0.1:{http_port}"
        wait_for(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, proc,
                 serve_log, "deskql serve")  # fmt: skip
        wait_for(lambda: smtp_ready(smtp_port), proc, serve_log, "the SMTP server")
        assert send(smtp_port, FIRST, rcpt="nobody@zylker.deskql.local") == (550, 0)
        assert send(smtp_port, FIRST) == (250, 250)
        login = httpx.post(
            f"{base}/graphql",
            json={
                "query": "mutation($i: LoginInput!) { login(input: $i) { token } }",
                "variables": {"i": {"email": ADMIN_EMAIL, "password": PASSWORD}},
            },
            timeout=30,
        ).json()
        token = login["data"]["login"]["token"]

        def ticket() -> dict | None:
            body = httpx.post(
                f"{base}/graphql",
                json={"query": QUERY},
                headers={"Authorization": f"Bearer {token}"},
                timeout=30,
            ).json()
            assert "errors" not in body, body
            found = [t for t in body["data"]["tickets"]["nodes"] if "Oktober" in t["subject"]]
            return found[0] if found else None

        wait_for(lambda: ticket() is not None, proc, serve_log, "the ticket")
        got = ticket()
        assert got is not None
        assert got["subject"] == "Rechnung für Oktober"
        assert got["contact"] == {"email": "carla@customer.example", "name": "Carla Customer"}
        assert "Die Rechnung für Oktober fehlt." in got["threads"]["nodes"][0]["bodyText"]
        assert got["threads"]["nodes"][0]["originalContent"] == FIRST.decode(
            "utf-8", errors="replace"
        )
        number = got["number"]

    # The standalone SMTP process, on the same database, threads the reply by its token.
    smtp_log = tmp_path / "smtp.log"
    other_port = free_port()
    with process(env, smtp_log, "smtp", "--port", str(other_port)) as proc:
        wait_for(lambda: smtp_ready(other_port), proc, smtp_log, "deskql smtp")
        reply = (
            "From: carla@customer.example\r\nTo: " + SUPPORT + "\r\n"
            f"Subject: Re: Rechnung [#{number}]\r\nMessage-ID: <e2e-2@customer.example>\r\n"
            "\r\nHier ist sie.\r\n"
        ).encode()
        assert send(other_port, reply) == (250, 250)
        wait_for(
            lambda: (
                rows(var_dir, "SELECT status FROM inbound_message WHERE id = 2") == [("PROCESSED",)]
            ),
            proc,
            smtp_log,
            "processing",
        )
    assert "DeskQL SMTP server: 127.0.0.1:" in smtp_log.read_text()
    threads = rows(
        var_dir,
        "SELECT t.body_text FROM thread t JOIN ticket k ON k.id = t.ticket_id "
        f"WHERE k.number = {number} ORDER BY t.id",
    )
    assert [body for (body,) in threads] == ["Die Rechnung für Oktober fehlt.\n", "Hier ist sie.\n"]
    assert rows(var_dir, "SELECT COUNT(*) FROM inbound_message") == [(2,)]
