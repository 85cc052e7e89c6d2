"""Bulk assignment (TIC-2): `ticketAssign`'s service on N tickets beside hand-written floors, in
the same run, on the same database:

  (0) services.assignments.assign_tickets, 100 tickets per call (the API's limit): per ticket
      its own transaction, a locked re-read, the check, the UPDATE, the Activity row and the
      notification fan-out (the assignee is notified and auto-follows);
  (a) one bulk UPDATE of the same columns (the floor: no history, nobody told);
  (b) that bulk UPDATE plus one bulk INSERT of an Activity row per ticket (a set-based floor
      that still writes the history, without notifications).

Prints medians of wall time and SQL statements per round and the ratios (0)/(a) and (0)/(b).

    .venv/bin/python bench/assign_bulk.py                       # temporary SQLite database
    .venv/bin/python bench/assign_bulk.py --tickets 500 --rounds 3 \\
        --database-url postgres://postgres@127.0.0.1:5432/deskql_bench_assign   # DROPPED first
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common import measure  # noqa: E402  (bench/ is the script's folder)


async def bench(args: argparse.Namespace, var_dir: Path) -> None:
    from tortoise.expressions import F
    from tortoise.transactions import in_transaction

    from deskql import db, models
    from deskql.models.enums import Role
    from deskql.services import assignments, organisation
    from deskql.services.auth import load_actor
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=args.database_url or "")
    if not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    await db.init_db(settings, migrate=True)
    try:
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        agents = [
            await organisation.create_agent(
                None, email=f"a{i}@zylker.com", last_name=f"A{i}", department_ids=[dept.id]
            )
            for i in range(2)
        ]
        contact = await models.Contact.create(email="c@example.com", last_name="C")
        await models.Ticket.bulk_create(
            [
                models.Ticket(
                    number=i + 1, subject=f"T{i}", department_id=dept.id, contact_id=contact.id
                )
                for i in range(args.tickets)
            ]
        )
        ids = list(await models.Ticket.all().order_by("id").values_list("id", flat=True))
        actor = await load_actor(admin.id)

        async def service(agent_id: int) -> None:
            for i in range(0, len(ids), assignments.MAX_BULK_ASSIGN):
                results = await assignments.assign_tickets(
                    actor,
                    ticket_ids=ids[i : i + assignments.MAX_BULK_ASSIGN],
                    agent_id=agent_id,
                    team_id=None,
                )
                assert all(not r.errors for r in results)

        async def floor(agent_id: int) -> None:
            async with in_transaction():
                await models.Ticket.filter(id__in=ids).update(
                    assignee_agent_id=agent_id,
                    version=F("version") + 1,
                    updated_at=datetime.now(UTC),
                )

        async def floor_history(agent_id: int) -> None:
            async with in_transaction():
                await models.Ticket.filter(id__in=ids).update(
                    assignee_agent_id=agent_id,
                    version=F("version") + 1,
                    updated_at=datetime.now(UTC),
                )
                await models.Activity.bulk_create(
                    [
                        models.Activity(
                            kind="ticket.updated",
                            actor_id=admin.id,
                            subject_type="Ticket",
                            subject_id=pk,
                            ticket_id=pk,
                            department_id=dept.id,
                            changes={"assignee_agent_id": {"old": None, "new": agent_id}},
                        )
                        for pk in ids
                    ],
                    batch_size=500,
                )

        rows: dict[str, list[tuple[float, int]]] = {"service": [], "floor": [], "history": []}
        for round_no in range(args.rounds):
            # Alternate the assignee per round so that every service run changes every ticket.
            for name, run in (("service", service), ("floor", floor), ("history", floor_history)):
                agent = agents[round_no % 2]
                rows[name].append(await measure(run(agent.id)))
            for name in rows:
                print(
                    f"round {round_no + 1} {name:8s} {rows[name][-1][0] * 1000:9.1f} ms "
                    f"{rows[name][-1][1]:7d} statements"
                )

        def med(name: str, i: int) -> float:
            return statistics.median(r[i] for r in rows[name])

        backend = "SQLite" if settings.is_embedded_db else "PostgreSQL"
        print(f"\n{args.tickets} tickets, {args.rounds} rounds, {backend}; medians:")
        for name, label in (
            ("service", "(0) assign_tickets"),
            ("floor", "(a) bulk UPDATE"),
            ("history", "(b) bulk UPDATE + Activity rows"),
        ):
            print(f"  {label:34s} {med(name, 0) * 1000:9.1f} ms {med(name, 1):8.0f} statements")
        print(
            f"  ratio (0)/(a): {med('service', 0) / med('floor', 0):6.1f}x wall, "
            f"{med('service', 1) / med('floor', 1):6.1f}x statements"
        )
        print(
            f"  ratio (0)/(b): {med('service', 0) / med('history', 0):6.1f}x wall, "
            f"{med('service', 1) / med('history', 1):6.1f}x statements"
        )
        print(f"  per ticket (0): {med('service', 1) / args.tickets:.1f} statements")
    finally:
        await db.close_db()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--tickets", type=int, default=500)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--database-url", default="", help="PostgreSQL URL; its database is DROPPED and recreated"
    )
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="deskql-bench-assign-") as tmp:
        asyncio.run(bench(args, Path(tmp)))


if __name__ == "__main__":
    main()
