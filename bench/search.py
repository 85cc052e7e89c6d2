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
4. Prints p50/p99 per query and overall (the median of the rounds' p50 and the largest p99),
   and the ratio reference/DeskQL.

Articles: --articles knowledge-base articles (5 paragraphs each) are seeded and indexed too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))
sys.path.insert(0, str(BENCH))

import common  # noqa: E402

FUNCTION = (
    "the to and a of i it is in you that for my on we this have be with not are can your "
    "was at as but our me from so if or do an all they will would please there what when "
    "has no been just one get also about any out up how which still again now"
).split()
EN = (
    "order invoice printer login password account refund payment delivery "
    "shipping error broken screen update install version server email support customer "
    "ticket issue problem help please thanks urgent request question billing subscription "
    "cancel upgrade mobile app android iphone browser chrome firefox network wifi router "
    "cable battery charger warranty replacement return damaged missing package tracking "
    "label address phone call meeting schedule report export import data backup restore "
    "database slow crash freeze reboot settings profile avatar notification alert sync "
    "calendar contact list file upload download attachment pdf spreadsheet document scanner "
    "toner paper jam cartridge ink melting frozen overheating noise vibration leak water "
    "discount coupon voucher price quote contract renewal license key activation trial "
    "demo training manual guide documentation feature bug regression performance latency "
    "timeout outage maintenance migration integration webhook token certificate domain dns"
).split()
PL = (
    "żółty rower zamówienie faktura drukarka hasło konto zwrot płatność dostawa przesyłka "
    "błąd ekran aktualizacja serwer pomoc proszę dziękuję pilne pytanie rachunek łańcuch "
    "opona koło gwarancja wymiana uszkodzony brakujący paczka śledzenie adres telefon "
    "spotkanie raport kopia zapasowa wolny zawieszenie ustawienia powiadomienie kalendarz "
    "plik załącznik dokument skaner papier tusz źdźbło gęś jaźń żółw ćma łódź śnieg mąka"
).split()
ZH = (
    "工单 系统 登录 密码 账户 退款 支付 配送 错误 屏幕 更新 服务器 邮件 客户 问题 帮助 "
    "谢谢 紧急 请求 订阅 取消 升级 手机 应用 网络 路由器 电池 保修 更换 包裹 地址 电话 "
    "会议 报告 数据 备份 恢复 数据库 缓慢 崩溃 设置 通知 日历 文件 上传 下载 附件 打印机"
).split()
FIRST = (
    "Melissa Anna Jan Zofia Łukasz Małgorzata Piotr Ewa Michael Sarah David Emma Jakub "
    "Wiktoria Tomasz Ślęzak Żaneta Ola Liam Noah"
).split()
LAST = (
    "Kowalski Nowak Wiśniewska Wójcik Kamińska Lewandowski Zieliński Szymańska Smith Jones "
    "Brown Taylor Łukasiewicz Żak Śliwa Melton Meller Baker Clark Lee"
).split()
TAGS = [
    "billing",
    "printer",
    "urgent",
    "vip",
    "refund",
    "login",
    "mobile",
    "invoice",
    "outage",
    "rower",
]

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


def _tail(rng: random.Random, n: int, syllables: list[str]) -> list[str]:
    """Word-like tail vocabulary (names, products, rare words): real text has thousands of
    rare words, and a search box usually asks for one of them."""
    out: set[str] = set()
    while len(out) < n:
        out.add("".join(rng.choice(syllables) for _ in range(rng.randint(2, 4))))
    return sorted(out)


_R = random.Random(1414)
EN_SYL = "ba ce di fo gu ka le mi no pu ra se ti vo wu ex an or ing er ton mar pel sun".split()
PL_SYL = "ża ło ść ki rz cz dź ą ę ó ń wy pr zy gr mo ta ko sz".split()
VOCAB = {
    # Function words first, the support vocabulary next, then a long tail: Zipf ranks.
    "en": FUNCTION + EN + _tail(_R, 15000, EN_SYL),
    "pl": ["i", "w", "nie", "na", "się", "to", "jest", "że", "z", "do"]
    + PL
    + _tail(_R, 8000, PL_SYL),
    "zh": ZH + ["".join(_R.sample(ZH, 1)[0][0] + _R.sample(ZH, 1)[0][1]) for _ in range(2000)],
}
CUMULATIVE = {
    k: list(itertools.accumulate(1 / (i + 1) for i in range(len(v)))) for k, v in VOCAB.items()
}


def zipf(lang: str, rng: random.Random, n: int) -> list[str]:
    return rng.choices(VOCAB[lang], cum_weights=CUMULATIVE[lang], k=n)


