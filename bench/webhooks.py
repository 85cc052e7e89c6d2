"""Webhook delivery: N ticket changes to a local receiver, with and without a receiver outage.

    .venv/bin/python bench/webhooks.py                      # 1,000 changes, 30 s outage
    .venv/bin/python bench/webhooks.py --changes 200 --outage 5     # quick
    .venv/bin/python bench/webhooks.py \
        --database-url postgres://postgres@127.0.0.1:5432/deskql_bench_webhooks --reset

One process plays `deskql serve` (the services making the changes, and the delivery worker);
the receiver is another process (a minimal asyncio HTTP/1.1 server appending what it gets to
a JSON-lines file). Printed, side by side in one run:

- (0) vs (Q): N ticket changes in interleaved rounds, without any webhook code on the change
  path (events.enqueue a no-op) and with a webhook subscribed (no worker running): what
  queueing a delivery in the change's transaction costs the change;
- (C) the N deliveries (Q) queued, drained by one worker, vs (R) N bodies POSTed straight to
  the receiver by one httpx client with as many in flight as the worker: the floor of HTTP;
- (A) N more changes as fast as they go, with the worker running: commit-to-delivery latency
  (p50, p99), each received once; (P) the same at a steady `--pace` (50 changes/s);
- (B) N changes while the receiver is down for `--outage` seconds: every event received
  exactly once, and how long after the receiver came back the last one arrived.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.common import free_port  # noqa: E402

# --- the receiver (a separate process) -------------------------------------------------------


async def _receive(port: int, out: Path) -> None:
    log = out.open("a", buffering=1)

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while await reader.readline():
                length = 0
                while (h := await reader.readline()) not in (b"\r\n", b""):
                    k, _, v = h.decode().partition(":")
                    if k.strip().lower() == "content-length":
                        length = int(v)
                body = await reader.readexactly(length)
                at = time.time()
                data = json.loads(body)
                ticket = data.get("data", {}).get("ticket", {})
                log.write(
                    json.dumps(
                        {
                            "id": data.get("id"),
                            "at": at,
                            "key": [ticket.get("number"), ticket.get("updatedAt")],
                        }
                    )
                    + "\n"
                )
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", port, reuse_address=True)
    async with server:
        await server.serve_forever()


def start_receiver(port: int, out: Path) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, __file__, "--receiver", str(port), "--out", str(out)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.time() + 10
    import socket

    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    raise RuntimeError("the receiver did not start")


def read_log(out: Path, skip: int = 0) -> list[dict]:
    """What the receiver got, after the first `skip` lines (the file is only appended to)."""
    if not out.exists():
        return []
    lines = [line for line in out.read_text().splitlines() if line.strip()]
    return [json.loads(line) for line in lines[skip:]]


# --- the server side ------------------------------------------------------------------------


async def main(args: argparse.Namespace) -> None:
    from deskql import db, models
    from deskql.models.enums import Role, TicketPriority
    from deskql.services import auth, organisation, tickets
    from deskql.services.auth import Actor
    from deskql.services.webhooks import delivery, events, manage
    from deskql.settings import Settings

    var = Path(tempfile.mkdtemp(prefix="deskql-bench-webhooks-"))
    settings = Settings.from_env(
        var_dir=var,
        database_url=args.database_url or "",
        password_time_cost=1,
        password_memory_kib=8192,
        webhook_allow_private=True,
        webhook_backoff_ms=args.backoff_ms,
        webhook_interval_ms=1000,
    )
    if args.database_url and args.reset:
        await db.recreate_postgres_database(settings.db_url)
    auth.configure_hasher(1, 8192)
    await db.init_db(settings, migrate=True)
    await organisation.ensure_organisation(settings)
    dept = await organisation.create_department(None, name=f"Bench {time.time_ns()}")
    admin_row = await organisation.create_agent(
        None, email=f"bench{time.time_ns()}@x.com", last_name="Bench", role=Role.ADMINISTRATOR
    )
    admin = Actor(agent_id=admin_row.id, role=admin_row.role, department_ids=frozenset())
    contact = await models.Contact.create(email=f"c{time.time_ns()}@x.com", last_name="C")
    rows = [
        await tickets.create_ticket(
            admin, subject=f"Bench {i}", department_id=dept.id, contact_id=contact.id
        )
        for i in range(args.tickets)
    ]
    versions = {t.id: t.version for t in rows}
    commits: dict[tuple[int, str], float] = {}
    numbers = {t.id: t.number for t in rows}
    flip: dict[int, int] = {}

    async def changes(n: int, pace: float = 0.0) -> float:
        """n ticket changes from `--concurrency` tasks (at most `pace` a second when set);
        returns their wall time."""
        queue = list(range(n))
        begun = time.perf_counter()
        prio = [TicketPriority.HIGH, TicketPriority.LOW]

        async def one_task(k: int) -> None:
            mine = [t.id for i, t in enumerate(rows) if i % args.concurrency == k]
            j = 0
            while queue:
                i = queue.pop()
                if pace:
                    # change number n-1-i is due at begun + (n-1-i)/pace
                    await asyncio.sleep(max(0.0, begun + (n - 1 - i) / pace - time.perf_counter()))
                pk = mine[j % len(mine)]
                j += 1
                # Flip each ticket's priority: every update is a change (an Activity row).
                flip[pk] = 1 - flip.get(pk, 0)
                t = await tickets.update_ticket(
                    admin, ticket_id=pk, version=versions[pk], changes={"priority": prio[flip[pk]]}
                )
                versions[pk] = t.version
                commits[(numbers[pk], t.updated_at.isoformat())] = time.time()

        started = time.perf_counter()
        await asyncio.gather(*(one_task(k) for k in range(args.concurrency)))
        return time.perf_counter() - started

    port = free_port()
    out = var / "received.jsonl"
    receiver = start_receiver(port, out)
    worker = None
    try:
        # (R) the same number of bodies POSTed straight to the receiver
        import httpx

        bodies = [
            json.dumps({"id": f"ref-{i}", "type": "ticket.updated", "data": {"ticket": {}}})
            for i in range(args.changes)
        ]
        async with httpx.AsyncClient(trust_env=False) as client:
            gate = asyncio.Semaphore(settings.webhook_concurrency)

            async def post(b: str) -> None:
                async with gate:
                    r = await client.post(f"http://127.0.0.1:{port}/hook", content=b)
                    assert r.status_code == 200

            started = time.perf_counter()
            await asyncio.gather(*(post(b) for b in bodies))
            ref_s = time.perf_counter() - started
        skip = len(read_log(out))

        hook = await manage.create_webhook(
            admin,
            settings=settings,
            url=f"http://127.0.0.1:{port}/hook",
            events_=["ticket.updated"],
            secret="bench-secret-0123456789",
        )
        print(
            f"changes: {args.changes} ticket updates, {args.concurrency} at a time, "
            f"{'PostgreSQL' if args.database_url else 'SQLite'}"
        )

        # (0) vs (Q), interleaved rounds, no worker: the change path without any webhook code
        # (events.enqueue replaced by a no-op) and with a webhook subscribed (queueing only).
        real_enqueue = events.enqueue

        async def no_enqueue(*_: object, **__: object) -> int:
            return 0

        base_s = queued_s = 0.0
        per = args.changes // args.rounds
        try:
            for _ in range(args.rounds):
                events.enqueue = no_enqueue  # type: ignore[assignment]
                base_s += await changes(per)
                events.enqueue = real_enqueue  # type: ignore[assignment]
                queued_s += await changes(per)
        finally:
            events.enqueue = real_enqueue  # type: ignore[assignment]
        backlog = per * args.rounds
        print(f"(0) changes, no webhook code: {backlog / base_s:8.0f} changes/s")
        print(
            f"(Q) changes, webhook queued : {backlog / queued_s:8.0f} changes/s  "
            f"ratio Q/0 = {base_s / queued_s:.2f} (the cost of queueing in the change)"
        )

        # (C) the backlog those changes queued, drained by one worker
        worker = delivery.DeliveryWorker(settings)
        started = time.time()
        worker.start()
        deadline = started + 120
        while len(read_log(out, skip)) < backlog and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.02)
        got = read_log(out, skip)
        drain = len(got) / (max(r["at"] for r in got) - started)
        c_ids = [r["id"] for r in got]
        print(
            f"(C) backlog drained         : {drain:8.0f} deliveries/s  "
            f"({len(c_ids)} received, {len(set(c_ids))} distinct, expected {backlog})"
        )
        print(
            f"(R) direct POSTs            : {args.changes / ref_s:8.0f} requests/s  "
            f"ratio C/R = {drain / (args.changes / ref_s):.2f} "
            f"({settings.webhook_concurrency} in flight, as the worker)"
        )
        skip += len(got)

        # (A) the worker running while the changes are made: commit-to-delivery latency
        commits.clear()
        first = time.time()
        live_s = await changes(args.changes)
        deadline = time.time() + 120
        while len(read_log(out, skip)) < args.changes and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        got = read_log(out, skip)
        last = max(r["at"] for r in got)
        lat = sorted(
            (r["at"] - commits[tuple(r["key"])]) * 1000 for r in got if tuple(r["key"]) in commits
        )
        a_ids = [r["id"] for r in got]
        print(
            f"(A) live: {len(a_ids)} received, {len(set(a_ids))} distinct; "
            f"{len(got) / (last - first):.0f} deliveries/s (first commit to last receipt) "
            f"while the changes ran at {args.changes / live_s:.0f}/s"
        )
        print(
            f"(A) commit -> delivery (all at once): p50 {statistics.median(lat):.0f} ms, "
            f"p99 {lat[int(len(lat) * 0.99) - 1]:.0f} ms, max {lat[-1]:.0f} ms"
        )
        skip += len(got)

        # (P) the same at a steady pace the worker keeps up with
        commits.clear()
        await changes(args.changes, pace=args.pace)
        deadline = time.time() + 120
        while len(read_log(out, skip)) < args.changes and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.05)
        got = read_log(out, skip)
        lat = sorted(
            (r["at"] - commits[tuple(r["key"])]) * 1000 for r in got if tuple(r["key"]) in commits
        )
        p_ids = [r["id"] for r in got]
        print(
            f"(P) paced at {args.pace:.0f} changes/s : {len(p_ids)} received, "
            f"{len(set(p_ids))} distinct; commit -> delivery p50 {statistics.median(lat):.0f} ms, "
            f"p99 {lat[int(len(lat) * 0.99) - 1]:.0f} ms, max {lat[-1]:.0f} ms"
        )
        skip += len(got)

        # (B) the receiver is down for --outage seconds while the changes are made
        receiver.terminate()
        receiver.wait()
        down = time.time()
        await changes(args.changes)
        await asyncio.sleep(max(0.0, args.outage - (time.time() - down)))
        receiver = start_receiver(port, out)
        up = time.time()
        deadline = up + args.outage * 3 + 120
        while len(read_log(out, skip)) < args.changes and time.time() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # would a duplicate arrive late?
        got = read_log(out, skip)
        ids = [r["id"] for r in got]
        hook_row = await models.Webhook.get(id=hook.id)
        failed = await models.WebhookDelivery.filter(status="FAILED").count()
        print(
            f"(B) outage {up - down:.0f} s: {len(ids)} received, {len(set(ids))} distinct, "
            f"expected {args.changes}; the last {max(r['at'] for r in got) - up:.1f} s after "
            f"the receiver came back; webhook active={hook_row.is_active}; FAILED: {failed}"
        )
    finally:
        if worker is not None:
            await worker.stop()
        receiver.terminate()
        receiver.wait()
        await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--tickets", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--outage", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--pace", type=float, default=50.0, help="changes/s of phase (P)")
    parser.add_argument("--backoff-ms", type=int, default=2000)
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--receiver", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.receiver:
        asyncio.run(_receive(args.receiver, Path(args.out)))
    else:
        os.environ.setdefault("DESKQL_SMTP_ENABLED", "false")
        logging.basicConfig(level=logging.WARNING)
        asyncio.run(main(args))
