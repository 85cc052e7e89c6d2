"""The help center under load, beside the agents' API in the same run (issue 13).

1. Reads: `--contacts` signed-in contacts, each loading their ticket list and one of their
   tickets (with its public conversation) over /help/graphql, against the agents' API
   answering an agent's ticket list and one ticket of the same size over /graphql. Rounds
   interleave (help, agent, help, agent, ...); it prints requests per second, p50/p99 and
   server CPU per request of each, medians over the rounds, and the ratios.
2. Live: `--contacts` contacts subscribed over WebSocket (graphql-transport-ws) to
   `ticketUpdates` of one of their tickets while agents reply publicly to each ticket (over
   /graphql, `--reply-rate` replies per second); then the same with the agents' own
   `ticketUpdates` subscriptions on the same tickets as the reference. Delivery latency is
   from sending the reply to receiving its event; it prints p50/p99 and how many were lost.

    .venv/bin/python bench/helpcenter.py                         # 500 contacts, SQLite
    .venv/bin/python bench/helpcenter.py --contacts 50 --rounds 2 --duration 3   # quick
    .venv/bin/python bench/helpcenter.py --database-url postgres://postgres@127.0.0.1:5432/deskql_bench_help
      (that database is DROPPED and recreated)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

from common import HOST, Server  # noqa: E402

HELP_LIST = """query { tickets(first: 20) { totalCount edges { node {
  id number subject status updatedAt isMine rating { value } } } } }"""
HELP_TICKET = """query($id: ID!) { ticket(id: $id) { id number subject status replyRefusal
  canRate rating { value comment } messages { id body createdAt fromCustomer authorName
  attachments { filename size downloadPath } } } }"""
AGENT_LIST = """query($c: ID!) { node(id: $c) { ... on Contact { tickets { id number subject
  status updatedAt rating { value } } } } }"""
AGENT_TICKET = """query($id: ID!) { node(id: $id) { ... on Ticket { id number subject status
  threads { id bodyText createdAt direction } comments { id body createdAt } } } }"""
HELP_SUB = """subscription($id: ID!) { ticketUpdates(ticketId: $id) { kind
  message { id body authorName } } }"""
AGENT_SUB = """subscription($id: ID!) { ticketUpdates(ticketId: $id) { kind changes } }"""
REPLY = """mutation($id: ID!, $b: String!) { commentAdd(input: {ticketId: $id, body: $b,
  isPublic: true}) { errors { message } } }"""


async def seed(database_url: str, var_dir: Path, contacts: int, per_contact: int) -> dict:
    """Contacts with tokens, their tickets (a first message and a public answer each), an
    agent; through the services."""
    from deskql import db, models
    from deskql.models.enums import Role, TokenKind
    from deskql.schema.ids import to_global_id
    from deskql.services import auth, organisation
    from deskql.services import tickets as ticket_service
    from deskql.services.helpcenter import access
    from deskql.services.helpcenter import tickets as help_tickets
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    if not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        _, agent_token = await auth.issue_token(agent_id=admin.id, kind=TokenKind.API)
        actor = await auth.load_actor(admin.id)
        people = []
        for i in range(contacts):
            contact = await models.Contact.create(
                first_name=f"Klient{i}", last_name="Łódzki", email=f"c{i}@example.pl"
            )
            await models.ContactLogin.create(contact_id=contact.id)
            token = await access.issue_token(contact.id, days=1)
            who = await access.authenticate(token)
            ids = []
            for t in range(per_contact):
                ticket = await help_tickets.create_ticket(
                    who,
                    root=settings.attachments_dir,
                    max_bytes=1,
                    subject=f"Problem {t} klienta {i} 问题",
                    description="Drukarka nie działa. 打印机坏了。",
                )
                await ticket_service.add_comment(
                    actor, ticket_id=ticket.id, body="Sprawdzamy. 我们在检查。", is_public=True
                )
                ids.append(to_global_id("Ticket", ticket.id))
            people.append(
                {"token": token, "contact": to_global_id("Contact", contact.id), "tickets": ids}
            )
        assert dept.id
        return {"agent_token": agent_token, "people": people}
    finally:
        await db.close_db()


# -- the read load, from its own process --------------------------------------------------


async def _client(cfg: dict[str, Any]) -> dict[str, Any]:
    """Send the requests round-robin from `concurrency` keep-alive connections."""
    from loadgen import _percentile, _read_response

    requests = [
        (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Length: {len(body.encode())}\r\n\r\n".encode()
            + body.encode()
        )
        for path, token, body in cfg["requests"]
    ]
    latencies: list[float] = []
    errors: list[str] = []
    next_index = [0]
    deadline = time.perf_counter() + cfg["duration"]

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(HOST, cfg["port"])
        try:
            while time.perf_counter() < deadline:
                request = requests[next_index[0] % len(requests)]
                next_index[0] += 1
                start = time.perf_counter()
                writer.write(request)
                status, body = await _read_response(reader)
                latencies.append(time.perf_counter() - start)
                if status != 200 or b'"errors"' in body:
                    errors.append(f"{status}: {body[:300]!r}")
        finally:
            writer.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(cfg["concurrency"])))
    elapsed = time.perf_counter() - start
    ordered = sorted(latencies)
    return {
        "requests": len(latencies),
        "rps": len(latencies) / elapsed,
        "p50_ms": _percentile(ordered, 0.5) * 1000,
        "p99_ms": _percentile(ordered, 0.99) * 1000,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
    }


def read_round(server: Server, requests: list, concurrency: int, duration: float) -> dict:
    """One round of the read load against a server; adds the server's CPU per request."""
    cfg = {"port": server.port, "requests": requests, "concurrency": concurrency}
    cfg["duration"] = duration
    cpu = server.cpu_seconds()
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(cfg, f)
    out = subprocess.run(
        [sys.executable, __file__, "--client", f.name],
        capture_output=True,
        text=True,
        timeout=duration + 120,
        check=False,
    )
    os.unlink(f.name)
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-3000:])
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["errors"]:
        raise RuntimeError(f"{result['errors']} bad responses: {result['first_error']}")
    after = server.cpu_seconds()
    result["cpu_ms"] = (after - cpu) * 1000 / result["requests"] if cpu and after else float("nan")
    return result


