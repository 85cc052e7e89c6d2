"""A record's comments and open activities, for the types that show them."""

from __future__ import annotations

from typing import Any

import strawberry

from deskql.resolvers.activities.common import _event, _task
from deskql.resolvers.common import page
from deskql.schema.connections import (
    Connection,
    Edge,
    PageInfo,
    check_first,
    decode_cursor,
    encode_cursor,
)
from deskql.schema.context import actor_of
from deskql.services.activities import events, tasks
from deskql.services.errors import PermissionDenied

# -- comments on records ---------------------------------------------------------------------


async def record_comments(
    info: strawberry.Info, type_name: str, pk: int, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`comments` of a contact, account, task, event or call, oldest first."""
    from deskql.schema.types import Comment
    from deskql.services import comments

    query = await comments.list_comments(actor_of(info), type_name=type_name, record_id=pk)
    return await page(info, query, first=first, after=after, convert=Comment.from_row)


# -- me.openActivities ---------------------------------------------------------------------


async def open_activities(
    info: strawberry.Info, agent_pk: int, *, first: int | None, after: str | None
) -> Connection[Any]:
    """`me.openActivities`: your open tasks (by due time, undated last) and your events not yet
    over (by start), merged into one list by their time."""
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied("openActivities is only available on `me`")
    size = check_first(first, info.context.settings.max_page_size)
    start = decode_cursor(after) + 1 if after else 0
    want = start + size + 1
    task_q = tasks.list_tasks(actor, owner_id=actor.agent_id, open_only=True)
    event_q = events.mine(actor).order_by("starts_at", "id")
    # Dated and undated tasks apart: backends disagree on where NULLs sort.
    task_rows = await task_q.filter(due_at__isnull=False).limit(want)
    task_rows += await task_q.filter(due_at__isnull=True).order_by("id").limit(want)
    event_rows = await event_q.limit(want)
    from deskql.services.activities.common import utc

    def key(item: tuple[str, Any]) -> tuple[int, float, int, int]:
        # Undated tasks sort after everything dated; at one time, tasks before events.
        kind, row = item
        when = utc(row.due_at if kind == "task" else row.starts_at)
        return (
            1 if when is None else 0,
            when.timestamp() if when is not None else 0.0,
            0 if kind == "task" else 1,
            row.id,
        )

    merged = sorted([("task", r) for r in task_rows] + [("event", r) for r in event_rows], key=key)
    window = merged[start : start + size + 1]
    has_next = len(window) > size
    edges = [
        Edge(
            cursor=encode_cursor(start + i),
            node=_task(row) if kind == "task" else _event(row),
        )
        for i, (kind, row) in enumerate(window[:size])
    ]

    class _Count:
        async def count(self) -> int:
            return await task_q.count() + await event_q.count()

    return Connection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=has_next,
            has_previous_page=start > 0,
            start_cursor=edges[0].cursor if edges else None,
            end_cursor=edges[-1].cursor if edges else None,
        ),
        count_query=_Count(),
    )
