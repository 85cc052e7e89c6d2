"""Nested lists, `nodes` and notifications: compiled read path against the lean executor and
the full executor, in one run (issue 18, point 1).

    .venv/bin/python bench/nested_reads.py [--database-url postgres://.../NAME --reset]
                                           [--rounds 5] [--duration 3]

Seeds (bench/ticket_list.py's tickets, contacts, accounts, agents, teams and tags, plus
`--threads` threads and two comments per ticket, and a notification per ticket for the
administrator), starts three uvicorn processes of DeskQL on the same database: (c) as shipped,
(l) with compiled pages off (DESKQL_READPATH_COMPILED=false: the lean executor over model
rows), (f) with the read path off (graphql-core's executor); checks the three give the same
JSON for each query, then drives each with `--concurrency` keep-alive connections in
interleaved rounds, per query:
  lists          20 tickets, each with its threads, comments and activities;
  nodes          `nodes` of 50 tickets and 50 contacts by global id;
  notifications  `me.notifications(first: 50)` with each one's activity and contact.
Prints medians (req/s, p50, p99, server CPU per request) and the last line
`nested_reads: compiled/lean lists <r>, nodes <r>, notifications <r>` (throughput ratios).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import ticket_list  # noqa: E402

LISTS = """
query Lists {
  tickets(first: 20) { nodes {
    number
    threads(first: 10) { totalCount nodes {
      id direction channel isPublic fromAddress to subject bodyText messageId createdAt
    } }
    comments { totalCount nodes { id body isPublic createdAt author { name } } }
    activities { nodes { id kind subjectType createdAt actor { name } } }
  } }
}
"""

NODES = """
query Nodes($ids: [ID!]!) {
  nodes(ids: $ids) {
    id
    ... on Ticket { number subject status priority createdAt contact { name } }
    ... on Contact { name email phone account { name } }
  }
}
"""

NOTIFICATIONS = """
query Notifications {
  me { notifications(first: 50) {
    totalCount
    edges { cursor node {
      id reason createdAt isRead activity { kind createdAt } contact { name }
    } }
  } }
}
"""


async def seed(database_url: str, var_dir: Path, tickets: int, threads: int, reset: bool) -> str:
    """ticket_list's data, then threads, comments and notifications; an admin token."""
    token = await ticket_list.seed(database_url, var_dir, tickets, reset)
    from deskql import db, models
    from deskql.models.enums import NotificationReason, ThreadDirection
    from deskql.schema.ids import to_global_id
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    await db.init_db(settings, migrate=False)
    try:
        admin = await models.Agent.get(email="admin@zylker.com")
        for ticket in await models.Ticket.all().order_by("id"):
            for i in range(threads):
                await models.Thread.create(
                    ticket_id=ticket.id,
                    direction=ThreadDirection.INCOMING if i % 2 == 0 else ThreadDirection.OUTGOING,
                    from_address=f"customer{ticket.id}@example.com",
                    to_addresses="support@zylker.com",
                    subject=f"Re: {ticket.subject}",
                    body_text="Hello, the order still has not arrived. " * 8,
                    body_html="<p>" + "Hello, the order still has not arrived. " * 8 + "</p>",
                    message_id=f"<{ticket.id}.{i}@example.com>",
                )
            for i in range(2):
                await models.Comment.create(
                    ticket_id=ticket.id, author_id=admin.id, body=f"Internal note {i} on it."
                )
            activity = await models.Activity.filter(ticket_id=ticket.id).first()
            if activity is not None:
                await models.Notification.create(
                    agent_id=admin.id,
                    activity_id=activity.id,
                    reason=NotificationReason.FOLLOWING,
                    ticket_id=ticket.id,
                    contact_id=ticket.contact_id,  # type: ignore[attr-defined]
                )
        ids = [
            to_global_id(model.__name__, pk)
            for model in (models.Ticket, models.Contact)
            for pk in await model.all().limit(50).values_list("id", flat=True)
        ]
        (var_dir / "ids.json").write_text(json.dumps(ids))
        return token
    finally:
        await db.close_db()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL instead of SQLite")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--tickets", type=int, default=60, help="tickets to create (default 60)")
    p.add_argument("--threads", type=int, default=5, help="threads per ticket (default 5)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    p.add_argument("--duration", type=float, default=3.0, help="seconds per round (default 3)")
    p.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds (default 1)")
    args = p.parse_args(argv)
    if args.tickets < 20:
        p.error("--tickets must be at least 20 (a page of the lists query)")
    if args.reset and not args.database_url:
        p.error("--reset only applies to --database-url")
    return args


def bodies(tmp: Path) -> dict[str, str]:
    """The request body of each query."""
    ids = json.loads((tmp / "ids.json").read_text())
    return {
        "lists": json.dumps({"query": LISTS}),
        "nodes": json.dumps({"query": NODES, "variables": {"ids": ids}}),
        "notifications": json.dumps({"query": NOTIFICATIONS}),
    }


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-nested-"))
    servers: list[common.Server] = []
    try:
        print(f"seeding {args.tickets} tickets into {args.database_url or 'SQLite in ' + str(tmp)}")
        token = asyncio.run(seed(args.database_url, tmp, args.tickets, args.threads, args.reset))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",
        }
        kinds = {
            "c-compiled": {},
            "l-lean": {"DESKQL_READPATH_COMPILED": "false"},
            "f-full": {"DESKQL_READPATH": "false"},
        }
        for name, extra in kinds.items():
            server = common.Server(name, "deskql.server:create_app", {**env, **extra}, tmp)
            servers.append(server)
            server.start()
        headers = {"Authorization": f"Bearer {token}"}
        queries = bodies(tmp)
        lengths: dict[tuple[str, str], int] = {}
        for query, body in queries.items():
            answers = [ticket_list.post(s, body, headers) for s in servers]
            parsed = json.loads(answers[0])
            if parsed.get("errors") or any(json.loads(a) != parsed for a in answers[1:]):
                raise SystemExit(f"{query}: the servers disagree or fail: {answers[0][:400]!r}")
            for server, answer in zip(servers, answers, strict=True):
                lengths[(query, server.name)] = len(answer)
            print(f"{query}: {len(answers[0]):,} bytes, the same from all three servers")

        def one_round(server: common.Server, query: str, seconds: float) -> dict[str, Any]:
            return common.load(
                server,
                body=queries[query],
                headers=headers,
                concurrency=args.concurrency,
                duration=seconds,
                max_requests=100_000,
                expected_length=lengths[(query, server.name)],
            )

        ratios = {}
        for query in queries:
            for server in servers:
                one_round(server, query, args.warmup)
            rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in servers}
            for _ in range(args.rounds):
                for server in servers:
                    rounds[server.name].append(one_round(server, query, args.duration))
            print(
                f"\n{query}: medians of {args.rounds} rounds x {args.duration:g} s, "
                f"{args.concurrency} connections"
            )
            print(f"{'':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8}")
            med = {}
            for server in servers:
                rs = rounds[server.name]
                med[server.name] = {
                    k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms")
                }
                m = med[server.name]
                print(
                    f"{server.name:14} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
                    f"{m['cpu_ms']:8.2f}"
                )
            c, lean, full = (med[n] for n in kinds)
            ratios[query] = c["rps"] / lean["rps"]
            print(
                f"compiled/lean {c['rps'] / lean['rps']:.2f}x, compiled/full "
                f"{c['rps'] / full['rps']:.2f}x (CPU per request {c['cpu_ms']:.2f} vs "
                f"{lean['cpu_ms']:.2f} vs {full['cpu_ms']:.2f} ms)"
            )
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total time {time.monotonic() - began:.0f} s")
    print(
        "nested_reads: compiled/lean "
        + ", ".join(f"{query} {ratio:.2f}" for query, ratio in ratios.items())
    )


if __name__ == "__main__":
    main()
