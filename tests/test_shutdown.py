"""A terminated `deskql serve` leaves no process behind (issue 17, point 6): the mail parser
process (a spawned ProcessPoolExecutor worker) and multiprocessing's resource tracker used to
stay running under PID 1 after SIGTERM, with "leaked semaphore objects" in the log."""

from __future__ import annotations

import os
import signal
import smtplib
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from deskql.settings import ROOT
from tests.test_cli import cli_env, free_port

SUPPORT = "support@zylker.deskql.local"
MAIL = (
    b"From: Carla <carla@customer.example>\r\nTo: " + SUPPORT.encode() + b"\r\n"
    b"Subject: Shut down cleanly\r\nMessage-ID: <shutdown-1@customer.example>\r\n\r\nHello\r\n"
)


def processes_with(marker: str) -> list[int]:
    """Ids of the running processes whose environment contains `marker` (our var dir)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in environ and state != "Z":
            found.append(int(entry.name))
    return found


def wait_until(check, what: str, log: Path, within: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (OSError, httpx.HTTPError, smtplib.SMTPException, sqlite3.Error):
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in time:\n{log.read_text()}")


def test_sigterm_after_mail_leaves_no_process(tmp_path: Path) -> None:
    var_dir = tmp_path / "var-shutdown"
    var_dir.mkdir(parents=True)
    http_port, smtp_port = free_port(), free_port()
    env = cli_env(var_dir, DESKQL_SMTP_PORT=str(smtp_port))
    log = tmp_path / "serve.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "deskql.cli", "serve", "--demo", "--host", "127.0.0.1"]
            + ["--port", str(http_port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        base = f"http://127.0.0.1:{http_port}"
        wait_until(lambda: httpx.get(f"{base}/health", timeout=2).status_code == 200, "start", log)

        def deliver() -> bool:
            with smtplib.SMTP("127.0.0.1", smtp_port, timeout=30) as client:
                client.sendmail("carla@customer.example", [SUPPORT], MAIL)
            return True

        wait_until(deliver, "SMTP delivery", log)

        def ticket_made() -> bool:
            conn = sqlite3.connect(var_dir / "deskql.sqlite3")
            try:
                return (
                    conn.execute(
                        "SELECT COUNT(*) FROM inbound_message WHERE status = 'PROCESSED'"
                    ).fetchone()[0]
                    == 1
                )
            finally:
                conn.close()

        wait_until(ticket_made, "the ticket from the mail", log)
        # The parser process (and multiprocessing's resource tracker) run beside the server.
        children = [pid for pid in processes_with(str(var_dir)) if pid != proc.pid]
        assert children, "the mail parser process should be running"

        proc.send_signal(signal.SIGTERM)
        # uvicorn shuts down gracefully, then re-raises the signal it caught (exit -15).
        assert proc.wait(timeout=30) in (0, -signal.SIGTERM), log.read_text()
        assert "Application shutdown complete" in log.read_text()
        deadline = time.monotonic() + 10
        while processes_with(str(var_dir)) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert processes_with(str(var_dir)) == [], log.read_text()
        text = log.read_text()
        assert "leaked semaphore" not in text
        assert "Traceback" not in text
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for pid in processes_with(str(var_dir)):  # what this test started, if it failed
            os.kill(pid, signal.SIGKILL)
