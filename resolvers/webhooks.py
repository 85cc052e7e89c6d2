"""Webhook resolvers: decode ids, call services.webhooks.manage, build payloads."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import strawberry

from deskql import models
from deskql.resolvers.common import given, mutate, page
from deskql.schema.connections import Connection
from deskql.schema.context import actor_of
from deskql.schema.ids import input_id
from deskql.services import policies
from deskql.services.webhooks import manage

if TYPE_CHECKING:
    from deskql.models.webhooks import DeliveryStatus
    from deskql.schema.webhooks import (
        Webhook,
        WebhookCreateInput,
        WebhookDeleteInput,
        WebhookDelivery,
        WebhookRedeliverInput,
        WebhookTestInput,
        WebhookUpdateInput,
    )


async def webhooks(
    info: strawberry.Info, *, first: int | None, after: str | None
) -> Connection[Webhook]:
    """`webhooks`."""
    from deskql.schema.webhooks import Webhook

    return await page(
        info,
        manage.list_webhooks(actor_of(info)),
        first=first,
        after=after,
        convert=Webhook.from_row,
    )


async def deliveries(
    info: strawberry.Info,
    *,
    webhook_id: int,
    status: DeliveryStatus | None,
    first: int | None,
    after: str | None,
) -> Connection[WebhookDelivery]:
    """`Webhook.deliveries`."""
    from deskql.schema.webhooks import WebhookDelivery

    return await page(
        info,
        manage.list_deliveries(actor_of(info), webhook_id=webhook_id, status=status),
        first=first,
        after=after,
        convert=WebhookDelivery.from_row,
    )


async def webhook_of(info: strawberry.Info, pk: int) -> Webhook | None:
    """`WebhookDelivery.webhook`."""
    from deskql.schema.webhooks import Webhook

    row = await policies.visible(actor_of(info), models.Webhook).filter(id=pk).first()
    return Webhook.from_row(row) if row else None


async def delivery_of(info: strawberry.Info, pk: int | None) -> WebhookDelivery | None:
    """`WebhookDelivery.redeliveryOf`."""
    from deskql.schema.webhooks import WebhookDelivery

    if pk is None:
        return None
    row = await policies.visible(actor_of(info), models.WebhookDelivery).filter(id=pk).first()
    return WebhookDelivery.from_row(row) if row else None


def _events(values: list[Any] | None) -> list[str]:
    return [v.value for v in values or []]


async def webhook_create(info: strawberry.Info, input: WebhookCreateInput) -> Any:
    """`webhookCreate`."""
    from deskql.schema.webhooks import Webhook, WebhookPayload

    async def run() -> dict[str, Any]:
        row = await manage.create_webhook(
            actor_of(info),
            settings=info.context.settings,
            url=input.url,
            events_=_events(input.events),
            secret=input.secret,
            description=input.description,
        )
        return {"webhook": Webhook.from_row(row)}

    return await mutate(WebhookPayload, run)


async def webhook_update(info: strawberry.Info, input: WebhookUpdateInput) -> Any:
    """`webhookUpdate`."""
    from deskql.schema.webhooks import Webhook, WebhookPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "Webhook", "id")
        changes = given(
            input,
            {
                "url": "url",
                "events": "events",
                "secret": "secret",
                "description": "description",
                "active": "is_active",
            },
        )
        if "events" in changes:
            changes["events"] = _events(changes["events"])
        row = await manage.update_webhook(
            actor_of(info), settings=info.context.settings, webhook_id=pk, changes=changes
        )
        return {"webhook": Webhook.from_row(row)}

    return await mutate(WebhookPayload, run)


async def webhook_delete(info: strawberry.Info, input: WebhookDeleteInput) -> Any:
    """`webhookDelete`."""
    from deskql.schema.webhooks import Webhook, WebhookPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "Webhook", "id")
        row = await manage.delete_webhook(actor_of(info), webhook_id=pk)
        return {"webhook": Webhook.from_row(row)}

    return await mutate(WebhookPayload, run)


async def webhook_test(info: strawberry.Info, input: WebhookTestInput) -> Any:
    """`webhookTest`."""
    from deskql.schema.webhooks import WebhookDelivery, WebhookDeliveryPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.id, "Webhook", "id")
        row = await manage.test_webhook(
            actor_of(info), settings=info.context.settings, webhook_id=pk
        )
        return {"delivery": WebhookDelivery.from_row(row)}

    return await mutate(WebhookDeliveryPayload, run)


async def webhook_redeliver(info: strawberry.Info, input: WebhookRedeliverInput) -> Any:
    """`webhookRedeliver`."""
    from deskql.schema.webhooks import WebhookDelivery, WebhookDeliveryPayload

    async def run() -> dict[str, Any]:
        pk = input_id(input.delivery_id, "WebhookDelivery", "deliveryId")
        row = await manage.redeliver(actor_of(info), delivery_id=pk)
        return {"delivery": WebhookDelivery.from_row(row)}

    return await mutate(WebhookDeliveryPayload, run)
