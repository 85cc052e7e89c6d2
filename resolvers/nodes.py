"""Node resolvers: one query per type named in the ids."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable
from functools import cache, partial
from typing import Any

import strawberry
from tortoise.queryset import QuerySet

from deskql import models
from deskql.schema.connections import COMPILING
from deskql.schema.context import actor_of
from deskql.schema.ids import InvalidId, from_global_id
from deskql.schema.types import CONVERTERS, Node, Organisation
from deskql.services import policies
from deskql.services.auth import Actor
from deskql.services.errors import ClientError

# Which rows of a type the actor may see, and how those rows become the GraphQL objects.
Rows = Callable[[Actor], QuerySet[Any]]
Convert = Callable[[strawberry.Info, Actor, list[Any]], Awaitable[list[Any]]]


def _each(convert: Callable[[Any], Any]) -> Convert:
    async def objects(info: strawberry.Info, actor: Actor, rows: list[Any]) -> list[Any]:
        return [convert(row) for row in rows]

    return objects


def _visible(model: type[Any]) -> Rows:
    return partial(policies.visible, model=model)


@cache
def _types() -> dict[str, tuple[Rows, Convert]]:
    """Every Node type by name: its rows the actor may see (policies.visible, or the rule of
    the service whose list shows them) and how they become objects."""
    from deskql.resolvers import customer_views as views_resolver
    from deskql.resolvers.outbound import to_from_address
    from deskql.resolvers.realtime import to_notifications
    from deskql.resolvers.time_tracking import to_entry, to_timer
    from deskql.schema.activities.types import Call, Event, Task
    from deskql.schema.email import InboundMessage, SupportAddress
    from deskql.schema.helpcenter import TicketRating
    from deskql.schema.kb_types import Article, ArticleCategory
    from deskql.schema.macros import Macro
    from deskql.schema.outbound import (
        Draft,
        EmailTemplate,
        OutgoingEmail,
        TemplateFolder,
        TicketTemplate,
    )
    from deskql.schema.webhooks import Webhook, WebhookDelivery
    from deskql.services import (
        customer_views,
        drafts,
        from_addresses,
        macros,
        templates,
        time_tracking,
    )
    from deskql.services import notifications as notes
    from deskql.services.activities import calls, events
    from deskql.services.kb import articles, categories

    async def from_address_objects(
        info: strawberry.Info, actor: Actor, rows: list[Any]
    ) -> list[Any]:
        return [to_from_address(info, row) for row in rows]  # with the server's SPF record

    async def notification_objects(
        info: strawberry.Info, actor: Actor, rows: list[Any]
    ) -> list[Any]:
        return list(await to_notifications(actor, rows))

    types: dict[str, tuple[Rows, Convert]] = {
        model.__name__: (_visible(model), _each(convert)) for model, convert in CONVERTERS.items()
    }
    types.update(
        {
            "Task": (_visible(models.Task), _each(Task.from_row)),
            "Event": (events.visible_events, _each(Event.from_row)),
            "Call": (calls.visible_calls, _each(Call.from_row)),
            "TimeEntry": (_visible(models.TimeEntry), _each(to_entry)),
            "OutgoingEmail": (_visible(models.OutboxMessage), _each(OutgoingEmail.from_row)),
            "SupportAddress": (_visible(models.SupportAddress), _each(SupportAddress.from_row)),
            "InboundMessage": (_visible(models.InboundMessage), _each(InboundMessage.from_row)),
            "Macro": (macros.list_macros, _each(Macro.from_row)),
            "Timer": (time_tracking.list_timers, _each(to_timer)),
            "Draft": (drafts.visible_drafts, _each(Draft.from_row)),
            "EmailTemplate": (templates.visible_templates, _each(EmailTemplate.from_row)),
            "TemplateFolder": (templates.visible_folders, _each(TemplateFolder.from_row)),
            "TicketTemplate": (
                templates.visible_ticket_templates,
                _each(TicketTemplate.from_row),
            ),
            "FromAddress": (from_addresses.list_from_addresses, from_address_objects),
            "Notification": (notes.list_notifications, notification_objects),
            "Webhook": (_visible(models.Webhook), _each(Webhook.from_row)),
            "WebhookDelivery": (_visible(models.WebhookDelivery), _each(WebhookDelivery.from_row)),
            "CustomerView": (customer_views.visible_views, _each(views_resolver.from_row)),
            "TicketRating": (_visible(models.TicketRating), _each(TicketRating.from_row)),
            "Article": (articles.visible_articles, _each(Article.from_row)),
            "ArticleCategory": (categories.visible_categories, _each(ArticleCategory.from_row)),
        }
    )
    return types


async def nodes(info: strawberry.Info, ids: list[str]) -> list[Node | None]:
    """`nodes(ids)`: null for ids that name nothing the actor may see."""
    actor = actor_of(info)
    if len(ids) > info.context.settings.max_page_size:
        raise ClientError(f"at most {info.context.settings.max_page_size} ids at once")
    types = _types()
    wanted: dict[str, list[int]] = defaultdict(list)
    keys: list[tuple[str, int]] = []
    for gid in ids:
        type_name, pk = from_global_id(gid)
        if type_name not in types:
            raise InvalidId(f"id {gid!r} names an unknown type {type_name!r}")
        wanted[type_name].append(pk)
        keys.append((type_name, pk))
    # On the compiled read path, objects of the types it names are read as its rows
    compiled = COMPILING.get()
    found: dict[tuple[str, int], Any] = {}
    for type_name, pks in wanted.items():
        visible, convert = types[type_name]
        query = visible(actor).filter(id__in=pks)
        fetch = compiled.of_type(type_name) if compiled is not None else None
        if fetch is not None and fetch.model is query.model:
            for row in await fetch.fetch(query):
                found[(type_name, row.id)] = row
            continue
        rows = await query
        for row, obj in zip(rows, await convert(info, actor, rows), strict=True):
            found[(type_name, row.pk)] = obj
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
