"""Ticket list benchmark: DeskQL's ticket list over HTTP, beside two references, in one run.

    .venv/bin/python bench/ticket_list.py [--database-url postgres://.../NAME --reset]
                                          [--rounds 5] [--duration 4] [--profile]

Seeds a temporary SQLite database (or the PostgreSQL database given) with tickets that have
contacts, accounts, agents, teams and tags; starts three uvicorn processes on 127.0.0.1:
  (0) DeskQL itself, answering the ticket list query for `--page` tickets as an administrator;
  (a) a bare Starlette endpoint returning the JSON document (0) returned, prebuilt;
  (b) strawberry answering the same query from in-memory objects (bench/apps.py);
and drives each in turn with `--concurrency` keep-alive connections from a load generator in
its own process (bench/loadgen.py). Rounds are interleaved (0, a, b, 0, a, b, ...) so machine
noise hits all three alike; figures are medians over rounds. See bench/README.md.
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
import httpx  # noqa: E402

QUERY = """
query TicketList($first: Int!) {
  tickets(first: $first) {
    totalCount
    edges { node {
      id number subject status priority tags
      contact { name email account { name } }
      assignee { ... on Agent { name } ... on Team { name } }
      department { name }
    } }
  }
}
"""

TAGS = ["billing", "printer", "urgent", "vip", "refund", "login", "mobile", "invoice", "outage"]


async def seed(database_url: str, var_dir: Path, tickets: int, reset: bool) -> str:
    """Create the organisation's data through the services; returns an administrator token."""
    from deskql import db, models
    from deskql.models.enums import Role, TicketPriority, TicketStatus, TokenKind
    from deskql.services import auth, organisation
    from deskql.services import tickets as ticket_service
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    if reset and not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        if await models.Ticket.exists():
            raise SystemExit(
                "the database already has tickets; pass --reset to drop and recreate it"
            )
        await organisation.ensure_organisation(settings)
        depts = [
            await organisation.create_department(None, name=name) for name in ("Sales", "Support")
        ]
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        _, token = await auth.issue_token(agent_id=admin.id, kind=TokenKind.API, name="bench")
        actor = await auth.load_actor(admin.id)
        agents: dict[int, list[int]] = {d.id: [] for d in depts}
        teams: dict[int, list[int]] = {d.id: [] for d in depts}
        for d_index, dept in enumerate(depts):
            for i in range(4):
                agent = await organisation.create_agent(
                    None,
                    email=f"agent{d_index}{i}@zylker.com",
                    first_name=f"Agent{d_index}{i}",
                    last_name=f"Surname{i}",
                    department_ids=[dept.id],
                )
                agents[dept.id].append(agent.id)
            for i in range(3):
                team = await models.Team.create(name=f"{dept.name} team {i}", department=dept)
                await models.TeamMembership.create(team=team, agent_id=agents[dept.id][i])
                teams[dept.id].append(team.id)
        accounts = [
            await models.Account.create(
                name=f"Customer company {i}", email=f"info@company{i}.example"
            )
            for i in range(tickets // 2)
        ]
        statuses = list(TicketStatus)
        priorities = list(TicketPriority)
        for i in range(tickets):
            dept = depts[i % 2]
            contact = await models.Contact.create(
                first_name=f"Customer{i}",
                last_name="Example",
                email=f"customer{i}@example.com",
                account=accounts[i % len(accounts)] if i % 5 else None,
            )
            agent_id = team_id = None
            if i % 3 == 0:
                team_id = teams[dept.id][i % 3]
            elif i % 7 != 0:
                agent_id = agents[dept.id][i % 4]
            await ticket_service.create_ticket(
                actor,
                subject=f"Problem number {i} with the order",
                description="Something went wrong. " * 20,
                department_id=dept.id,
                contact_id=contact.id,
                status=statuses[i % len(statuses)],
                priority=priorities[i % len(priorities)],
                assignee_agent_id=agent_id,
                assignee_team_id=team_id,
                tags=[TAGS[i % len(TAGS)], TAGS[(i + 3) % len(TAGS)]]
                + ([TAGS[(i + 5) % len(TAGS)]] if i % 2 else []),
            )
        return token
    finally:
        await db.close_db()


def post(server: common.Server, body: str, headers: dict[str, str]) -> bytes:
    """One request, to check a server's answer."""
    resp = httpx.post(
        f"http://{common.HOST}:{server.port}/graphql",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=30,
    )
    resp.raise_for_status()
    return resp.content


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument(
        "--database-url",
        default="",
        help="PostgreSQL URL to use instead of a temporary SQLite file; it must hold no\n"
        "tickets, or pass --reset to DROP and recreate that database",
    )
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--tickets", type=int, default=60, help="tickets to create (default 60)")
    p.add_argument("--page", type=int, default=50, help="tickets per response (default 50)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    p.add_argument("--duration", type=float, default=4.0, help="seconds per round (default 4)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    p.add_argument(
        "--max-requests", type=int, default=100_000, help="cap per round (default 100000)"
    )
    p.add_argument(
        "--baseline",
        metavar="DIR",
        help="another DeskQL checkout (e.g. a git worktree of main) served as (0') on the\n"
        "same database and measured in the same rounds, to compare a change",
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="then sample (0) with py-spy during a round twice as long; show where time goes",
    )
    args = p.parse_args(argv)
    if args.page > args.tickets or not 1 <= args.page <= 100:
        p.error("--page must be between 1 and 100 and at most --tickets")
    if args.reset and not args.database_url:
        p.error("--reset only applies to --database-url")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-"))
    servers: list[common.Server] = []
    try:
        print(f"seeding {args.tickets} tickets into {args.database_url or 'SQLite in ' + str(tmp)}")
        token = asyncio.run(seed(args.database_url, tmp, args.tickets, args.reset))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            # The SMTP intake is not measured, and a second server would collide on its port.
            "DESKQL_SMTP_ENABLED": "false",
        }
        deskql = common.Server("0-deskql", "deskql.server:create_app", env, tmp)
        servers.append(deskql)
        deskql.start()

        body = json.dumps({"query": QUERY, "variables": {"first": args.page}})
        headers = {"Authorization": f"Bearer {token}"}
        document = post(deskql, body, headers)
        parsed = json.loads(document)
        if parsed.get("errors") or len(parsed["data"]["tickets"]["edges"]) != args.page:
            raise SystemExit(f"unexpected DeskQL response: {document[:500]!r}")
        (tmp / "document.json").write_bytes(document)

        ref_env = {"DESKQL_BENCH_DOCUMENT": str(tmp / "document.json")}
        bare = common.Server("a-bare", "apps:bare_app", ref_env, tmp, app_dir=common.BENCH)
        inmem = common.Server("b-inmemory", "apps:inmemory_app", ref_env, tmp, app_dir=BENCH)
        for server in (bare, inmem):
            servers.append(server)
            server.start()
        for server in (bare, inmem):
            answer = post(server, body, headers)
            if json.loads(answer) != parsed:
                raise SystemExit(f"{server.name} does not return DeskQL's document")
        print(
            f"response: {len(document):,} bytes, {args.page} tickets; all three servers return "
            f"the same JSON document"
        )

        # The same DeskQL with the read path off: every query on graphql-core's executor.
        full = common.Server(
            "0-full", "deskql.server:create_app", {**env, "DESKQL_READPATH": "false"}, tmp
        )
        servers.append(full)
        full.start()
        if json.loads(post(full, body, headers)) != parsed:
            raise SystemExit("DeskQL without the read path returns another document")
        # The read path without compiled pages: the lean executor over model rows.
        lean = common.Server(
            "0-lean",
            "deskql.server:create_app",
            {**env, "DESKQL_READPATH_COMPILED": "false"},
            tmp,
        )
        servers.append(lean)
        lean.start()
        if json.loads(post(lean, body, headers)) != parsed:
            raise SystemExit("DeskQL without compiled pages returns another document")
        targets = [deskql, lean, full, bare, inmem]
        if args.baseline:
            # Another checkout of DeskQL on the same database, to measure a change side by side.
            base = common.Server("0-baseline", "deskql.server:create_app", env, tmp)
            base.app_dir = Path(args.baseline).resolve()
            servers.append(base)
            base.start()
            if json.loads(post(base, body, headers)) != parsed:
                raise SystemExit("the baseline checkout returns another document")
            targets.append(base)
        lengths = {s.name: len(post(s, body, headers)) for s in targets}

        def one_round(server: common.Server, seconds: float) -> dict[str, Any]:
            return common.load(
                server,
                body=body,
                headers=headers,
                concurrency=args.concurrency,
                duration=seconds,
                max_requests=args.max_requests,
                expected_length=lengths[server.name],
            )

        for server in targets:
            one_round(server, args.warmup)
        rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s in targets}
        for r in range(args.rounds):
            line = []
            for server in targets:
                result = one_round(server, args.duration)
                rounds[server.name].append(result)
                line.append(f"{server.name} {result['rps']:7.0f}/s")
            print(f"round {r + 1}: " + "   ".join(line))

        report(args, targets, rounds)
        if args.profile:
            profile(args, deskql, tmp, lambda seconds: one_round(deskql, seconds))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total time {time.monotonic() - began:.0f} s")


