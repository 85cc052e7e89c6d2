"""Reminder firing benchmark (ACT-1): `--reminders` task reminders due within the same minute,
delivered by two DeskQL server processes sharing one PostgreSQL database.

    .venv/bin/python bench/reminders.py \
        --database-url postgres://postgres@127.0.0.1:5432/deskql_activities [--reminders 1000]

The database is DROPPED and recreated. Seeding writes a department, 20 agents and the tasks
with their PENDING reminder rows (bulk inserts), due at random moments of the minute that
starts --lead seconds later (time for the servers to start). Two `deskql` server processes
(uvicorn, memory:// broadcast, ports 8245-8246) then run their reminder workers. When every
reminder is SENT (or --timeout passes) the servers stop and the run checks: exactly one
`task.reminder` Activity row and one REMINDER notification per task, each reminder SENT once,
which process delivered how many, and the lateness (notification written minus due time):
median, p99 and max, beside the workers' poll interval (their reference: a worker that only
polled would be up to one interval late).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path[:0] = [str(BENCH.parent), str(BENCH)]


async def seed(settings: Any, count: int, lead: float) -> datetime:
    from deskql import db, models
    from deskql.models.enums import Role
    from deskql.services import organisation

    await db.recreate_postgres_database(settings.database_url)
    await db.init_db(settings, migrate=True)
    await organisation.ensure_organisation(settings)
    dept = await organisation.create_department(None, name="Support")
    agents = []
    for i in range(20):
        agents.append(
            await organisation.create_agent(
                None,
                email=f"agent{i}@bench.example",
                last_name=f"Agent {i}",
                role=Role.AGENT,
                department_ids=[dept.id],
                password=None,
            )
        )
    contact = await models.Contact.create(last_name="Customer")
    start = datetime.now(UTC) + timedelta(seconds=lead)
    rng = random.Random(11)
    due = [start + timedelta(seconds=rng.uniform(0, 60)) for _ in range(count)]
    await models.Task.bulk_create(
        [
            models.Task(
                department_id=dept.id,
                contact_id=contact.id,
                title=f"Reminder {i}",
                assignee_id=agents[i % len(agents)].id,
                reminder_at=due[i],
            )
            for i in range(count)
        ],
        batch_size=500,
    )
    tasks = await models.Task.all().order_by("id").values_list("id", "reminder_at")
    await models.Reminder.bulk_create(
        [models.Reminder(task_id=pk, remind_at=at) for pk, at in tasks], batch_size=500
    )
    await db.close_db()
    return start


async def pending(settings: Any) -> int:
    from deskql import db, models

    await db.init_db(settings)
    try:
        return await models.Reminder.filter(status="PENDING").count()
    finally:
        await db.close_db()


async def verify(settings: Any) -> dict[str, Any]:
    from tortoise.functions import Count

    from deskql import db, models

    await db.init_db(settings)
    try:
        per_task = (
            await models.Activity.filter(kind="task.reminder")
            .group_by("subject_id")
            .annotate(n=Count("id"))
            .values_list("subject_id", "n")
        )
        notes = await models.Notification.filter(reason="REMINDER").values_list(
            "activity__subject_id", "created_at"
        )
        due = dict(await models.Reminder.all().values_list("task_id", "remind_at"))
        by_process: dict[str, int] = {}
        for name in await models.Reminder.filter(status="SENT").values_list("fired_by", flat=True):
            process = name.split("#")[0]
            by_process[process] = by_process.get(process, 0) + 1
        late = sorted((at - due[task]).total_seconds() for task, at in notes)
        return {
            "tasks": await models.Task.all().count(),
            "sent": await models.Reminder.filter(status="SENT").count(),
            "activities": sum(n for _, n in per_task),
            "tasks_reminded_more_than_once": sum(1 for _, n in per_task if n > 1),
            "notifications": len(notes),
            "by_process": by_process,
            "late": late,
        }
    finally:
        await db.close_db()


def main() -> None:
    from common import Server

    from deskql.settings import Settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/deskql_activities"
    )
    parser.add_argument("--reminders", type=int, default=1000)
    parser.add_argument("--lead", type=float, default=20.0)
    parser.add_argument("--interval-ms", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=180.0)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        sys.exit("two server processes need PostgreSQL (--database-url postgres://...)")
    tmp = Path(tempfile.mkdtemp(prefix="deskql-bench-rem-"))
    settings = Settings.from_env(var_dir=tmp, database_url=args.database_url)
    start = asyncio.run(seed(settings, args.reminders, args.lead))
    env = {
        "DESKQL_VAR_DIR": str(tmp),
        "DESKQL_DATABASE_URL": args.database_url,
        "DESKQL_BROADCAST_URL": "memory://",
        "DESKQL_SMTP_ENABLED": "false",
        "DESKQL_AUTO_MIGRATE": "false",
        "DESKQL_REMINDER_INTERVAL_MS": str(args.interval_ms),
    }
    servers = [
        Server(f"deskql-{i}", "deskql.server:create_app", env, tmp, port=8245 + i) for i in (0, 1)
    ]
    try:
        for server in servers:
            server.start()
        print(
            f"{args.reminders} reminders due between {start:%H:%M:%S} and "
            f"{start + timedelta(seconds=60):%H:%M:%S} UTC; two server processes"
        )
        deadline = time.monotonic() + args.lead + 60 + args.timeout
        while time.monotonic() < deadline:
            left = asyncio.run(pending(settings))
            if left == 0 and datetime.now(UTC) > start + timedelta(seconds=60):
                break
            time.sleep(2)
    finally:
        for server in servers:
            server.stop()
    out = asyncio.run(verify(settings))
    if out["tasks_reminded_more_than_once"] == 0:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"server logs kept in {tmp}")
    late = out.pop("late")
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))] if late else float("nan")
    print(
        f"sent {out['sent']} of {out['tasks']}; task.reminder activities {out['activities']} "
        f"(tasks reminded twice: {out['tasks_reminded_more_than_once']}); REMINDER "
        f"notifications {out['notifications']}"
    )
    print(f"delivered per process: {out['by_process']}")
    if late:
        print(
            f"lateness: median {statistics.median(late) * 1000:.0f} ms, p99 {p99 * 1000:.0f} ms, "
            f"max {late[-1] * 1000:.0f} ms; poll interval {args.interval_ms} ms: p99 / interval "
            f"= {p99 * 1000 / args.interval_ms:.2f}"
        )
    ok = (
        out["sent"] == out["tasks"] == out["activities"] == out["notifications"] == args.reminders
        and out["tasks_reminded_more_than_once"] == 0
    )
    print("OK: each reminder fired exactly once" if ok else "FAILED")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
