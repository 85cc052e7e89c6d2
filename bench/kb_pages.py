"""Public knowledge-base pages: GET /kb/articles/{permalink} against a bare Starlette HTML route.

Seeds 1,000 published PUBLIC articles through the services (one of them renamed 20 times, so
it has 20 old permalinks), then serves, each with uvicorn in its own process:

  (0) DeskQL: GET /kb/articles/<current permalink> of the renamed article (a 200 page: the
      lookup, the view count UPDATE, the rendered body from the cache, the Jinja2 template);
  (r) DeskQL: GET /kb/articles/<its oldest permalink>: the 301 straight to the current one;
  (a) bare Starlette: a route returning the very HTML page (0) returned, prebuilt (the floor).

DeskQL keeps rendered answers in memory for `kb_page_cache_ms` (5 s by default; web/kb.py):
with the default, the rounds measure pages served from that cache (one per article, renewed
every 5 s); `--page-cache-ms 0` measures every request through the database and the template.

Rounds are interleaved (0, r, a, 0, r, a, ...) from bench/loadgen.py in its own process.
Prints requests per second and p50/p99 of each, (0)/(a) (aim >= 0.25) and the 301's latency
relative to the page's (aim <= 1.2).

  .venv/bin/python bench/kb_pages.py                      # temporary SQLite database
  .venv/bin/python bench/kb_pages.py --reset \
      --database-url postgres://postgres@127.0.0.1:5432/deskql_bench_kb
"""

from __future__ import annotations

import argparse
import asyncio
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

BODY = (
    "## What happened\n\nThe printer stops with **error E-{n}** after a few pages.\n\n"
    "## Steps\n\n1. Open cover A.\n2. Remove the jammed paper.\n3. Close the cover.\n\n"
    "| Model | Fix |\n|---|---|\n| Z-100 | firmware 2.1 |\n| Z-200 | firmware 3.4 |\n\n"
    "```\nreset --printer z-{n}\n```\n\n> Still stuck? Contact support.\n"
)