def sentence(rng: random.Random, n: int) -> str:
    r = rng.random()
    if r < 0.1:
        return "".join(zipf("zh", rng, n // 2))  # Chinese: no spaces
    words = zipf("pl" if r < 0.3 else "en", rng, n)
    return " ".join(words).capitalize() + "."


def stamp(dt: datetime, pg: bool) -> Any:
    return dt if pg else dt.isoformat(sep=" ")


async def seed(
    url: str,
    var_dir: Path,
    n_tickets: int,
    n_contacts: int,
    n_articles: int,
    reset: bool,
    reuse: bool = False,
) -> tuple[str, list[int]]:
    """Bulk rows; returns an agent's token and their department ids (with `reuse`, a fresh
    token for the agent of a database seeded before, after applying pending migrations)."""
    from deskql import db, models
    from deskql.models.enums import TokenKind
    from deskql.services import auth, organisation
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=url)
    if reset and not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    pg = not settings.is_embedded_db
    try:
        if reuse and await models.Ticket.exists():
            agent = await models.Agent.get(email="agent@zylker.com")
            _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="bench")
            dept = await models.Department.get(name="Support")
            print(f"reusing the seeded database: {await models.Ticket.all().count():,} tickets")
            return token, [dept.id]
        if await models.Ticket.exists():
            raise SystemExit("the database already has tickets; pass --reset or --reuse")
        await organisation.ensure_organisation(settings)
        depts = [await organisation.create_department(None, name=n) for n in ("Sales", "Support")]
        agent = await organisation.create_agent(
            None, email="agent@zylker.com", last_name="Agent", department_ids=[depts[1].id]
        )
        _, token = await auth.issue_token(agent_id=agent.id, kind=TokenKind.API, name="bench")
        rng = random.Random(14)
        now = datetime.now(UTC)
        contacts, tickets, threads, comments, tags, links = [], [], [], [], [], []
        for i in range(1, n_contacts + 1):
            first, last = rng.choice(FIRST), rng.choice(LAST)
            t = stamp(now - timedelta(minutes=i), pg)
            contacts.append((i, first, last, f"c{i}@example.com", "", "", "", "", t, t))
        for i, name in enumerate(TAGS, start=1):
            tags.append((i, name, stamp(now, pg)))
        for i in range(1, n_tickets + 1):
            t = stamp(now - timedelta(minutes=i), pg)
            spam = rng.random() < 0.05
            tickets.append(
                (
                    i,
                    i,
                    sentence(rng, rng.randint(3, 7))[:255],
                    sentence(rng, rng.randint(20, 50)),
                    "OPEN" if i % 3 else "CLOSED",
                    1 + i % 4,
                    "EMAIL" if i % 2 else "WEB",
                    depts[i % 2].id,
                    1 + i % max(1, n_contacts),
                    spam,
                    1,
                    t,
                    t,
                )
            )
            for _ in range(2):
                threads.append(
                    (
                        len(threads) + 1,
                        i,
                        "INCOMING",
                        "EMAIL",
                        True,
                        f"c{i}@example.com",
                        "",
                        "",
                        "",
                        sentence(rng, rng.randint(20, 70)),
                        "",
                        "",
                        "",
                        t,
                    )
                )
            comments.append((len(comments) + 1, i, sentence(rng, rng.randint(10, 40)), False, t, t))
            for tag in rng.sample(range(1, len(TAGS) + 1), rng.randint(1, 2)):
                links.append((len(links) + 1, i, tag, t))
        articles = []
        for i in range(1, n_articles + 1):
            t = stamp(now - timedelta(hours=i), pg)
            body = " ".join(sentence(rng, rng.randint(20, 60)) for _ in range(5))
            articles.append(
                (
                    i,
                    sentence(rng, rng.randint(3, 6))[:255],
                    body,
                    "",
                    depts[i % 2].id,
                    "PUBLISHED",
                    "PUBLIC",
                    f"article-{i}",
                    0,
                    0,
                    0,
                    t,
                    t,
                )
            )
        tables = [
            (
                "contact",
                [
                    "id",
                    "first_name",
                    "last_name",
                    "email",
                    "secondary_email",
                    "phone",
                    "mobile",
                    "description",
                    "created_at",
                    "updated_at",
                ],
                contacts,
            ),
            ("tag", ["id", "name", "created_at"], tags),
            (
                "ticket",
                [
                    "id",
                    "number",
                    "subject",
                    "description",
                    "status",
                    "priority",
                    "channel",
                    "department_id",
                    "contact_id",
                    "is_spam",
                    "version",
                    "created_at",
                    "updated_at",
                ],
                tickets,
            ),
            (
                "thread",
                [
                    "id",
                    "ticket_id",
                    "direction",
                    "channel",
                    "is_public",
                    "from_address",
                    "to_addresses",
                    "cc_addresses",
                    "subject",
                    "body_text",
                    "body_html",
                    "in_reply_to",
                    "references",
                    "created_at",
                ],
                threads,
            ),
            (
                "comment",
                ["id", "ticket_id", "body", "is_public", "created_at", "updated_at"],
                comments,
            ),
            ("ticket_tag", ["id", "ticket_id", "tag_id", "created_at"], links),
            (
                "article",
                [
                    "id",
                    "title",
                    "body",
                    "summary",
                    "department_id",
                    "status",
                    "visibility",
                    "permalink",
                    "view_count",
                    "helpful_count",
                    "not_helpful_count",
                    "created_at",
                    "updated_at",
                ],
                articles,
            ),
        ]
        started = time.perf_counter()
        if pg:
            import asyncpg

            conn = await asyncpg.connect(
                url.replace("postgres://", "postgresql://", 1).split("?")[0]
            )
            try:
                for table, cols, rows in tables:
                    await conn.copy_records_to_table(table, records=rows, columns=cols)
                    await conn.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT MAX(id) FROM {table}))"
                    )
                await conn.execute("ANALYZE")
            finally:
                await conn.close()
        else:
            import sqlite3

            raw = sqlite3.connect(
                url.split("://", 1)[1] if url else str(var_dir / "deskql.sqlite3")
            )
            for table, cols, rows in tables:
                quoted = ", ".join(f'"{c}"' for c in cols)
                raw.executemany(
                    f'INSERT INTO "{table}" ({quoted}) VALUES ({", ".join("?" for _ in cols)})',
                    rows,
                )
            raw.commit()
            raw.close()
        print(
            f"seeded {len(articles):,} articles, {len(tickets):,} tickets, "
            f"{len(threads) + len(comments):,} threads and "
            f"comments, {len(contacts):,} contacts in {time.perf_counter() - started:.1f} s"
        )
        from deskql.services.search import index

        started = time.perf_counter()
        from deskql.services import uow

        async with uow.transaction() as conn:
            total = await index.build_all(index.Source(conn), batch=1000)
        took = time.perf_counter() - started
        print(
            f"indexed {total:,} records in {took:.1f} s ({total / took:,.0f}/s) "
            "with the code of migration 0011"
        )
        if pg:
            from tortoise.connection import get_connection

            await get_connection("default").execute_script("ANALYZE search_doc")
        return token, [depts[1].id]
    finally:
        await db.close_db()


