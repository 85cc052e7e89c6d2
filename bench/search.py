"""Search (issue 14): `search` with facets and `searchSuggest` against a plain ILIKE scan.

    .venv/bin/python bench/search.py --tickets 2000 --contacts 1000          # SQLite
    .venv/bin/python bench/search.py --tickets 100000 --contacts 20000 \\
        --database-url postgres://postgres@127.0.0.1:5432/deskql_bench_search --reset

1. Seeds the database in bulk (rows written with executemany / COPY, not through the
   services: 100,000 tickets through the services would take hours): 2 departments, an
   agent of one of them (searches run as that agent, so ORG-5 is in every statement), tickets
   with a subject, a description and 3 threads/comments each (two emails and a comment) of
   generated text, 70% English, 20% Polish (with diacritics), 10% Chinese (no spaces), words
   drawn with a Zipf law from vocabularies; 1-2 tags per ticket; 5% spam; contacts with
   English and Polish names.
2. Builds the index with the code of migration 0011 (services.search.index.build_all), timed.
3. Starts DeskQL (`server:create_app`) and the reference (`bench/search_apps.py:ilike_app`:
   the same matches as a `ILIKE '%word%'` scan over tickets, threads, comments and contacts,
   newest first, page of 20 + total; no facets) as uvicorn processes, and drives both with
   bench/loadgen.py (8 keep-alive connections) over HTTP, one round per query word,
   interleaved (DeskQL, reference, DeskQL, ...).
   `--modes index` drives only the reference, with its bare `COUNT(*)` of each word's
   visible matches through the index (no ranking, facets or GraphQL): the floor of any
   search that counts its matches exactly, on this machine, at the same concurrency.
4. Prints p50/p99 per query and overall (the median of the rounds' p50 and the largest p99),
   and the ratio reference/DeskQL.

Articles: --articles knowledge-base articles (5 paragraphs each) are seeded and indexed too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import common  # noqa: E402
from search_seed import seed  # noqa: E402

SEARCHES = [  # from common to rare; the output shows how many records each matches
    "printer",
    "refund",
    "melting",
    "warranty",
    "zolty",
    "lancuch",
    "工单",
    "登录",
    "invoice payment",
    '"paper jam"',
    "timeout",
    "kowalski",
]
SUGGESTS = ["pr", "mel", "zo", "war", "luk", "工", "kow", "inv"]

SEARCH_Q = """query($q: String!) { search(query: $q, first: 20) { totalCount
  facets { field values { value count } }
  edges { node { module score title snippet node { id } } } } }"""
SEARCH_PLAIN_Q = """query($q: String!) { search(query: $q, first: 20) { totalCount
  edges { node { module score title snippet node { id } } } } }"""
SUGGEST_Q = """query($p: String!) { searchSuggest(prefix: $p, first: 10) {
  module title snippet node { id } } }"""
FLOOR_Q = "{ __typename }"  # the fixed cost of an authenticated GraphQL request


def check(server: common.Server, body: str, headers: dict[str, str]) -> dict[str, Any]:
    """POST a body once; its JSON answer (exits on an error)."""
    resp = httpx.post(
        f"http://{common.HOST}:{server.port}/graphql",
        content=body,
        headers={"Content-Type": "application/json", **headers},
        timeout=60,
    )
    data = resp.json()
    if resp.status_code != 200 or data.get("errors"):
        raise SystemExit(f"{server.name} answered {resp.status_code}: {resp.text[:500]}")
    return data


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite)")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument(
        "--reuse",
        action="store_true",
        help="measure a database seeded before (--database-url, --sqlite-file); migrates first",
    )
    p.add_argument("--sqlite-file", default="", help="SQLite file to seed or --reuse")
    p.add_argument(
        "--modes",
        default="search,facets,suggest",
        help="what to measure: search (no facets), facets (search with facets), suggest, "
        "floor ({ __typename } with the token: the fixed cost of a request), index (the bare "
        "COUNT(*) of each word's visible matches through the index, no ranking, facets or "
        "GraphQL: the floor of any exact count, beside the ILIKE scan)",
    )
    p.add_argument("--only", default="", help="comma-separated words to measure (default all)")
    p.add_argument("--tickets", type=int, default=2000)
    p.add_argument("--contacts", type=int, default=1000)
    p.add_argument("--articles", type=int, default=100)
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--duration", type=float, default=3.0, help="seconds per round (default 3)")
    args = p.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-search-"))
    servers: list[common.Server] = []
    url = args.database_url or (
        f"sqlite://{Path(args.sqlite_file).resolve()}" if args.sqlite_file else ""
    )
    try:
        token, depts = asyncio.run(
            seed(url, tmp, args.tickets, args.contacts, args.articles, args.reset, args.reuse)
        )
        db_url = url or f"sqlite://{tmp / 'deskql.sqlite3'}"
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": url,
            "DESKQL_SMTP_ENABLED": "false",
        }
        deskql = common.Server("0-deskql", "deskql.server:create_app", env, tmp)
        ref = common.Server(
            "r-ilike",
            "search_apps:ilike_app",
            {"DESKQL_BENCH_DB": db_url, "DESKQL_BENCH_DEPTS": ",".join(map(str, depts))},
            tmp,
            app_dir=BENCH,
        )
        for s in (deskql, ref):
            servers.append(s)
            s.start()
        print(
            "load average (1, 5, 15 min) at the start: "
            + ", ".join(f"{x:.2f}" for x in os.getloadavg()),
            flush=True,
        )
        headers = {"Authorization": f"Bearer {token}"}
        modes = [m for m in args.modes.split(",") if m]
        only = {w for w in args.only.split(",") if w}
        results: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {
            m: [] for m in modes if m != "floor"
        }
        kw = dict(
            concurrency=args.concurrency,
            duration=args.duration,
            max_requests=100000,
            expected_length=None,
        )
        for mode in modes:
            if mode == "floor":
                body = json.dumps({"query": FLOOR_Q})
                check(deskql, body, headers)
                ours = common.load(deskql, body=body, headers=headers, **kw)
                print(
                    f"floor    {FLOOR_Q!r:18}                DeskQL p50 {ours['p50_ms']:7.1f} "
                    f"p99 {ours['p99_ms']:7.1f} ms, {ours['cpu_ms']:.2f} ms CPU a request",
                    flush=True,
                )
                continue
            words = SUGGESTS if mode == "suggest" else SEARCHES
            for word in words:
                if only and word not in only:
                    continue
                if mode == "index":  # the bare count of the reference, not DeskQL
                    body = json.dumps({"mode": "count", "text": word})
                    total = check(ref, body, {})["hits"][0]["total"]
                    server, sent, who = ref, {}, "COUNT(*)"
                elif mode != "suggest":
                    q = SEARCH_Q if mode == "facets" else SEARCH_PLAIN_Q
                    body = json.dumps({"query": q, "variables": {"q": word}})
                    total = check(deskql, body, headers)["data"]["search"]["totalCount"]
                    server, sent, who = deskql, headers, "DeskQL"
                else:
                    body = json.dumps({"query": SUGGEST_Q, "variables": {"p": word}})
                    total = len(check(deskql, body, headers)["data"]["searchSuggest"])
                    server, sent, who = deskql, headers, "DeskQL"
                ref_mode = "suggest" if mode == "suggest" else "search"
                ref_body = json.dumps({"mode": ref_mode, "text": word.strip('"')})
                check(ref, ref_body, {})
                ours = common.load(server, body=body, headers=sent, **kw)
                theirs = common.load(ref, body=ref_body, headers={}, **kw)
                results[mode].append((word, ours, theirs))
                cpu = f" (DeskQL {ours['cpu_ms']:.1f} ms CPU a request)" if server is deskql else ""
                print(
                    f"{mode:8} {word!r:18} matches {total:>7,}  {who} p50 {ours['p50_ms']:7.1f} "
                    f"p99 {ours['p99_ms']:7.1f} ms | ILIKE p50 {theirs['p50_ms']:8.1f} "
                    f"p99 {theirs['p99_ms']:8.1f} ms | "
                    f"ratio p50 {theirs['p50_ms'] / ours['p50_ms']:6.1f}x{cpu}",
                    flush=True,
                )
        print()
        print(
            "load average (1, 5, 15 min) at the end: "
            + ", ".join(f"{x:.2f}" for x in os.getloadavg())
        )
        for mode, rows in results.items():
            if not rows:
                continue
            ours_p50 = statistics.median(r[1]["p50_ms"] for r in rows)
            ours_p99 = max(r[1]["p99_ms"] for r in rows)
            ref_p50 = statistics.median(r[2]["p50_ms"] for r in rows)
            ref_p99 = max(r[2]["p99_ms"] for r in rows)
            who = "index COUNT(*)" if mode == "index" else "DeskQL"
            print(
                f"{mode}: {who} p50 {ours_p50:.1f} ms, worst p99 {ours_p99:.1f} ms; ILIKE scan "
                f"p50 {ref_p50:.1f} ms, worst p99 {ref_p99:.1f} ms; ratio of medians "
                f"{ref_p50 / ours_p50:.1f}x (median of per-query ratios "
                f"{statistics.median(r[2]['p50_ms'] / r[1]['p50_ms'] for r in rows):.1f}x)"
            )
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
