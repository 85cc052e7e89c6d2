"""Customers at scale (issue 15), over HTTP against one DeskQL server, beside references:

    .venv/bin/python bench/customers.py \
        --database-url postgres://postgres@127.0.0.1:5432/deskql_customers --reset \
        [--contacts 100000] [--rounds 5] [--port 8220]

`--reset` DROPS and recreates the database named in the URL (required: a guard). Seeds, with
INSERT ... SELECT generate_series (the seed is not measured): `--contacts` contacts (Polish and
Chinese names; every 50th pair shares an email up to Unicode NFKC, "ﬁle…" / "file…", so
`contactDuplicates(field: EMAIL)` has contacts/50 groups), an account per 20 contacts, one
ticket per contact (statuses, due dates and departments varied) with one message each, and a
rating on every closed ticket.
Then starts `server:create_app` under uvicorn and measures, rounds interleaved, medians:

1. duplicates: `contactDuplicates(field: EMAIL, first: 20)` with each group's first 5 members,
   the first page; reference (r1): what it replaces, reading every contact's two email
   columns over asyncpg and grouping their NFKC-casefolded values in Python.
2. CSV export of the standard view of all contacts (`exportCreate`, then GET of the signed
   URL, streamed): rows per second and the server process's peak RSS during the download
   (sampled every 20 ms from /proc) against its RSS before; reference (r2): PostgreSQL's own
   `COPY (SELECT the same columns ORDER BY id) TO STDOUT WITH CSV` over asyncpg.
3. `contacts(first: 100) { ... overview { ... } }` against the same page without `overview`:
   the ratio (aim <= 1.5x).
PostgreSQL only (the SQL seed uses generate_series).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

import common  # noqa: E402

DUPLICATES = """{ contactDuplicates(field: EMAIL, first: 20) {
  pageInfo { hasNextPage endCursor } nodes { key count contacts(first: 5) { nodes { id email } } }
} }"""
PAGE = """query($first: Int!) { contacts(first: $first) { nodes { id name email %s } } }"""
# The contact list a client shows: the contact's own fields and its account.
FULL_PAGE = """query($first: Int!) { contacts(first: $first) { nodes {
  id firstName lastName name email secondaryEmail phone mobile createdAt updatedAt
  account { id name } %s } } }"""
OVERVIEW = """overview { totalTickets openTickets overdueTickets lastContactedAt
  averageRating ratingCount ticketsByStatus { status count } }"""
EXPORT = """mutation { exportCreate(input: {kind: CONTACT, viewId: "standard:CONTACT:ALL"}) {
  errors { code message } url } }"""

SEED_SQL = """
INSERT INTO account (name, email, phone, website, description, name_key, email_key, phone_key,
                     created_at, updated_at)
SELECT 'Account ' || g, 'office' || g || '@example.com', '', '', '',
       'account ' || g, 'office' || g || '@example.com', '', now(), now()
FROM generate_series(1, {accounts}) g;

INSERT INTO contact (first_name, last_name, email, secondary_email, phone, mobile, description,
                     account_id, first_name_key, last_name_key, full_name_key, email_key,
                     secondary_email_key, phone_key, mobile_key, created_at, updated_at)
SELECT f, l, e, '', p, '', '', 1 + g % {accounts}, lower(f), lower(l), lower(f || ' ' || l),
       k, '', '+48' || replace(p, '-', ''), '', now() - (g || ' seconds')::interval, now()
FROM (
  SELECT g,
    (ARRAY['Łukasz', 'Zofia', '小明', 'Melissa', 'Jan'])[1 + g % 5] AS f,
    (ARRAY['Żółć', 'Kowalska', '王', 'Doe', 'Nowak'])[1 + (g / 5) % 5] || ' ' || g AS l,
    CASE WHEN g % 50 = 0 THEN 'ﬁle' || g || '@example.com'
         WHEN g % 50 = 1 THEN 'file' || (g - 1) || '@example.com'
         ELSE 'user' || g || '@example.com' END AS e,
    CASE WHEN g % 50 IN (0, 1) THEN 'file' || (g - g % 50) || '@example.com'
         ELSE 'user' || g || '@example.com' END AS k,
    '600-' || lpad((g % 1000000)::text, 6, '0') AS p
  FROM generate_series(1, {contacts}) g
) s;

INSERT INTO ticket (number, subject, description, status, priority, channel, department_id,
                    contact_id, is_spam, version, due_at, created_at, updated_at)
SELECT g, 'Problem ' || g, '',
       (ARRAY['OPEN', 'OPEN', 'ON_HOLD', 'ESCALATED', 'CLOSED'])[1 + g % 5], 2, 'EMAIL',
       {dept_a} + g % 2, g, false, 1, now() + ((g % 7 - 3) || ' days')::interval, now(), now()
