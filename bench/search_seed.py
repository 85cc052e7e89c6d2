"""Seeding bench/search.py's database in bulk (executemany / COPY, not through the services)
and building the search index with the code of migration 0011."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from search_corpus import FIRST, LAST, TAGS, sentence, stamp


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
