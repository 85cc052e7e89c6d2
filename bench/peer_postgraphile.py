"""Peer benchmark: DeskQL beside PostGraphile v4 on the same PostgreSQL data, in one run.

    .venv/bin/python bench/peer_postgraphile.py --reset [--tickets 5000]
        [--database-url postgres://postgres@127.0.0.1:5432/deskql_bench_peer]
        [--concurrency 8] [--rounds 5] [--duration 10] [--actor agent|admin]

1. Installs PostGraphile with `npm ci` into bench/peer/ (versions pinned by the committed
   package-lock.json) unless it is there already.
2. Creates the schema with DeskQL's own migrations (`db.init_db(migrate=True)`), an
   organisation, two departments, agents and teams through the services, then `--tickets`
   tickets and half as many contacts with `generate_series` SQL (the seed is not measured).
   `--reset` DROPS and recreates the database first; without it an empty database is seeded
   and one this script seeded before with the same `--tickets` is reused.
3. Starts DeskQL (`deskql.server:create_app` under uvicorn, one worker) and PostGraphile (one
   Node process, `--disable-query-log`, no watch, default mutations off) on that database.
4. Checks both answer the same page (50 tickets by number, newest first, spam left out: nine
   scalar fields, the contact's name and the assignee's name, fields mapped between the two
   schemas) and stops with the difference if they do not.
5. Drives both with bench/loadgen.py at the same concurrency, in alternating rounds, first
   `{ __typename }`, then the page, and prints req/s, p50/p99 and the server process's CPU per
   request (medians over rounds). The last line is
   `ratio deskql/postgraphile: <throughput ratio> (p99 <ms> vs <ms>)`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402
import httpx  # noqa: E402

PEER_DIR = BENCH / "peer"
POSTGRAPHILE = PEER_DIR / "node_modules" / ".bin" / "postgraphile"
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/deskql_bench_peer"
SEED_MARK = "Peer bench A"  # the first department's name: this script seeded the database

DESKQL_QUERY = """{ tickets(first: %d, sort: {field: NUMBER, direction: DESC}) { edges { node {
  id number subject status priority channel isSpam createdAt updatedAt
  contact { name }
  assignee { __typename ... on Agent { name } ... on Team { name } }
} } } }"""

# PostGraphile with @graphile-contrib/pg-simplify-inflector: `tickets` is the ticket table's
# connection, `contact` / `assigneeAgent` / `assigneeTeam` its foreign keys. DeskQL leaves spam
# out of its lists unless asked (TicketFilter.isSpam defaults to false), hence the condition.
PEER_QUERY = """{ tickets(first: %d, orderBy: [NUMBER_DESC], condition: {isSpam: false}) {
  nodes {
    id number subject status priority channel isSpam createdAt updatedAt
    contact { firstName lastName }
    assigneeAgent { firstName lastName }
    assigneeTeam { name }
} } }"""

TYPENAME_QUERY = "{ __typename }"


def install_postgraphile() -> None:
    """`npm ci` in bench/peer/ unless PostGraphile is installed; stop if npm cannot."""
    if POSTGRAPHILE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("blocked: npm is not installed (PostGraphile needs Node 18+ and npm)")
    print("installing PostGraphile into bench/peer/ with npm ci ...")
    out = subprocess.run(
        [npm, "ci", "--no-audit", "--no-fund"],
        cwd=PEER_DIR,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if out.returncode != 0 or not POSTGRAPHILE.exists():
        raise SystemExit(
            "blocked: `npm ci` in bench/peer/ failed (is the npm registry reachable?):\n"
            + (out.stderr or out.stdout)[-2000:]
        )


# Seeding ---------------------------------------------------------------------------------------

CONTACTS_SQL = """
INSERT INTO contact (first_name, last_name, email, secondary_email, phone, mobile, description,
                     created_at, updated_at, email_key, first_name_key, last_name_key,
                     full_name_key)
SELECT 'Customer' || i, 'Example' || (i % 97), 'customer' || i || '@example.com', '', '', '', '',
       now() - interval '400 days', now() - interval '400 days',
       'customer' || i || '@example.com', 'customer' || i, 'example' || (i % 97),
       'customer' || i || ' example' || (i % 97)
FROM generate_series(1, $1::int) AS i
"""

# Ticket i: department i % 2; contact (i % contacts) + 1 except every 10th (none); assignee an
# agent of its department, a team of it, or nobody (i % 3); every 50th spam.
TICKETS_SQL = """
INSERT INTO ticket (number, subject, description, status, priority, channel, is_spam, version,
                    created_at, updated_at, department_id, contact_id, assignee_agent_id,
                    assignee_team_id)