FROM generate_series(1, {contacts}) g;

INSERT INTO thread (ticket_id, direction, channel, is_public, from_address, to_addresses,
                    cc_addresses, subject, body_text, body_html, in_reply_to, "references",
                    created_at)
SELECT id, CASE WHEN id % 3 = 0 THEN 'OUTGOING' ELSE 'INCOMING' END, 'EMAIL', true, '', '', '',
       '', 'Hello', '', '', '', now() - (id || ' seconds')::interval
FROM ticket;

INSERT INTO ticket_rating (ticket_id, contact_id, value, comment, created_at, updated_at)
SELECT id, contact_id, (ARRAY['GOOD', 'OKAY', 'BAD'])[1 + id % 3], '', now(), now()
FROM ticket WHERE status = 'CLOSED';

UPDATE organisation SET ticket_seq = {contacts};
"""


async def seed(url: str, var_dir: Path, contacts: int, reset: bool) -> str:
    """Fill the database; the administrator's API token."""
    from deskql import db
    from deskql.models.enums import Role, TokenKind
    from deskql.services import auth, organisation
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=url)
    if settings.is_embedded_db:
        raise SystemExit("PostgreSQL only: pass --database-url postgres://.../deskql_customers")
    if not reset:
        raise SystemExit("--reset is required with --database-url: the database is dropped")
    await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        await organisation.ensure_organisation(settings)
        a = await organisation.create_department(None, name="Sales")
        await organisation.create_department(None, name="Support")
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        _, token = await auth.issue_token(agent_id=admin.id, kind=TokenKind.API, name="bench")
        from tortoise.connection import get_connection

        sql = SEED_SQL.format(contacts=contacts, accounts=max(1, contacts // 20), dept_a=a.id)
        conn = get_connection("default")
        await conn.execute_script(sql)
        # What autovacuum does soon after a bulk load: statistics and the visibility map.
        await conn.execute_script("VACUUM ANALYZE")
        return token
    finally:
        await db.close_db()


def rss_kib(pid: int, field: str = "VmRSS") -> int:
    """A memory figure of a process from /proc, in KiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


class PeakSampler(threading.Thread):
    """The highest RSS of a process while running."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.02)


def post(client: httpx.Client, token: str, query: str, variables: dict[str, Any] | None = None):
    resp = client.post(
        "/graphql",
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": f"Bearer {token}"},
    )
    body = resp.json()
    if resp.status_code != 200 or body.get("errors"):
        raise RuntimeError(f"{resp.status_code}: {json.dumps(body)[:500]}")
    return body["data"]


def timed(fn: Any) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


async def naive_duplicates(url: str) -> int:
    """(r1): every contact's emails read and grouped in Python; the number of groups."""
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch("SELECT id, email, secondary_email FROM contact")
    finally:
        await conn.close()
    groups: dict[str, set[int]] = defaultdict(set)
    for row in rows:
        if row["email"]:
            key = unicodedata.normalize("NFKC", row["email"]).casefold().strip()
            groups[key].add(row["id"])
    return sum(1 for ids in groups.values() if len(ids) > 1)


async def copy_csv(url: str) -> int:
    """(r2): PostgreSQL's COPY of the same columns as CSV; bytes."""
    import asyncpg

    class Sink:
        size = 0

        async def write(self, data: bytes) -> None:
            Sink.size += len(data)

    conn = await asyncpg.connect(url)
    try:
        await conn.copy_from_query(
            "SELECT c.first_name, c.last_name, c.email, c.secondary_email, c.phone, c.mobile, "
            "a.name, o.email, c.created_at FROM contact c LEFT JOIN account a ON a.id = "
            "c.account_id LEFT JOIN agent o ON o.id = c.owner_id ORDER BY c.id",
            output=Sink().write,
            format="csv",
            header=True,
        )
    finally:
        await conn.close()
    return Sink.size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--port", type=int, default=8220)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-customers-"))
    print(f"seeding {args.contacts} contacts into {args.database_url}")
    t0 = time.perf_counter()
    token = asyncio.run(seed(args.database_url, tmp, args.contacts, args.reset))
    print(f"  seeded in {time.perf_counter() - t0:.1f} s")
    env = {
        "DESKQL_VAR_DIR": str(tmp),
        "DESKQL_DATABASE_URL": args.database_url,
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_OUTBOX_ENABLED": "false",
        "DESKQL_PHONE_REGION": "PL",
        "DESKQL_PUBLIC_BASE_URL": f"http://127.0.0.1:{args.port}",
    }
    server = common.Server("deskql", "deskql.server:create_app", env, tmp, port=args.port)
    server.start()
    try:
        run(args, server, token)
    finally:
        server.stop()


