"""Macro benchmark: a macro with four actions (set status, set priority, add a tag, add a private
comment) applied to 1,000 tickets through `services.macros.apply_macro`, beside a hand-written
bulk write of the same changes, in one run.

    .venv/bin/python bench/macro_apply.py [--tickets 1000] [--rounds 5]
                                          [--database-url postgres://.../DB --reset]

(m) DeskQL: `apply_macro` as `macroApply` calls it: the macro's actions re-validated, the
    tickets locked and read with their tags, per-ticket plans in memory, grouped UPDATEs and
    bulk INSERTs (tags, comments, one `ticket.macro_applied` Activity per ticket), the run's
    summary Activity and its batched notifications, the real-time envelopes.
(f) the floor: one transaction with one hand-written `UPDATE ticket SET status, priority,
    version = version + 1, updated_at WHERE id IN (...)` and the same rows inserted in bulk
    (the tag links, the comments, one Activity per ticket), nothing validated or read.

Between measurements the tickets are put back (status, priority, tags, comments, activities),
so every round does the same work. Rounds alternate (m, f, m, f, ...); figures are medians.
SQL statements are counted from the `tortoise.db_client` logger, as tests/graphql/
test_n_plus_one.py does. An agent follows every ticket: the run must notify them once.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]

from common import measure  # noqa: E402  (bench/ is the script's folder)

ACTIONS = [
    {"type": "SET_STATUS", "status": "ON_HOLD"},
    {"type": "SET_PRIORITY", "priority": "HIGH"},
    {"type": "ADD_TAGS", "tags": ["billing"]},
    {"type": "ADD_COMMENT", "body": "Waiting for the invoice from {{contact.first_name}}."},
]


async def bench(args: argparse.Namespace, var_dir: Path) -> None:
    from deskql import db, models
    from deskql.models.enums import Role, TicketPriority, TicketStatus
    from deskql.services import auth, macros, organisation, uow
    from deskql.settings import Settings

    settings = Settings.from_env(var_dir=var_dir, database_url=args.database_url or "")
    if args.reset and not settings.is_embedded_db:
        await db.recreate_postgres_database(settings.db_url)
    auth.configure_hasher(1, 8192)
    await db.init_db(settings, migrate=True)
    try:
        if await models.Ticket.exists():
            raise SystemExit("the database already has tickets; pass --reset to recreate it")
        await organisation.ensure_organisation(settings)
        dept = await organisation.create_department(None, name="Support")
        admin = await organisation.create_agent(
            None, email="admin@zylker.com", last_name="Admin", role=Role.ADMINISTRATOR
        )
        watcher = await organisation.create_agent(
            None, email="watcher@zylker.com", last_name="Watcher", department_ids=[dept.id]
        )
        contact = await models.Contact.create(
            email="melissa@example.com", first_name="Melissa", last_name="Doe"
        )
        await models.Ticket.bulk_create(
            [
                models.Ticket(
                    number=i + 1,
                    subject=f"Invoice question {i}",
                    department_id=dept.id,
                    contact_id=contact.id,
                )
                for i in range(args.tickets)
            ]
        )
        ids = list(await models.Ticket.all().order_by("id").values_list("id", flat=True))
        await models.Follow.bulk_create(
            [models.Follow(agent_id=watcher.id, ticket_id=pk) for pk in ids]
        )
        actor = await auth.load_actor(admin.id)
        macro = await macros.create_macro(
            actor, department_id=dept.id, name="Hold for billing", actions=ACTIONS
        )
        mark = (await models.Activity.all().order_by("-id").first()).id  # type: ignore[union-attr]
        p = "?" if settings.is_embedded_db else "$"

        async def reset() -> None:
            await models.Ticket.all().update(
                status=TicketStatus.OPEN, priority=TicketPriority.MEDIUM
            )
            await models.TicketTag.all().delete()
            await models.Comment.all().delete()
            await models.Notification.all().delete()
            await models.Activity.filter(id__gt=mark).delete()
            await models.Ticket.all().update(version=1)

        async def run_macro() -> None:
            out = await macros.apply_macro(
                actor, settings=settings, macro_id=macro.id, ticket_ids=ids
            )
            assert all(r.applied for r in out.results)

        async def run_floor() -> None:
            from datetime import UTC, datetime

            now = datetime.now(UTC)
            marks = ", ".join(f"{p}{i + 5}" if p == "$" else "?" for i in range(len(ids)))
            first = [f"{p}{i}" if p == "$" else "?" for i in range(1, 5)]
            sql = (
                f"UPDATE ticket SET status = {first[0]}, priority = {first[1]}, "
                f"version = version + 1, updated_at = {first[2]} "
                f"WHERE department_id = {first[3]} AND id IN ({marks})"
            )
            stamp: Any = now.isoformat() if p == "?" else now
            async with uow.transaction() as conn:
                await conn.execute_query(sql, ["ON_HOLD", 3, stamp, dept.id, *ids])
                await models.Tag.bulk_create([models.Tag(name="billing")], ignore_conflicts=True)
                tag = await models.Tag.get(name="billing")
                await models.TicketTag.bulk_create(
                    [models.TicketTag(ticket_id=pk, tag_id=tag.id) for pk in ids]
                )
                await models.Comment.bulk_create(
                    [
                        models.Comment(
                            ticket_id=pk,
                            author_id=admin.id,
                            body="Waiting for the invoice from Melissa.",
                        )
                        for pk in ids
                    ]
                )
                await models.Activity.bulk_create(
                    [
                        models.Activity(
                            kind="ticket.macro_applied",
                            actor_id=admin.id,
                            subject_type="Ticket",
                            subject_id=pk,
                            ticket_id=pk,
                            contact_id=contact.id,
                            department_id=dept.id,
                            changes={
                                "macroId": macro.id,
                                "status": {"old": "OPEN", "new": "ON_HOLD"},
                                "priority": {"old": "MEDIUM", "new": "HIGH"},
                                "tags": {"added": ["billing"], "removed": []},
                            },
                        )
                        for pk in ids
                    ]
                )

        times: dict[str, list[float]] = {"macro": [], "floor": []}
        statements: dict[str, int] = {}
        checks: list[str] = []
        # Round 0 of each is a warm-up (caches, the connection pool) and is not counted.
        for round_no in range(args.rounds + 1):
            for name, run in (("macro", run_macro), ("floor", run_floor)):
                await reset()
                elapsed, count = await measure(run())
                if round_no:
                    times[name].append(elapsed)
                statements[name] = count
                if name == "macro":
                    per_ticket = await models.Activity.filter(kind="ticket.macro_applied").count()
                    notes = await models.Notification.filter(agent_id=watcher.id).count()
                    changed = await models.Ticket.filter(version=2, status="ON_HOLD").count()
                    checks.append(f"{per_ticket}/{notes}/{changed}")
        m, f = statistics.median(times["macro"]), statistics.median(times["floor"])
        backend = "SQLite" if settings.is_embedded_db else "PostgreSQL"
        print(f"macro_apply on {backend}: {args.tickets} tickets, 4 actions, {args.rounds} rounds")
        print(
            f"  (m) apply_macro      median {m * 1000:8.1f} ms   {statements['macro']:4d} SQL "
            f"statements   rounds {', '.join(f'{t * 1000:.0f}' for t in times['macro'])} ms"
        )
        print(
            f"  (f) bulk floor       median {f * 1000:8.1f} ms   {statements['floor']:4d} SQL "
            f"statements   rounds {', '.join(f'{t * 1000:.0f}' for t in times['floor'])} ms"
        )
        ratio = statements["macro"] / statements["floor"]
        print(f"  ratio m/f: {m / f:.2f}x wall time, {ratio:.1f}x statements")
        ok = all(c == f"{args.tickets}/1/{args.tickets}" for c in checks)
        print(
            f"  every run: {args.tickets} Activity rows (one per ticket), 1 notification for the "
            f"agent following all {args.tickets} tickets, every ticket changed: "
            f"{'yes' if ok else 'NO ' + ', '.join(checks)}"
        )
    finally:
        await db.close_db()


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", default="", help="PostgreSQL URL (default: temporary SQLite)")
    p.add_argument("--reset", action="store_true", help="drop and recreate --database-url")
    p.add_argument("--tickets", type=int, default=1000, help="tickets per run (default 1000)")
    p.add_argument("--rounds", type=int, default=5, help="measured rounds each (default 5)")
    args = p.parse_args(argv)
    var_dir = Path(tempfile.mkdtemp(prefix="deskql-bench-macro-"))
    try:
        asyncio.run(bench(args, var_dir))
    finally:
        shutil.rmtree(var_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