def body(query: str, variables: dict | None = None) -> str:
    return json.dumps({"query": query, "variables": variables or {}})


# -- the live part --------------------------------------------------------------------------


async def live_round(
    port: int,
    *,
    path: str,
    query: str,
    subscribers: list[tuple[str, str]],
    agent_token: str,
    reply_rate: float,
    settle: float,
) -> dict[str, Any]:
    """Subscribe each (token, ticket id), reply once to each ticket, time the deliveries."""
    import httpx
    import websockets

    sent: dict[str, float] = {}
    got: dict[str, float] = {}
    ready = 0

    async def subscriber(index: int, token: str, ticket_id: str, stop: asyncio.Event) -> None:
        nonlocal ready
        url = f"ws://{HOST}:{port}{path}"
        async with websockets.connect(url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"token": token}}))
            ack = json.loads(await ws.recv())
            assert ack["type"] == "connection_ack", ack
            payload = {"query": query, "variables": {"id": ticket_id}}
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": payload}))
            ready += 1
            while not stop.is_set():
                try:
                    raw = await asyncio.wait_for(ws.recv(), 0.5)
                except TimeoutError:
                    continue
                message = json.loads(raw)
                if message.get("type") == "next":
                    # Each ticket gets exactly one reply in the round: its first event is it.
                    got.setdefault(str(index), time.perf_counter())
                elif message.get("type") == "error":
                    raise RuntimeError(message)

    stop = asyncio.Event()
    tasks = []
    for i, (token, ticket_id) in enumerate(subscribers):
        tasks.append(asyncio.create_task(subscriber(i, token, ticket_id, stop)))
        if i % 50 == 49:
            await asyncio.sleep(0.05)
    deadline = time.perf_counter() + 60
    while ready < len(subscribers) and time.perf_counter() < deadline:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)  # the last subscriptions reach the hub
    async with httpx.AsyncClient(base_url=f"http://{HOST}:{port}", timeout=60) as http:
        gap = 1.0 / reply_rate
        for i, (_, ticket_id) in enumerate(subscribers):
            sent[str(i)] = time.perf_counter()
            res = await http.post(
                "/graphql",
                json={"query": REPLY, "variables": {"id": ticket_id, "b": f"reply-{i}-ok"}},
                headers={"Authorization": f"Bearer {agent_token}"},
            )
            assert not res.json().get("errors"), res.text
            wait = sent[str(i)] + gap - time.perf_counter()
            if wait > 0:
                await asyncio.sleep(wait)
    end = time.perf_counter() + settle
    while len(got) < len(subscribers) and time.perf_counter() < end:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = sorted((got[k] - sent[k]) * 1000 for k in got)
    return {
        "subscribers": len(subscribers),
        "delivered": len(got),
        "lost": len(subscribers) - len(got),
        "p50_ms": statistics.median(latencies) if latencies else float("nan"),
        "p99_ms": latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        if latencies
        else float("nan"),
    }


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--client":
        cfg = json.loads(Path(sys.argv[2]).read_text())
        print(json.dumps(asyncio.run(_client(cfg))))
        return
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--contacts", type=int, default=500)
    p.add_argument("--tickets-per-contact", type=int, default=3)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--duration", type=float, default=5.0)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--reply-rate", type=float, default=50.0, help="agent replies per second")
    p.add_argument("--database-url", default="", help="PostgreSQL (DROPPED and recreated)")
    args = p.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-help-"))
    var_dir = tmp / "var"
    started = time.perf_counter()
    data = asyncio.run(seed(args.database_url, var_dir, args.contacts, args.tickets_per_contact))
    print(f"seeded {args.contacts} contacts in {time.perf_counter() - started:.1f} s")
    env = {
        "DESKQL_VAR_DIR": str(var_dir),
        "DESKQL_DATABASE_URL": args.database_url,
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_OUTBOX_ENABLED": "false",
        "DESKQL_BROADCAST_URL": "memory://",
        "DESKQL_AUTO_MIGRATE": "false",
    }
    server = Server("deskql", "deskql.server:create_app", env, tmp)
    server.start(timeout=60)
    try:
        people, agent = data["people"], data["agent_token"]
        help_requests = []
        agent_requests = []
        for person in people:
            help_requests.append(("/help/graphql", person["token"], body(HELP_LIST)))
            first = {"id": person["tickets"][0]}
            help_requests.append(("/help/graphql", person["token"], body(HELP_TICKET, first)))
            agent_requests.append(("/graphql", agent, body(AGENT_LIST, {"c": person["contact"]})))
            agent_requests.append(("/graphql", agent, body(AGENT_TICKET, first)))
        read_round(server, help_requests, args.concurrency, 1.0)  # warm-up
        read_round(server, agent_requests, args.concurrency, 1.0)
        rounds: dict[str, list[dict]] = {"help": [], "agent": []}
        for _ in range(args.rounds):
            rounds["help"].append(
                read_round(server, help_requests, args.concurrency, args.duration)
            )
            rounds["agent"].append(
                read_round(server, agent_requests, args.concurrency, args.duration)
            )

        def med(side: str, key: str) -> float:
            return statistics.median(r[key] for r in rounds[side])

        print(
            f"\nreads ({args.contacts} contacts, list + one ticket each, "
            f"{args.concurrency} in flight, {args.rounds} rounds of {args.duration:.0f} s):"
        )
        for side, label in (("help", "/help/graphql (contacts)"), ("agent", "/graphql (agent)")):
            print(
                f"  {label:26} {med(side, 'rps'):8.0f} req/s  p50 {med(side, 'p50_ms'):6.1f} ms"
                f"  p99 {med(side, 'p99_ms'):6.1f} ms  CPU {med(side, 'cpu_ms'):5.2f} ms/req"
            )
        print(
            f"  help/agent: req/s {med('help', 'rps') / med('agent', 'rps'):.2f}, "
            f"p99 {med('help', 'p99_ms') / med('agent', 'p99_ms'):.2f}, "
            f"CPU per request {med('help', 'cpu_ms') / med('agent', 'cpu_ms'):.2f}"
        )

        subs_help = [(p["token"], p["tickets"][0]) for p in people]
        live_help = asyncio.run(
            live_round(
                server.port, path="/help/graphql", query=HELP_SUB, subscribers=subs_help,
                agent_token=agent, reply_rate=args.reply_rate, settle=15,
            )
        )  # fmt: skip
        subs_agent = [(agent, p["tickets"][1 % len(p["tickets"])]) for p in people]
        live_agent = asyncio.run(
            live_round(
                server.port, path="/graphql", query=AGENT_SUB, subscribers=subs_agent,
                agent_token=agent, reply_rate=args.reply_rate, settle=15,
            )
        )  # fmt: skip
        print(
            f"\nlive ({args.contacts} subscribers, one public reply to each ticket at "
            f"{args.reply_rate:.0f}/s):"
        )
        for label, r in (("help ticketUpdates", live_help), ("agent ticketUpdates", live_agent)):
            print(
                f"  {label:20} delivered {r['delivered']}/{r['subscribers']} (lost {r['lost']})"
                f"  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
            )
        print(f"  help/agent delivery p99: {live_help['p99_ms'] / live_agent['p99_ms']:.2f}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