def report(
    args: argparse.Namespace,
    targets: list[common.Server],
    rounds: dict[str, list[dict[str, Any]]],
) -> None:
    labels = {
        "0-deskql": "(0) DeskQL ticket list",
        "a-bare": "(a) bare Starlette, prebuilt JSON",
        "b-inmemory": "(b) strawberry, in-memory objects",
        "0-baseline": "(0') DeskQL, --baseline checkout",
        "0-full": "(0f) DeskQL, read path off",
        "0-lean": "(0l) DeskQL, compiled pages off",
    }
    print()
    print(
        f"medians of {args.rounds} rounds x {args.duration:g} s, {args.concurrency} connections, "
        f"{args.page} tickets per response, {'PostgreSQL' if args.database_url else 'SQLite'}"
    )
    print(f"{'':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'requests':>9}")
    med: dict[str, dict[str, float]] = {}
    for server in targets:
        rs = rounds[server.name]
        med[server.name] = {
            k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms", "requests")
        }
        m = med[server.name]
        print(
            f"{labels[server.name]:36} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
            f"{m['cpu_ms']:8.2f} "
            f"{sum(r['requests'] for r in rs):9d}"
        )
    zero, a, b = (med[name] for name in ("0-deskql", "a-bare", "b-inmemory"))
    print()
    print(f"(0)/(a) throughput ratio: {zero['rps'] / a['rps']:.3f}")
    print(f"(0)/(b) throughput ratio: {zero['rps'] / b['rps']:.3f}   (target >= 0.7)")
    print(
        f"(b)/(0) server CPU per request: {b['cpu_ms'] / zero['cpu_ms']:.3f}   "
        "(the same comparison, less sensitive to other load on the machine)"
    )
    full = med["0-full"]
    print(
        f"(0)/(0f) throughput ratio: {zero['rps'] / full['rps']:.3f}   (read path on / off; "
        f"CPU per request {zero['cpu_ms']:.2f} vs {full['cpu_ms']:.2f} ms)"
    )
    lean = med["0-lean"]
    print(
        f"(0)/(0l) throughput ratio: {zero['rps'] / lean['rps']:.3f}   (compiled pages on / off; "
        f"CPU per request {zero['cpu_ms']:.2f} vs {lean['cpu_ms']:.2f} ms)"
    )
    if "0-baseline" in med:
        base = med["0-baseline"]
        print(f"(0')/(b) throughput ratio: {base['rps'] / b['rps']:.3f}   (--baseline checkout)")
        print(f"(0)/(0') throughput ratio: {zero['rps'] / base['rps']:.3f}")
        print(f"(0')/(0) server CPU per request: {base['cpu_ms'] / zero['cpu_ms']:.3f}")


def profile(
    args: argparse.Namespace, deskql: common.Server, tmp: Path, drive: Any
) -> None:  # pragma: no cover - needs py-spy
    py_spy = common.py_spy_available()
    if py_spy is None:
        print("\n--profile needs py-spy: .venv/bin/pip install py-spy")
        return
    assert deskql.proc is not None
    out = tmp / "profile.txt"
    seconds = 2 * args.duration
    spy = common.start_profile(py_spy, deskql.proc.pid, seconds, out)
    time.sleep(0.5)
    drive(seconds)
    _, err = spy.communicate(timeout=seconds + 60)
    if spy.returncode != 0 or not out.exists():
        print(f"\npy-spy failed: {err.decode(errors='replace')[-1000:]}")
        return
    shares, hot = common.summarise_profile(out)
    print("\nwhere (0) spends its time (py-spy samples, innermost matching layer):")
    for name, share in shares:
        print(f"  {share:5.1f}%  {name}")
    print("hottest innermost frames:")
    for line in hot:
        print(f"  {line}")


if __name__ == "__main__":
    main()
