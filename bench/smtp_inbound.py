"""Inbound mail benchmark: DeskQL's SMTP intake all the way to stored tickets, beside a bare
aiosmtpd sink that accepts and discards, in one run.

    .venv/bin/python bench/smtp_inbound.py [--database-url postgres://.../NAME]
                                           [--messages 1000] [--large 100] [--connections 8]

Both servers listen on 127.0.0.1 in this process's event loop (uvloop), as in `deskql serve`.
The load comes from smtplib clients in a separate process (`--client`): `--connections`
persistent connections sending `--messages` messages of ~3 KB and `--large` messages with a
100 KB attachment, each with its own Message-ID, from 200 distinct senders. For each server
the rate is messages / (last message done - first DATA): for the sink "done" is its 250, for
DeskQL the moment the ticket's transaction committed and its activity was published (the
unit of work's publisher). Latency is from the end of DATA (handle_DATA) to that publish.
Then every message is accounted for: inbound rows PROCESSED, tickets, threads, attachments.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import smtplib
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

HOST = "127.0.0.1"
SUPPORT = "support@zylker.deskql.local"


# --- the client process -----------------------------------------------------------------------


def _message(i: int, large: bool) -> bytes:
    sender = f"customer{i % 200}@example.com"
    words = (f"Message {i}: the printer in room {i % 97} jams on every second page. " * 40)[:2900]
    text = "\r\n".join(words[k : k + 72] for k in range(0, len(words), 72))
    head = (
        f"From: Customer {i % 200} <{sender}>\r\nTo: {SUPPORT}\r\n"
        f"Subject: Bench message {i}\r\nMessage-ID: <bench-{i}-{os.getpid()}@example.com>\r\n"
        "MIME-Version: 1.0\r\n"
    )
    if not large:
        return (head + "Content-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n").encode()
    blob = base64.encodebytes(os.urandom(100 * 1024)).decode().replace("\n", "\r\n")
    return (
        head + 'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + text + "\r\n"
        "--b\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; "
        f'filename="log-{i}.bin"\r\nContent-Transfer-Encoding: base64\r\n\r\n' + blob + "--b--\r\n"
    ).encode()


def client(port: int, messages: int, large: int, connections: int) -> None:
    """Send the load over `connections` persistent smtplib connections; print a JSON summary."""
    batch = [_message(i, False) for i in range(messages)]
    batch += [_message(messages + i, True) for i in range(large)]
    # Interleave the large ones so every connection carries some.
    step = max(1, len(batch) // max(1, large)) if large else 1
    order = sorted(range(len(batch)), key=lambda k: (k % step, k))
    shares = [[batch[k] for k in order[c::connections]] for c in range(connections)]
    codes: list[int] = []
    lock = threading.Lock()

    def run(share: list[bytes]) -> None:
        with smtplib.SMTP(HOST, port, timeout=120) as smtp:
            smtp.ehlo("bench.example")
            for raw in share:
                smtp.mail("bench@example.com")
                smtp.rcpt(SUPPORT)
                code, _ = smtp.data(raw)
                with lock:
                    codes.append(code)

    start = time.perf_counter()
    threads = [threading.Thread(target=run, args=(s,)) for s in shares]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    print(
        json.dumps(
            {
                "sent": len(codes),
                "accepted": codes.count(250),
                "bytes": sum(len(m) for m in batch),
                "elapsed": elapsed,
            }
        )
    )


async def run_client(port: int, args: argparse.Namespace) -> dict[str, Any]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        __file__,
        "--client",
        str(port),
        "--messages",
        str(args.messages),
        "--large",
        str(args.large),
        "--connections",
        str(args.connections),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    return json.loads(out.decode().strip().splitlines()[-1])


# --- the servers ------------------------------------------------------------------------------


class Sink:
    """A bare aiosmtpd handler: accepts any recipient, discards the data."""

    def __init__(self) -> None:
        self.first: float | None = None
        self.last = 0.0
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        now = time.monotonic()
        self.first = self.first if self.first is not None else now
        self.last = now
        self.count += 1
        return "250 OK"


async def bench_sink(args: argparse.Namespace) -> dict[str, Any]:
    from aiosmtpd.smtp import SMTP

    sink = Sink()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(sink, hostname="bench.local", data_size_limit=25 * 1024 * 1024), HOST, 0
    )
    port = server.sockets[0].getsockname()[1]
    result = await run_client(port, args)
    server.close()
    await server.wait_closed()
    seconds = sink.last - (sink.first or sink.last)
    return {**result, "received": sink.count, "seconds": seconds, "rate": sink.count / seconds}


async def bench_deskql(args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    from deskql import db, models
    from deskql.channels.email.server import SMTPService
    from deskql.models.enums import InboundStatus
    from deskql.services import auth, organisation, uow
    from deskql.settings import Settings

    settings = Settings.from_env(
        {}, var_dir=var_dir, database_url=args.database_url or "", smtp_port=0, smtp_host=HOST
    )
    if settings.database_url:
        await db.recreate_postgres_database(settings.database_url)
    auth.configure_hasher(1, 8192)
    await db.init_db(settings, migrate=True)
    await organisation.ensure_organisation(settings)
    await organisation.create_department(None, name="Support")

    published: dict[int, float] = {}  # ticket id -> first activity publish

    async def publisher(events: list[tuple[str, dict[str, Any]]]) -> None:
        now = time.monotonic()
        for _, message in events:
            ticket = message.get("ticket")
            if message.get("type") == "activity" and ticket is not None:
                published.setdefault(ticket, now)

    latencies: list[float] = []
    done: list[float] = []
    service = SMTPService(settings)

    async def observe(event: dict[str, Any]) -> None:
        received = service.processor.received_at.pop(event["inboundMessageId"], None)
        at = published.get(event["ticketId"], time.monotonic())
        done.append(at)
        if received is not None:
            latencies.append(at - received)

    service.processor.on_processed = observe
    uow.set_publisher(publisher)
    await service.start()
    firsts: list[float] = []
    original_submit = service.processor.submit

    def submit(inbound_id: int, received_at: float | None = None, row: Any = None) -> None:
        if received_at is not None:
            firsts.append(received_at)
        original_submit(inbound_id, received_at, row)

    service.processor.submit = submit  # type: ignore[method-assign]
    result = await run_client(service.port, args)
    await service.processor.drain()
    await service.stop()
    uow.clear_publisher(publisher)
    seconds = max(done) - min(firsts)
    total = args.messages + args.large
    accounted = {
        "inbound": await models.InboundMessage.all().count(),
        "processed": await models.InboundMessage.filter(status=InboundStatus.PROCESSED).count(),
        "tickets": await models.Ticket.all().count(),
        "threads": await models.Thread.all().count(),
        "attachments": await models.Attachment.all().count(),
        "contacts": await models.Contact.all().count(),
    }
    await db.close_db()
    latencies.sort()
    return {
        **result,
        "seconds": seconds,
        "rate": len(done) / seconds,
        "p50": _pct(latencies, 0.50),
        "p99": _pct(latencies, 0.99),
        "accounted": accounted,
        "complete": accounted["processed"] == total
        and accounted["tickets"] == total
        and accounted["threads"] == total
        and accounted["attachments"] == args.large,
        "db": "postgresql" if settings.database_url else "sqlite",
    }


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(q * len(values)))]


async def main(args: argparse.Namespace) -> None:
    var_dir = Path(tempfile.mkdtemp(prefix="deskql-bench-smtp-"))
    try:
        sink = await bench_sink(args)
        desk = await bench_deskql(args, var_dir)
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)
    total = args.messages + args.large
    print(
        f"inbound SMTP: {args.messages} x ~3 KB + {args.large} x 100 KB attachment, "
        f"{args.connections} smtplib connections, DeskQL on {desk['db']}"
    )
    print(
        f"  bare aiosmtpd sink : {sink['rate']:8.1f} msg/s  ({sink['received']}/{total} "
        f"accepted in {sink['seconds']:.2f} s)"
    )
    print(
        f"  DeskQL to tickets  : {desk['rate']:8.1f} msg/s  ({desk['accepted']}/{total} "
        f"accepted, stored as tickets in {desk['seconds']:.2f} s; the client had every "
        f"250 after {desk['elapsed']:.2f} s)"
    )
    print(f"  ratio DeskQL / sink: {desk['rate'] / sink['rate']:.3f}  (aim: at least 0.12)")
    print(
        f"  DATA -> activity published: p50 {desk['p50'] * 1000:.1f} ms, "
        f"p99 {desk['p99'] * 1000:.1f} ms"
    )
    acc = desk["accounted"]
    print(
        f"  accounted for: {acc['processed']}/{total} inbound PROCESSED, {acc['tickets']} "
        f"tickets, {acc['threads']} threads, {acc['attachments']} attachments, "
        f"{acc['contacts']} contacts -> {'complete' if desk['complete'] else 'INCOMPLETE'}"
    )
    if not desk["complete"] or sink["received"] != total:
        sys.exit(1)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    parser.add_argument("--messages", type=int, default=1000, help="messages of ~3 KB")
    parser.add_argument("--large", type=int, default=100, help="messages with 100 KB attached")
    parser.add_argument("--connections", type=int, default=8, help="client connections")
    parser.add_argument("--client", type=int, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


if __name__ == "__main__":
    ARGS = parse_args()
    if ARGS.client is not None:
        client(ARGS.client, ARGS.messages, ARGS.large, ARGS.connections)
    else:
        import uvloop

        uvloop.run(main(ARGS))