async def seed(database_url: str, var_dir: Path, articles: int, renames: int, reset: bool) -> str:
    """The articles, through the services; returns the renamed article's oldest permalink."""
    from deskql import db, models
    from deskql.models.enums import Role
    from deskql.models.kb import ArticleVisibility
    from deskql.services import auth, organisation
    from deskql.services.kb import articles as svc
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=database_url)
    if reset and not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        if await models.Article.exists():
            raise SystemExit("the database already has articles; pass --reset")
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        actor = await auth.load_actor(admin.id)
        first = None
        for n in range(articles):
            row = await svc.create_article(
                actor,
                title=f"Printer error E-{n} after a few pages",
                department_id=dept.id,
                body=BODY.format(n=n),
                summary=f"What error E-{n} means and how to clear it.",
                visibility=ArticleVisibility.PUBLIC,
                tags=["printer"],
            )
            await svc.publish_article(actor, article_id=row.id)
            if first is None:
                first = row
        assert first is not None
        oldest = first.permalink
        for i in range(renames):
            await svc.update_article(
                actor, article_id=first.id, changes={"permalink": f"printer-jam-guide-v{i + 2}"}
            )
        return oldest
    finally:
        await db.close_db()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: SQLite file)")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--articles", type=int, default=1000, help="published articles (1000)")
    p.add_argument("--renames", type=int, default=20, help="old permalinks of one (20)")
    p.add_argument("--concurrency", type=int, default=8, help="connections (default 8)")
    p.add_argument("--rounds", type=int, default=5, help="rounds per target (default 5)")
    p.add_argument("--duration", type=float, default=4.0, help="seconds per round (default 4)")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds (default 2)")
    p.add_argument("--max-requests", type=int, default=100_000, help="cap per round")
    p.add_argument(
        "--page-cache-ms",
        type=int,
        default=None,
        help="DESKQL_KB_PAGE_CACHE_MS for (0) and (r): 0 measures every request answered\n"
        "from the database and the template (default: the setting's default, 5000)",
    )
    args = p.parse_args(argv)
    if args.reset and not args.database_url:
        p.error("--reset only applies to --database-url")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    began = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-kb-"))
    servers: list[common.Server] = []
    try:
        where = args.database_url or f"SQLite in {tmp}"
        print(f"seeding {args.articles} articles ({args.renames} renames of one) into {where}")
        oldest = asyncio.run(seed(args.database_url, tmp, args.articles, args.renames, args.reset))
        env = {
            "DESKQL_VAR_DIR": str(tmp),
            "DESKQL_DATABASE_URL": args.database_url,
            "DESKQL_SMTP_ENABLED": "false",
        }
        if args.page_cache_ms is not None:
            env["DESKQL_KB_PAGE_CACHE_MS"] = str(args.page_cache_ms)
        deskql = common.Server("0-page", "deskql.server:create_app", env, tmp)
        servers.append(deskql)
        deskql.start()
        base = f"http://{common.HOST}:{deskql.port}"
        moved = httpx.get(f"{base}/kb/articles/{oldest}", follow_redirects=False, timeout=30)
        if moved.status_code != 301:
            raise SystemExit(f"expected a 301 for {oldest}, got {moved.status_code}")
        current_path = moved.headers["location"]
        page = httpx.get(f"{base}{current_path}", timeout=30)
        page.raise_for_status()
        if "<title>" not in page.text or 'rel="canonical"' not in page.text:
            raise SystemExit("the article page lacks its title or canonical link")
        (tmp / "page.html").write_bytes(page.content)
        bare = common.Server(
            "a-bare",
            "apps:bare_html_app",
            {"DESKQL_BENCH_DOCUMENT": str(tmp / "page.html")},
            tmp,
            app_dir=BENCH,
        )
        servers.append(bare)
        bare.start()
        floor = httpx.get(f"http://{common.HOST}:{bare.port}{current_path}", timeout=30)
        if floor.content != page.content:
            raise SystemExit("the bare route does not serve DeskQL's page")
        print(
            f"page {current_path}: {len(page.content):,} bytes; the oldest permalink /kb/articles/"
            f"{oldest} answers 301 to it; (a) serves the same bytes"
        )
        # (r) is the same process as (0), asked for the old permalink.
        redirect = common.Server("r-301", "deskql.server:create_app", env, tmp)
        redirect.port, redirect.proc = deskql.port, deskql.proc
        targets: list[tuple[common.Server, str, int, int]] = [
            (deskql, current_path, 200, len(page.content)),
            (redirect, f"/kb/articles/{oldest}", 301, len(moved.content)),
            (bare, current_path, 200, len(page.content)),
        ]

        def one_round(target: tuple[common.Server, str, int, int], seconds: float) -> Any:
            server, path, status, length = target
            return common.load(
                server,
                body="",
                headers={},
                concurrency=args.concurrency,
                duration=seconds,
                max_requests=args.max_requests,
                expected_length=length,
                path=path,
                method="GET",
                expected_status=status,
            )

        for target in targets:
            one_round(target, args.warmup)
        rounds: dict[str, list[dict[str, Any]]] = {t[0].name: [] for t in targets}
        for r in range(args.rounds):
            line = []
            for target in targets:
                result = one_round(target, args.duration)
                rounds[target[0].name].append(result)
                line.append(f"{target[0].name} {result['rps']:7.0f}/s")
            print(f"round {r + 1}: " + "   ".join(line))
        report(args, rounds)
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total time {time.monotonic() - began:.0f} s")


def report(args: argparse.Namespace, rounds: dict[str, list[dict[str, Any]]]) -> None:
    labels = {
        "0-page": "(0) DeskQL article page (200)",
        "r-301": "(r) DeskQL old permalink (301)",
        "a-bare": "(a) bare Starlette, prebuilt HTML",
    }
    print()
    print(
        f"medians of {args.rounds} rounds x {args.duration:g} s, {args.concurrency} connections, "
        f"{args.articles} articles, {'PostgreSQL' if args.database_url else 'SQLite'}, page "
        f"cache {'default' if args.page_cache_ms is None else f'{args.page_cache_ms} ms'}"
    )
    print(f"{'':36} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'CPU ms':>8} {'requests':>9}")
    med: dict[str, dict[str, float]] = {}
    for name, rs in rounds.items():
        med[name] = {
            k: common.median_of(rs, k) for k in ("rps", "p50_ms", "p99_ms", "cpu_ms", "requests")
        }
        m = med[name]
        print(
            f"{labels[name]:36} {m['rps']:8.0f} {m['p50_ms']:8.2f} {m['p99_ms']:8.2f} "
            f"{m['cpu_ms']:8.2f} {sum(r['requests'] for r in rs):9d}"
        )
    zero, moved, bare = med["0-page"], med["r-301"], med["a-bare"]
    print()
    print(f"(0)/(a) throughput ratio: {zero['rps'] / bare['rps']:.3f}   (aim >= 0.25)")
    print(f"(0)/(a) p99 ratio:        {zero['p99_ms'] / bare['p99_ms']:.2f}")
    print(
        f"(r)/(0) 301 vs page time: p50 {moved['p50_ms'] / zero['p50_ms']:.2f}, "
        f"p99 {moved['p99_ms'] / zero['p99_ms']:.2f}   (aim <= 1.2)"
    )


if __name__ == "__main__":
    main()
