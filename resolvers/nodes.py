"""Node resolvers: one query per type named in the ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
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

# The objects of one type among the given pks that the actor may see, as (pk, object).
Load = Callable[[strawberry.Info, Actor, list[int]], Awaitable[list[tuple[int, Any]]]]


def _rows(rows: Callable[[Actor], QuerySet[Any]], convert: Callable[..., Any]) -> Load:
    """A type fetched with the rule of the list that shows it: `rows(actor)`."""

    async def load(info: strawberry.Info, actor: Actor, pks: list[int]) -> list[tuple[int, Any]]:
        return [(row.pk, convert(row)) for row in await rows(actor).filter(id__in=pks)]

    return load


def _admins_only(model: type[Any]) -> Callable[[Actor], QuerySet[Any]]:
    def rows(actor: Actor) -> QuerySet[Any]:
        # As their lists: administrators only; anyone else finds nothing (null, not an error).
        return model.all() if actor.is_admin else model.filter(id__in=[])

    return rows


@cache
def _loaders() -> dict[str, Load]:
    """Every Node type by name, with how its visible objects are loaded."""
    from resolvers.outbound import _from_address
    from resolvers.realtime import to_notifications
    from resolvers.time_tracking import to_entry, to_timer
    from schema.email import InboundMessage, SupportAddress
    from schema.macros import Macro, Task
    from schema.outbound import Draft, EmailTemplate, OutgoingEmail, TemplateFolder, TicketTemplate
    from services import drafts, from_addresses, macros, outbox, templates, time_tracking
    from services import notifications as notes

    async def from_address(
        info: strawberry.Info, actor: Actor, pks: list[int]
    ) -> list[tuple[int, Any]]:
        rows = await from_addresses.list_from_addresses(actor).filter(id__in=pks)
        return [(row.pk, _from_address(info, row)) for row in rows]

    async def notification(
        info: strawberry.Info, actor: Actor, pks: list[int]
    ) -> list[tuple[int, Any]]:
        rows = await notes.list_notifications(actor).filter(id__in=pks)
        objects = await to_notifications(actor, rows)
        return [(row.pk, obj) for row, obj in zip(rows, objects, strict=True)]

    loaders: dict[str, Load] = {
        model.__name__: _rows(partial(policies.visible, model=model), convert)
        for model, convert in CONVERTERS.items()
    }
    loaders.update(
        {
            "Macro": _rows(macros.list_macros, Macro.from_row),
            "Task": _rows(policies.visible_tasks, Task.from_row),
            "TimeEntry": _rows(policies.visible_time_entries, to_entry),
            "Timer": _rows(time_tracking.list_timers, to_timer),
            "Draft": _rows(drafts.visible_drafts, Draft.from_row),
            "EmailTemplate": _rows(templates.visible_templates, EmailTemplate.from_row),
            "TemplateFolder": _rows(templates.visible_folders, TemplateFolder.from_row),
            "TicketTemplate": _rows(templates.visible_ticket_templates, TicketTemplate.from_row),
            "SupportAddress": _rows(_admins_only(models.SupportAddress), SupportAddress.from_row),
            "InboundMessage": _rows(_admins_only(models.InboundMessage), InboundMessage.from_row),
            "OutgoingEmail": _rows(outbox.visible_outgoing, OutgoingEmail.from_row),
            "FromAddress": from_address,
            "Notification": notification,
        }
    )
    return loaders


async def nodes(info: strawberry.Info, ids: list[str]) -> list[Node | None]:
    """`nodes(ids)`: null for ids that name nothing the actor may see."""
    actor = actor_of(info)
    if len(ids) > info.context.settings.max_page_size:
        raise ClientError(f"at most {info.context.settings.max_page_size} ids at once")
    loaders = _loaders()
    wanted: dict[str, list[int]] = defaultdict(list)
    keys: list[tuple[str, int]] = []
    for gid in ids:
        type_name, pk = from_global_id(gid)
        if type_name not in loaders:
            raise InvalidId(f"id {gid!r} names an unknown type {type_name!r}")
        wanted[type_name].append(pk)
        keys.append((type_name, pk))
    found: dict[tuple[str, int], Node] = {}
    for type_name, pks in wanted.items():
        for pk, obj in await loaders[type_name](info, actor, pks):
            found[(type_name, pk)] = obj
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