def check(server: common.Server, body: str, headers: dict[str, str]) -> dict[str, Any]:
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
        help="what to measure: search (no facets), facets (search with facets), suggest",
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
        headers = {"Authorization": f"Bearer {token}"}
        modes = [m for m in args.modes.split(",") if m]
        only = {w for w in args.only.split(",") if w}
        results: dict[str, list[tuple[str, dict[str, Any], dict[str, Any]]]] = {
            m: [] for m in modes
        }
        for mode in modes:
            words = SUGGESTS if mode == "suggest" else SEARCHES
            for word in words:
                if only and word not in only:
                    continue
                if mode != "suggest":
                    q = SEARCH_Q if mode == "facets" else SEARCH_PLAIN_Q
                    body = json.dumps({"query": q, "variables": {"q": word}})
                    total = check(deskql, body, headers)["data"]["search"]["totalCount"]
                else:
                    body = json.dumps({"query": SUGGEST_Q, "variables": {"p": word}})
                    total = len(check(deskql, body, headers)["data"]["searchSuggest"])
                ref_mode = "suggest" if mode == "suggest" else "search"
                ref_body = json.dumps({"mode": ref_mode, "text": word.strip('"')})
                check(ref, ref_body, {})
                kw = dict(
                    concurrency=args.concurrency,
                    duration=args.duration,
                    max_requests=100000,
                    expected_length=None,
                )
                ours = common.load(deskql, body=body, headers=headers, **kw)
                theirs = common.load(ref, body=ref_body, headers={}, **kw)
                results[mode].append((word, ours, theirs))
                print(
                    f"{mode:8} {word!r:18} matches {total:>7,}  DeskQL p50 {ours['p50_ms']:7.1f} "
                    f"p99 {ours['p99_ms']:7.1f} ms | ILIKE p50 {theirs['p50_ms']:8.1f} "
                    f"p99 {theirs['p99_ms']:8.1f} ms | "
                    f"ratio p50 {theirs['p50_ms'] / ours['p50_ms']:6.1f}x",
                    flush=True,
                )
        print()
        for mode, rows in results.items():
            if not rows:
                continue
            ours_p50 = statistics.median(r[1]["p50_ms"] for r in rows)
            ours_p99 = max(r[1]["p99_ms"] for r in rows)
            ref_p50 = statistics.median(r[2]["p50_ms"] for r in rows)
            ref_p99 = max(r[2]["p99_ms"] for r in rows)
            print(
                f"{mode}: DeskQL p50 {ours_p50:.1f} ms, worst p99 {ours_p99:.1f} ms; ILIKE scan "
                f"p50 {ref_p50:.1f} ms, worst p99 {ref_p99:.1f} ms; ratio of medians "
                f"{ref_p50 / ours_p50:.1f}x (median of per-query ratios "
                f"{statistics.median(r[2]['p50_ms'] / r[1]['p50_ms'] for r in rows):.1f}x)"
            )
    finally:
        for s in servers:
            s.stop()


if __name__ == "__main__":
    main()
