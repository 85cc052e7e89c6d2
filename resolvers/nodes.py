"""Node resolvers: one query per type named in the ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from functools import cache, partial
from typing import Any

import strawberry
from tortoise.queryset import QuerySet

import models
from schema.context import actor_of
from schema.ids import InvalidId, from_global_id
from schema.types import CONVERTERS, Node, Organisation
from services import policies
from services.auth import Actor
from services.errors import ClientError

MODELS: dict[str, type] = {model.__name__: model for model in CONVERTERS}

Rows = Callable[[Actor], QuerySet[Any]]


@cache
def _more() -> dict[str, tuple[Rows, Callable[[Any], Node]]]:
    """Node types outside schema.types: the rows the actor may see (the services' own rule
    for listing them) and how a row becomes the object."""
    from resolvers.time_tracking import to_entry, to_timer
    from schema.macros import Macro, Task
    from schema.outbound import Draft, EmailTemplate, TemplateFolder, TicketTemplate
    from services import drafts, macros, templates, time_tracking

    return {
        "Macro": (macros.list_macros, Macro.from_row),
        "Task": (policies.visible_tasks, Task.from_row),
        "TimeEntry": (policies.visible_time_entries, to_entry),
        "Timer": (time_tracking.list_timers, to_timer),
        "Draft": (drafts.visible_drafts, Draft.from_row),
        "EmailTemplate": (templates.visible_templates, EmailTemplate.from_row),
        "TemplateFolder": (templates.visible_folders, TemplateFolder.from_row),
        "TicketTemplate": (templates.visible_ticket_templates, TicketTemplate.from_row),
    }


async def nodes(info: strawberry.Info, ids: list[str]) -> list[Node | None]:
    """`nodes(ids)`: null for ids that name nothing the actor may see."""
    actor = actor_of(info)
    if len(ids) > info.context.settings.max_page_size:
        raise ClientError(f"at most {info.context.settings.max_page_size} ids at once")
    wanted: dict[str, list[int]] = defaultdict(list)
    keys: list[tuple[str, int]] = []
    for gid in ids:
        type_name, pk = from_global_id(gid)
        if type_name not in MODELS and type_name not in _more():
            raise InvalidId(f"id {gid!r} names an unknown type {type_name!r}")
        wanted[type_name].append(pk)
        keys.append((type_name, pk))
    found: dict[tuple[str, int], Node] = {}
    for type_name, pks in wanted.items():
        model = MODELS.get(type_name)
        if model is not None:
            rows, convert = partial(policies.visible, model=model), CONVERTERS[model]
        else:
            rows, convert = _more()[type_name]
        for row in await rows(actor).filter(id__in=pks):
            found[(type_name, row.pk)] = convert(row)
    return [found.get(key) for key in keys]


async def node(info: strawberry.Info, id: str) -> Node | None:
    """`node(id)`."""
    return (await nodes(info, [id]))[0]


async def organisation(info: strawberry.Info) -> Organisation:
    """`organisation`."""
    actor_of(info)
    row = await models.Organisation.first()
    assert row is not None, "the organisation is created on start"
    return Organisation.from_row(row, info.context.settings.mail_domain)