SELECT i, 'Problem number ' || i || ' with the order', 'Something went wrong.',
       (ARRAY['OPEN','ON_HOLD','ESCALATED','CLOSED'])[1 + i % 4], 1 + (i * 7) % 4,
       (ARRAY['EMAIL','PHONE','WEB','CHAT','FORUM'])[1 + i % 5], i % 50 = 0, 1 + i % 3,
       now() - interval '1 day' - make_interval(secs => ($1::int - i) * 30),
       now() - interval '1 day' - make_interval(secs => ($1::int - i) * 30 - i % 600),
       ($3::int[])[1 + i % 2],
       CASE WHEN i % 10 <> 0 THEN c.first_id + i % $2::int END,
       CASE WHEN i % 3 = 1 THEN ($4::int[])[1 + i % 2][1 + (i / 2) % 4] END,
       CASE WHEN i % 3 = 2 THEN ($5::int[])[1 + i % 2][1 + (i / 2) % 3] END
FROM generate_series(1, $1::int) AS i, (SELECT min(id) AS first_id FROM contact) AS c
"""


async def seed(database_url: str, var_dir: Path, tickets: int, reset: bool, actor: str) -> str:
    """Migrate and seed the database (or reuse this script's earlier seed); returns a token."""
    import asyncpg

    from deskql import db, models
    from deskql.models.enums import Role, TokenKind
    from deskql.services import auth, organisation
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    if settings.is_embedded_db:
        raise SystemExit("--database-url must be a postgres:// URL")
    if reset:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        count = await models.Ticket.all().count()
        if count and not await models.Department.exists(name=SEED_MARK):
            raise SystemExit("the database has tickets this script did not seed; pass --reset")
        if count and count != tickets:
            raise SystemExit(f"the database holds {count} tickets, not {tickets}; pass --reset")
        if not count:
            await organisation.ensure_organisation(settings)
            depts = [
                await organisation.create_department(None, name=name)
                for name in (SEED_MARK, "Peer bench B")
            ]
            agents: list[list[int]] = []
            teams: list[list[int]] = []
            for d_index, dept in enumerate(depts):
                members = [
                    await organisation.create_agent(
                        None,
                        email=f"agent{d_index}{i}@zylker.com",
                        first_name=f"Agent{d_index}{i}",
                        last_name=f"Surname{i}",
                        department_ids=[dept.id],
                    )
                    for i in range(4)
                ]
                agents.append([a.id for a in members])
                dept_teams = []
                for i in range(3):
                    team = await models.Team.create(name=f"{dept.name} team {i}", department=dept)
                    await models.TeamMembership.create(team=team, agent_id=members[i].id)
                    dept_teams.append(team.id)
                teams.append(dept_teams)
            contacts = max(1, tickets // 2)
            conn = await asyncpg.connect(database_url.replace("postgres://", "postgresql://", 1))
            try:
                started = time.monotonic()
                async with conn.transaction():
                    await conn.execute(CONTACTS_SQL, contacts)
                    await conn.execute(
                        TICKETS_SQL,
                        tickets,
                        contacts,
                        [d.id for d in depts],
                        agents,
                        teams,
                    )
                    await conn.execute("UPDATE organisation SET ticket_seq = $1", tickets)
                await conn.execute("ANALYZE")
                print(
                    f"seeded {tickets} tickets, {contacts} contacts in "
                    f"{time.monotonic() - started:.0f} s"
                )
            finally:
                await conn.close()
        email = "peer-bench-admin@zylker.com" if actor == "admin" else "peer-bench@zylker.com"
        agent = await models.Agent.get_or_none(email=email)
        if agent is None:
            all_depts = [d.id for d in await models.Department.all()]
            agent = await organisation.create_agent(
                None,
                email=email,
                last_name="Bench",
                role=Role.ADMINISTRATOR if actor == "admin" else Role.AGENT,
                department_ids=all_depts,
            )
        _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="peer")
        return token
    finally:
        await db.close_db()


# Servers -----------------------------------------------------------------------------------------


@dataclass
class PostGraphile(common.Server):
    """PostGraphile v4's CLI as one Node process (measured like a uvicorn server)."""

    database_url: str = ""

    def start(self, timeout: float = 120.0) -> None:
        """Start `postgraphile` and wait until it accepts connections (after introspection)."""
        cmd = [
            str(POSTGRAPHILE),
            "--connection", self.database_url,
            "--schema", "public",
            "--host", common.HOST,
            "--port", str(self.port),
            "--append-plugins", "@graphile-contrib/pg-simplify-inflector",
            "--disable-query-log",
            "--disable-graphiql",
            "--disable-default-mutations",
        ]  # fmt: skip
        log = self.log_path.open("wb")
        self.proc = subprocess.Popen(cmd, cwd=PEER_DIR, stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_path.read_text()[-3000:]}")
            try:
                if post(self, json.dumps({"query": TYPENAME_QUERY}), {}).startswith(b'{"data"'):
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not start in {timeout}s")


def post(server: common.Server, body: str, headers: dict[str, str]) -> bytes:
    """One request, to check a server's answer."""
    resp = httpx.post(
        f"http://{common.HOST}:{server.port}/graphql",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )
    resp.raise_for_status()
    return resp.content


# Sameness ----------------------------------------------------------------------------------------


def _instant(text: str) -> str:
    return datetime.fromisoformat(text).isoformat()


def _name(first: str, last: str) -> str:
    return f"{first} {last}".strip()


def normalise_deskql(document: dict[str, Any]) -> list[dict[str, Any]]:
    """DeskQL's page as comparable rows (row id, enum names, instants, names)."""
    from deskql.schema.ids import decode_id

    rows = []
    for edge in document["data"]["tickets"]["edges"]:
        n = edge["node"]
        assignee = n["assignee"]
        rows.append(
            {
                "id": decode_id(n["id"], "Ticket"),
                **{k: n[k] for k in ("number", "subject", "status", "priority", "channel")},
                "isSpam": n["isSpam"],
                "createdAt": _instant(n["createdAt"]),
                "updatedAt": _instant(n["updatedAt"]),
                "contact": n["contact"]["name"] if n["contact"] else None,
                "assignee": (assignee["__typename"], assignee["name"]) if assignee else None,
            }
        )
    return rows


def normalise_peer(document: dict[str, Any]) -> list[dict[str, Any]]:
    """PostGraphile's page mapped onto DeskQL's fields (priority numbers to enum names...)."""
    from deskql.models.enums import TicketPriority

    rows = []
    for n in document["data"]["tickets"]["nodes"]:
        agent, team, contact = n["assigneeAgent"], n["assigneeTeam"], n["contact"]
        rows.append(
            {
                "id": n["id"],
                **{k: n[k] for k in ("number", "subject", "status")},
                "priority": TicketPriority(n["priority"]).name,
                "channel": n["channel"],
                "isSpam": n["isSpam"],
                "createdAt": _instant(n["createdAt"]),
                "updatedAt": _instant(n["updatedAt"]),
                "contact": _name(contact["firstName"], contact["lastName"]) if contact else None,
                "assignee": ("Agent", _name(agent["firstName"], agent["lastName"]))
                if agent
                else ("Team", team["name"])
                if team
                else None,
            }
        )
    return rows


def check_same(ours: bytes, theirs: bytes, page: int) -> list[dict[str, Any]]:
    """Both pages as rows; stop with the first difference unless they are equal."""
    a, b = json.loads(ours), json.loads(theirs)
    for name, doc in (("DeskQL", a), ("PostGraphile", b)):
        if doc.get("errors") or not doc.get("data"):
            raise SystemExit(f"{name} answered with errors: {json.dumps(doc)[:1500]}")
    rows_a, rows_b = normalise_deskql(a), normalise_peer(b)
    if len(rows_a) != page or len(rows_b) != page:
        raise SystemExit(f"pages of {len(rows_a)} and {len(rows_b)} tickets, not {page}")
    for i, (x, y) in enumerate(zip(rows_a, rows_b, strict=True)):
        if x != y:
            raise SystemExit(
                f"THE SERVERS DIFFER at row {i}:\n  DeskQL       {x}\n  PostGraphile {y}"
            )
    return rows_a


# Main --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default=DEFAULT_URL, help=f"default {DEFAULT_URL}")
    p.add_argument("--reset", action="store_true", help="DROP and recreate the database first")
    p.add_argument("--tickets", type=int, default=5000, help="tickets to seed (default 5000)")
    p.add_argument("--page", type=int, default=50, help="tickets per response (default 50)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per server (default 5)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round (default 10)")
    p.add_argument("--warmup", type=float, default=3.0, help="warm-up seconds (default 3)")
    p.add_argument("--max-requests", type=int, default=1_000_000, help="cap per round")
    p.add_argument(
        "--actor",
        choices=("agent", "admin"),
        default="agent",
        help="DeskQL's token: an agent of every department (default) or an administrator",
    )
    p.add_argument("--skip-typename", action="store_true", help="only measure the ticket page")
    args = p.parse_args(argv)
    if not 1 <= args.page <= 100 or args.page * 2 > args.tickets:
        p.error("--page must be 1 to 100 and --tickets at least twice --page")
    return args


def measure_pair(
    args: argparse.Namespace,
    label: str,
    pair: list[tuple[common.Server, str, dict[str, str]]],
) -> dict[str, dict[str, float]]:
    """Alternating rounds on both servers; prints and returns the medians."""
    lengths = {s.name: len(post(s, body, headers)) for s, body, headers in pair}

    def one_round(server: common.Server, body: str, headers: dict[str, str], seconds: float):
        return common.load(
            server,
            body=body,
            headers=headers,
            concurrency=args.concurrency,
            duration=seconds,
            max_requests=args.max_requests,
            expected_length=lengths[server.name],
        )

    for server, body, headers in pair:
        one_round(server, body, headers, args.warmup)
    rounds: dict[str, list[dict[str, Any]]] = {s.name: [] for s, _, _ in pair}
    for r in range(args.rounds):
        order = pair if r % 2 == 0 else list(reversed(pair))
        for server, body, headers in order:
            rounds[server.name].append(one_round(server, body, headers, args.duration))
        print(
            f"  {label} round {r + 1}: "
            + "   ".join(f"{s.name} {rounds[s.name][-1]['rps']:7.0f}/s" for s, _, _ in pair)
        )
    med = {
        name: {k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms")}
        for name, rs in rounds.items()
    }
    print(f"  {'':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms/req':>11}")
    for name, m in med.items():
        print(
            f"  {name:14} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} {m['cpu_ms']:11.3f}"
        )
    return med


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    install_postgraphile()
    # SIGTERM ends the run like Ctrl-C does: through the `finally` that stops both servers.
    signal.signal(signal.SIGTERM, _interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-peer-"))
    servers: list[common.Server] = []
    try:
        print(f"database {args.database_url}, {args.tickets} tickets")
        token = asyncio.run(seed(args.database_url, tmp, args.tickets, args.reset, args.actor))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",
        }
        deskql = common.Server("deskql", "deskql.server:create_app", env, tmp)
        peer = PostGraphile("postgraphile", "", {}, tmp, database_url=args.database_url)
        for server in (deskql, peer):
            servers.append(server)
            server.start()
        auth = {"Authorization": f"Bearer {token}"}
        ours_body = json.dumps({"query": DESKQL_QUERY % args.page})
        peer_body = json.dumps({"query": PEER_QUERY % args.page})
        rows = check_same(post(deskql, ours_body, auth), post(peer, peer_body, {}), args.page)
        print(
            f"same {args.page} tickets from both (numbers {rows[0]['number']}..{rows[-1]['number']}"
            f", first: {rows[0]})"
        )
        typename = json.dumps({"query": TYPENAME_QUERY})
        for server, headers in ((deskql, auth), (peer, {})):
            if json.loads(post(server, typename, headers)) != {"data": {"__typename": "Query"}}:
                raise SystemExit(f"{server.name} answers {{ __typename }} otherwise")
        print(
            f"{args.concurrency} connections, medians of {args.rounds} alternating rounds x "
            f"{args.duration:g} s (after {args.warmup:g} s of warm-up each); CPU is the server "
            "process's (PostgreSQL's is not counted)"
        )
        tn = None
        if not args.skip_typename:
            print("{ __typename }:")
            tn = measure_pair(args, "typename", [(deskql, typename, auth), (peer, typename, {})])
        print(f"a page of {args.page} tickets:")
        pg = measure_pair(args, "page", [(deskql, ours_body, auth), (peer, peer_body, {})])
        print(f"total time {time.monotonic() - began:.0f} s")
        if tn is not None:
            print(ratio_line(" { __typename }", tn))
        print(ratio_line("", pg))
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def ratio_line(what: str, med: dict[str, dict[str, float]]) -> str:
    """`ratio deskql/postgraphile<what>: <throughput ratio> (p99 <ms> vs <ms>)`."""
    a, b = med["deskql"], med["postgraphile"]
    return (
        f"ratio deskql/postgraphile{what}: {a['rps'] / b['rps']:.2f} "
        f"(p99 {a['p99_ms']:.1f} ms vs {b['p99_ms']:.1f} ms)"
    )


if __name__ == "__main__":
    main()
