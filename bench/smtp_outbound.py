"""Outbound mail benchmark: 1,000 replies queued through `ticketReply`'s service and delivered
by the outbox worker to a local aiosmtpd sink, beside the same messages sent straight to the
sink with aiosmtplib, in one run.

    .venv/bin/python bench/smtp_outbound.py [--replies 1000] [--database-url postgres://.../DB]

DeskQL end to end: from the first reply's call to the sink's 250 for the last one: validation,
MIME building, the thread + outbox + activity transaction per reply, the worker's claims,
SMTP over CONNECTIONS persistent sessions and the SENT commits. The baseline sends the very
bytes DeskQL queued over the same number of persistent aiosmtplib sessions, nothing else.
Both use the same sink in this process's event loop. Then every reply is accounted for:
each Message-ID arrived exactly once and every outbox row is SENT.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import aiosmtplib  # noqa: E402
from aiosmtpd.smtp import SMTP  # noqa: E402


class Sink:
    """Counts the Message-IDs it accepts."""

    def __init__(self) -> None:
        self.seen: collections.Counter[str] = collections.Counter()
        self.last_at = 0.0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        raw: bytes = envelope.original_content
        for line in raw.split(b"\r\n", 40):
            if line.lower().startswith(b"message-id:"):
                self.seen[line.split(b":", 1)[1].strip().decode()] += 1
                break
        self.last_at = time.perf_counter()
        return "250 OK"


async def start_sink(sink: Sink) -> tuple[asyncio.AbstractServer, int]:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: SMTP(sink, hostname="sink.bench"), "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


async def baseline(port: int, raws: list[tuple[str, list[str], bytes]], sessions: int) -> float:
    """Seconds to send every message over `sessions` persistent aiosmtplib connections."""

    async def run(share: list[tuple[str, list[str], bytes]]) -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False)
        await client.connect()
        for mail_from, rcpts, raw in share:
            await client.sendmail(mail_from, rcpts, raw)
        await client.quit()

    start = time.perf_counter()
    await asyncio.gather(*(run(raws[i::sessions]) for i in range(sessions)))
    return time.perf_counter() - start


async def main(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from deskql import db, models
    from deskql.models.outbound import OutboxStatus
    from deskql.services import auth, organisation, outbox, replies
    from deskql.settings import Settings

    var = Path(tempfile.mkdtemp(prefix="deskql-bench-out-"))
    settings = Settings.from_env(var_dir=var, database_url=args.database_url or "")
    sink = Sink()
    server, port = await start_sink(sink)
    settings = replace(settings, relay_host="127.0.0.1", relay_port=port, relay_security="PLAIN")
    if not settings.is_embedded_db:
        sys.path.insert(0, str(BENCH.parent / "tests"))

        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        agent = await organisation.create_agent(
            None,
            email="brad@zylker.com",
            first_name="Brad",
            last_name="Bench",
            department_ids=[dept.id],
            password="correct horse",
        )
        actor = await auth.load_actor(agent.id)
        tickets = []
        for i in range(20):
            contact = await models.Contact.create(
                email=f"customer{i}@example.com", first_name="Customer", last_name=str(i)
            )
            ticket = await models.Ticket.create(
                number=i + 1, subject=f"Printer {i}", department_id=dept.id, contact_id=contact.id
            )
            await models.Thread.create(
                ticket_id=ticket.id,
                direction="INCOMING",
                from_address=contact.email,
                subject=ticket.subject,
                body_text="It jams.",
                message_id=f"<orig-{i}@example.com>",
            )
            tickets.append(ticket)
        body = "Thanks for writing. " * 60

        start = time.perf_counter()
        for i in range(args.replies):
            await replies.send_reply(
                actor, settings=settings, ticket_id=tickets[i % 20].id, body_text=f"{i} {body}"
            )
        queued_at = time.perf_counter()
        while await outbox.run_once(settings, limit=200):
            pass
        deskql_s = sink.last_at - start
        queue_s = queued_at - start

        rows = await models.OutboxMessage.all().order_by("id")
        raws = [
            (
                r.mail_from,
                [a.strip() for a in f"{r.to_addresses},{r.cc_addresses}".split(",") if a.strip()],
                bytes(r.raw_bytes),
            )
            for r in rows
        ]
        sent = sum(r.status is OutboxStatus.SENT for r in rows)
        ids = {r.message_id for r in rows}
        once = all(sink.seen[m] == 1 for m in ids) and set(sink.seen) == ids
        base_s = await baseline(port, raws, outbox.CONNECTIONS)
        twice = all(sink.seen[m] == 2 for m in ids)

        n = args.replies
        print(f"database: {'SQLite' if settings.is_embedded_db else 'PostgreSQL'}")
        print(
            f"DeskQL  {n} replies end to end: {deskql_s:.2f} s = {n / deskql_s:.0f} replies/s "
            f"(queueing {queue_s:.2f} s = {n / queue_s:.0f}/s, delivery {deskql_s - queue_s:.2f} s)"
        )
        print(f"aiosmtplib straight to the sink: {base_s:.2f} s = {n / base_s:.0f} messages/s")
        print(f"ratio DeskQL / aiosmtplib (rate): {(n / deskql_s) / (n / base_s):.2f}")
        print(
            f"every reply arrived exactly once: {once} ({len(ids)} Message-IDs, {sent} SENT); "
            f"baseline copies all arrived too: {twice}"
        )
        return 0 if once and sent == n and twice else 1
    finally:
        server.close()
        await db.close_db()
        shutil.rmtree(var, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--database-url", default="")
    sys.exit(asyncio.run(main(parser.parse_args())))
