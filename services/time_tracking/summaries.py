"""Time and cost summed per ticket (`ticket_summaries`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tortoise.functions import Sum

from deskql import models


@dataclass(frozen=True)
class TimeSummary:
    """Totals of a ticket's time entries."""

    total_seconds: int = 0
    billable_seconds: int = 0
    cost_cents: int = 0


async def ticket_summaries(ticket_ids: list[int]) -> dict[int, TimeSummary]:
    """Totals per ticket, in two grouped queries for any number of tickets (callers check
    that the tickets are visible)."""
    if not ticket_ids:
        return {}
    totals: dict[int, list[int]] = {pk: [0, 0, 0] for pk in ticket_ids}

    def add(rows: list[dict[str, Any]], key: str) -> None:
        for row in rows:
            slot = totals[row[key]]
            slot[1 if row["is_billable"] else 0] += row["seconds_sum"] or 0
            slot[2] += row["cost"] or 0

    direct = (
        await models.TimeEntry.filter(ticket_id__in=ticket_ids)
        .annotate(seconds_sum=Sum("seconds"), cost=Sum("cost_cents"))
        .group_by("ticket_id", "is_billable")
        .values("ticket_id", "is_billable", "seconds_sum", "cost")
    )
    add(direct, "ticket_id")
    on_tasks = (
        await models.TimeEntry.filter(task__ticket_id__in=ticket_ids)
        .annotate(seconds_sum=Sum("seconds"), cost=Sum("cost_cents"))
        .group_by("task__ticket_id", "is_billable")
        .values("task__ticket_id", "is_billable", "seconds_sum", "cost")
    )
    add(on_tasks, "task__ticket_id")
    return {
        pk: TimeSummary(
            total_seconds=non_billable + billable, billable_seconds=billable, cost_cents=cost
        )
        for pk, (non_billable, billable, cost) in totals.items()
    }
