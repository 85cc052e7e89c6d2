"""ticketMerge's service against a hand-written bulk move of the same rows, side by side.

    .venv/bin/python bench/merge_split.py                      # temporary SQLite database
    .venv/bin/python bench/merge_split.py --database-url \\
        postgres://postgres@127.0.0.1:5432/deskql_bench_merge --reset      # PostgreSQL

Each round seeds a fresh target and `--sources` duplicates (each with `--threads` threads,
half as many comments and attachments, 3 tags, 2 followers, a time entry, a timer, a task and
a draft), then runs either (0) services.merge_split.merge_tickets or (a) the floor: the
same moves as one UPDATE per table plus the ticket UPDATEs in one transaction, with no checks,
locks, tag/follower/timer rules or Activity rows. It prints the median wall time and SQL
statements of each and their ratio, at two sizes, to show that the statements of a merge do
not grow with the rows it moves. `--reset` DROPS and recreates the database named in the URL.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from common import measure  # noqa: E402  (bench/ is the script's folder)

from deskql import (
    db,  # noqa: E402
    models,  # noqa: E402
)
from deskql.models.enums import Role, ThreadDirection, TicketStatus  # noqa: E402
from deskql.services import auth, merge_split, organisation, uow  # noqa: E402
from deskql.settings import Settings  # noqa: E402


async def seed(
    dept: models.Department,
    agents: list[models.Agent],
    contact: models.Contact,
    *,
    n: int,
    rows: int,
) -> tuple[int, list[int]]:
    """A target and n sources with rows threads each (and the rest); their ids."""
    org = await models.Organisation.all().first()
    assert org is not None
    base = org.ticket_seq
    await models.Organisation.all().update(ticket_seq=base + n + 1)
    made = [
        await models.Ticket.create(
            number=base + i + 1, subject=f"Dup {i}", department_id=dept.id, contact_id=contact.id
        )
        for i in range(n + 1)
    ]
    target, sources = made[0], made[1:]
    tags = [(await models.Tag.get_or_create(name=f"tag{i}"))[0] for i in range(6)]
    threads = []
    for s in sources:
        for j in range(rows):
            threads.append(
                models.Thread(
                    ticket_id=s.id,
                    direction=ThreadDirection.INCOMING,
                    subject="Dup",
                    body_text="x" * 200,
                    message_id=f"<b-{s.id}-{j}@example.com>",
                )
            )
    await models.Thread.bulk_create(threads)
    await models.Comment.bulk_create(
        [models.Comment(ticket_id=s.id, body="same") for s in sources for _ in range(rows // 2)]
    )
    await models.Attachment.bulk_create(
        [
            models.Attachment(
                ticket_id=s.id, filename="a.txt", content_type="text/plain", size=1, sha256="0" * 64
            )
            for s in sources
            for _ in range(rows // 2)
        ]
    )
    await models.TicketTag.bulk_create(
        [
            models.TicketTag(ticket_id=s.id, tag_id=tags[(i + k) % 6].id)
            for i, s in enumerate(sources)
            for k in range(3)
        ]
    )
    await models.Follow.bulk_create(
        [
            models.Follow(agent_id=agents[(i + k) % len(agents)].id, ticket_id=s.id)
            for i, s in enumerate(sources)
            for k in range(2)
        ]
    )
    for i, s in enumerate(sources):
        agent = agents[i % len(agents)]
        await models.TimeEntry.create(agent_id=agent.id, ticket_id=s.id, seconds=60)
        await models.Timer.create(
            agent_id=agent.id, ticket_id=s.id, state=models.TimerState.PAUSED, accumulated_seconds=9
        )
        await models.Task.create(department_id=dept.id, ticket_id=s.id, title="Call")
        await models.Draft.create(ticket_id=s.id, author_id=agent.id, body_text="Hi")
    return target.id, [s.id for s in sources]


async def floor(target_id: int, source_ids: list[int]) -> None:
    """The same rows moved by hand: one UPDATE per table (a read, a DELETE and one INSERT for
    the tables with a unique key per ticket), no checks, no locks, no history."""
    async with uow.transaction():
        for model in (
            models.Thread,
            models.Comment,
            models.Attachment,
            models.TimeEntry,
            models.Task,
            models.Draft,
            models.InboundMessage,
        ):
            await model.filter(ticket_id__in=source_ids).update(ticket_id=target_id)
        for model, key in (
            (models.TicketTag, "tag_id"),
            (models.Follow, "agent_id"),
            (models.Timer, "agent_id"),
        ):
            keys = set(
                await model.filter(ticket_id__in=[target_id, *source_ids]).values_list(
                    key, flat=True
                )
            )
            have = set(await model.filter(ticket_id=target_id).values_list(key, flat=True))
            await model.filter(ticket_id__in=source_ids).delete()
            await model.bulk_create(
                [model(ticket_id=target_id, **{key: k}) for k in sorted(keys - have)]
            )
        await models.Ticket.filter(id__in=source_ids).update(
            status=TicketStatus.CLOSED, merged_into_id=target_id
        )


async def main(args: argparse.Namespace) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-merge-"))
    settings = Settings.from_env(var_dir=tmp, database_url=args.database_url or "")
    if args.reset and args.database_url:
        await db.recreate_postgres_database(args.database_url)
    auth.configure_hasher(1, 8192)
    await db.init_db(settings, migrate=True)
    await organisation.ensure_organisation(settings)
    dept = await organisation.create_department(None, name=f"Bench {time.time_ns()}")
    agents = [
        await organisation.create_agent(
            None,
            email=f"bench{i}-{time.time_ns()}@zylker.com",
            last_name=f"Bench{i}",
            role=Role.ADMINISTRATOR,
            department_ids=[dept.id],
            password="correct horse",
        )
        for i in range(4)
    ]
    actor = await auth.load_actor(agents[0].id)
    contact = await models.Contact.create(email=f"b{time.time_ns()}@example.com", last_name="B")
    print(f"database: {'PostgreSQL' if args.database_url else 'SQLite'}; {args.sources} sources")
    for rows in (args.threads // 5, args.threads):
        results: dict[str, list[tuple[float, int]]] = {"merge": [], "floor": []}
        for _ in range(args.rounds):
            for name in ("merge", "floor"):
                target, sources = await seed(dept, agents, contact, n=args.sources, rows=rows)
                if name == "merge":
                    call = merge_split.merge_tickets(actor, target_id=target, source_ids=sources)
                    results[name].append(await measure(call))
                else:
                    results[name].append(await measure(floor(target, sources)))
        merge_t = statistics.median(t for t, _ in results["merge"])
        floor_t = statistics.median(t for t, _ in results["floor"])
        merge_q = statistics.median(q for _, q in results["merge"])
        floor_q = statistics.median(q for _, q in results["floor"])
        moved = args.sources * (rows * 2 + 8)
        print(
            f"{rows:4d} threads per source ({moved} rows): merge {merge_t * 1000:7.1f} ms "
            f"{merge_q:4.0f} statements | floor {floor_t * 1000:7.1f} ms {floor_q:4.0f} statements"
            f" | ratio {merge_t / floor_t:4.1f}x time, {merge_q / floor_q:4.1f}x statements"
        )
    await db.close_db()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="")
    parser.add_argument("--reset", action="store_true")
    parser.add_argument("--sources", type=int, default=20)
    parser.add_argument("--threads", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=5)
    asyncio.run(main(parser.parse_args()))
