"""A record's comments and open activities, for the types that show them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import strawberry

from deskql.resolvers.activities.common import _event, _task
from deskql.resolvers.common import page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.loaded_pages import list_page, own_key, with_nodes
from deskql.schema.page_request import PageRequest
from deskql.services.activities import events, tasks
from deskql.services.errors import PermissionDenied
from deskql.services.sort_keys import epoch_micros

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
    over (by start), merged into one list by their time; at one time, tasks before events.
    Pages by keyset on (undated, time, kind, id) (schema/loaded_pages.py)."""
    actor = actor_of(info)
    if agent_pk != actor.agent_id:
        raise PermissionDenied("openActivities is only available on `me`")
    task_q = tasks.list_tasks(actor, owner_id=actor.agent_id, open_only=True)
    event_q = events.mine(actor)
    keys = sorted(
        [_key(due, TASK, pk) for pk, due in await task_q.values_list("id", "due_at")]
        + [_key(start, EVENT, pk) for pk, start in await event_q.values_list("id", "starts_at")]
    )
    result = list_page(
        keys, PageRequest.of(info, first, after), key=own_key, sort="undated,time,kind,id"
    )
    chosen = [edge.node for edge in result.edges]
    task_rows = {r.id: r for r in await task_q.filter(id__in=_ids(chosen, TASK))}
    event_rows = {r.id: r for r in await event_q.filter(id__in=_ids(chosen, EVENT))}
    nodes = [
        _convert(task_rows.get(pk), _task) if kind == TASK else _convert(event_rows.get(pk), _event)
        for *_, kind, pk in chosen
    ]
    return with_nodes(result, nodes)


TASK, EVENT = 0, 1


def _key(when: datetime | None, kind: int, pk: int) -> tuple[int, int, int, int]:
    # Undated tasks sort after everything dated.
    return (1, 0, kind, pk) if when is None else (0, epoch_micros(when), kind, pk)


def _ids(keys: list[tuple[int, int, int, int]], kind: int) -> list[int]:
    return [pk for *_, each, pk in keys if each == kind]


def _convert(row: Any, build: Any) -> Any:
    return None if row is None else build(row)
