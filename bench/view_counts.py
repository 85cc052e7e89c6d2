"""Ticket view counts (SRC-5): the counts `ticketViews` shows, in one SQL statement, beside
one COUNT statement per view, measured side by side in one run.

    .venv/bin/python bench/view_counts.py [--database-url postgres://.../NAME --reset]
                                          [--tickets 5000] [--views 10] [--rounds 7]

Seeds a temporary SQLite database (or the PostgreSQL database given, which `--reset` drops and
recreates: it is required, as a guard against naming a database you care about)
with `--tickets` tickets in two departments (bulk inserts: the seed is not what is measured)
and `--views` saved views for an agent of one department, then counts the 9 standard views and
the saved ones as that agent: (1) `services.views.count_views`, all counts as scalar subqueries
of one SELECT; (2) the same counts as one `COUNT` per view, awaited in turn. Rounds alternate
(1, 2, 1, 2, ...); the figures are medians.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]


async def main(args: argparse.Namespace) -> None:
    from deskql import db, models
    from deskql.models.enums import TicketPriority, TicketStatus
    from deskql.services import auth, organisation
    from deskql.services import views as svc
    from deskql.services.tickets import TicketFilter
    from deskql.settings import Settings

    var_dir = Path(tempfile.mkdtemp(prefix="deskql-bench-views-"))
    settings = Settings.from_env(var_dir=var_dir, database_url=args.database_url or "")
    if not settings.is_embedded_db:
        if not args.reset:
            raise SystemExit("--reset is required with --database-url: the database is dropped")
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        await organisation.ensure_organisation(settings)
        sales = await organisation.create_department(None, name="Sales")
        support = await organisation.create_department(None, name="Support")
        agent = await organisation.create_agent(
            None, email="alice@zylker.com", last_name="Alice", department_ids=[support.id]
        )
        team = await models.Team.create(name="Printers", department=support)
        await models.TeamMembership.create(team=team, agent=agent)
        contact = await models.Contact.create(
            email="melissa@example.com", first_name="Melissa", last_name="Doe"
        )
        now = datetime.now(UTC)
        statuses, priorities = list(TicketStatus), list(TicketPriority)
        rows = [
            models.Ticket(
                number=i,
                subject=f"Problem number {i}",
                department=support if i % 2 else sales,
                contact=contact,
                status=statuses[i % len(statuses)],
                priority=priorities[i % len(priorities)],
                assignee_agent=agent if i % 5 == 1 else None,
                assignee_team=team if i % 5 == 3 else None,
                due_at=now + timedelta(days=(i % 7) - 3),
                is_spam=i % 50 == 0,
            )
            for i in range(1, args.tickets + 1)
        ]
        await models.Ticket.bulk_create(rows, batch_size=1000)
        ids = await models.Ticket.filter(number__lte=args.tickets // 10).values_list(
            "id", flat=True
        )
        await models.Follow.bulk_create([models.Follow(agent=agent, ticket_id=pk) for pk in ids])
        actor = await auth.load_actor(agent.id)
        for i in range(args.views):
            await svc.create_view(
                actor,
                name=f"View {i}",
                flt=TicketFilter(
                    priorities=[priorities[i % len(priorities)]],
                    statuses=[statuses[i % len(statuses)]],
                    text=f"number {i}",
                ),
            )
        views = await svc.list_views(actor)

        async def combined() -> dict[str, int]:
            return await svc.count_views(actor, views)

        async def one_per_view() -> dict[str, int]:
            return {v.key: await svc.view_tickets(actor, view=v).count() for v in views}

        assert await combined() == await one_per_view(), "the two ways disagree"
        times: dict[str, list[float]] = {"combined": [], "per_view": []}
        for _ in range(args.rounds):
            for name, run in (("combined", combined), ("per_view", one_per_view)):
                start = time.perf_counter()
                await run()
                times[name].append(time.perf_counter() - start)
        one = statistics.median(times["combined"]) * 1000
        many = statistics.median(times["per_view"]) * 1000
        backend = "SQLite" if settings.is_embedded_db else "PostgreSQL"
        print(
            f"{backend}, {args.tickets} tickets, {len(views)} views ({args.views} saved), "
            f"median of {args.rounds} rounds:\n"
            f"  one statement for all counts: {one:8.2f} ms\n"
            f"  one COUNT per view ({len(views)}):   {many:8.2f} ms\n"
            f"  ratio per-view / combined:    {many / one:8.2f}x"
        )
    finally:
        await db.close_db()
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the database")
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--views", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=7)
    asyncio.run(main(parser.parse_args()))