def run(args: argparse.Namespace, server: common.Server, token: str) -> None:
    base = f"http://127.0.0.1:{server.port}"
    pid = server.proc.pid if server.proc else 0
    with httpx.Client(base_url=base, timeout=600) as client:
        with_overview = PAGE % OVERVIEW
        without = PAGE % ""
        full_o, full_n = FULL_PAGE % OVERVIEW, FULL_PAGE % ""
        for _ in range(12):  # warm-up: every pooled connection prepares its statements
            for query in (DUPLICATES, with_overview, without, full_o, full_n):
                post(client, token, query, {"first": 100} if "$first" in query else None)
        dup, naive, page_o, page_n, fpage_o, fpage_n = [], [], [], [], [], []
        groups = 0
        for _ in range(args.rounds):
            elapsed, data = timed(lambda: post(client, token, DUPLICATES))
            dup.append(elapsed)
            assert len(data["contactDuplicates"]["nodes"]) == 20
            elapsed, groups = timed(lambda: asyncio.run(naive_duplicates(args.database_url)))
            naive.append(elapsed)
            for _ in range(5):  # the page is quick: five pairs a round
                elapsed, data = timed(lambda: post(client, token, with_overview, {"first": 100}))
                page_o.append(elapsed)
                assert data["contacts"]["nodes"][0]["overview"]["totalTickets"] >= 0
                elapsed, _ = timed(lambda: post(client, token, without, {"first": 100}))
                page_n.append(elapsed)
                elapsed, _ = timed(lambda: post(client, token, full_o, {"first": 100}))
                fpage_o.append(elapsed)
                elapsed, _ = timed(lambda: post(client, token, full_n, {"first": 100}))
                fpage_n.append(elapsed)
        d, r1 = statistics.median(dup), statistics.median(naive)
        print(f"\n1. contactDuplicates(field: EMAIL, first: 20), {args.rounds} rounds, medians")
        print(f"   DeskQL first page (HTTP, GROUP BY on email_key): {d * 1000:8.1f} ms")
        print(f"   (r1) read all + group in Python ({groups} groups):  {r1 * 1000:8.1f} ms")
        print(f"   ratio DeskQL / r1: {d / r1:.2f}x")

        exports, copies, peaks = [], [], []
        rows = 0
        for _ in range(max(1, args.rounds // 2)):
            url = post(client, token, EXPORT)["exportCreate"]["url"]
            before = rss_kib(pid)
            sampler = PeakSampler(pid)
            sampler.start()
            start = time.perf_counter()
            size = 0
            lines = 0
            with client.stream("GET", url.removeprefix(base)) as resp:
                assert resp.status_code == 200, resp.status_code
                for chunk in resp.iter_bytes():
                    size += len(chunk)
                    lines += chunk.count(b"\n")
            exports.append(time.perf_counter() - start)
            sampler.stop.set()
            sampler.join()
            peaks.append((before, sampler.peak))
            rows = lines - 1
            elapsed, _ = timed(lambda: asyncio.run(copy_csv(args.database_url)))
            copies.append(elapsed)
        e, r2 = statistics.median(exports), statistics.median(copies)
        before, peak = max(peaks, key=lambda p: p[1] - p[0])
        print(f"\n2. CSV export of all contacts ({rows} rows, {size / 1e6:.1f} MB)")
        print(f"   DeskQL GET (streamed):  {rows / e:10.0f} rows/s  ({e:.2f} s)")
        print(f"   (r2) PostgreSQL COPY:   {rows / r2:10.0f} rows/s  ({r2:.2f} s)")
        print(f"   ratio r2 / DeskQL time: {e / r2:.1f}x slower than COPY")
        print(
            f"   server RSS before {before / 1024:.0f} MiB, peak during download "
            f"{peak / 1024:.0f} MiB (+{(peak - before) / 1024:.1f} MiB)"
        )

        print("\n3. contacts(first: 100), medians")
        for label, a, b in (
            ("{ id name email }", page_o, page_n),
            ("the list's fields + account { id name }", fpage_o, fpage_n),
        ):
            o, n = statistics.median(a), statistics.median(b)
            print(f"   {label}:")
            print(f"     with overview:    {o * 1000:8.1f} ms")
            print(f"     without overview: {n * 1000:8.1f} ms")
            print(f"     ratio: {o / n:.2f}x (aim <= 1.5x)")


if __name__ == "__main__":
    main()
