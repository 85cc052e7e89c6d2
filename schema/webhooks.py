"""Outbound webhooks for integrators (administrators only): subscriptions, their delivery log,
test pings and redelivery. How deliveries are signed: README.md, "Webhooks"."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.resolvers import webhooks as r
from deskql.schema.connections import Connection
from deskql.schema.errors import MutationError
from deskql.schema.ids import to_global_id
from deskql.schema.permissions import IsAdmin
from deskql.schema.types import Node


@strawberry.enum(description="An event a webhook may subscribe to; the body's `type`.")
class WebhookEvent(Enum):
    TICKET_CREATED = strawberry.enum_value(
        "ticket.created", description="A ticket was created (by an agent, an email, ...)."
    )
    TICKET_UPDATED = strawberry.enum_value(
        "ticket.updated",
        description="A ticket's fields or tags changed (also by a macro); `changes` says which.",
    )
    TICKET_ASSIGNED = strawberry.enum_value(
        "ticket.assigned",
        description="A ticket got another assignee agent or team (sent besides ticket.updated), "
        "or was created with one.",
    )
    THREAD_ADDED = strawberry.enum_value(
        "thread.added", description="A thread (reply, incoming email, ...) was added to a ticket."
    )
    COMMENT_ADDED = strawberry.enum_value(
        "comment.added", description="A private comment was added to a ticket."
    )
    CONTACT_CREATED = strawberry.enum_value("contact.created", description="A contact was created.")
    CONTACT_UPDATED = strawberry.enum_value(
        "contact.updated", description="A contact's fields changed."
    )
    TICKET_RATED = strawberry.enum_value(
        "ticket.rated",
        description="A customer rated a closed ticket or changed the rating; the body carries "
        "`data.rating`.",
    )


strawberry.enum(
    DeliveryStatus,
    description="QUEUED: waiting for its (next) attempt; SENDING: being sent; DELIVERED: the "
    "endpoint answered 2xx; FAILED: out of attempts, or interrupted (redeliver it).",
)

FirstArg = Annotated[
    int | None, strawberry.argument(description="Page size, 0 to 100 (default 20).")
]
AfterArg = Annotated[
    str | None, strawberry.argument(description="Cursor of the item after which the page starts.")
]


@strawberry.type(
    description="An integrator's endpoint: every subscribed event is POSTed to it as JSON, "
    "signed with its secret (header X-DeskQL-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "
    '"<t>.<body>">). Administrators only.'
)
class Webhook(Node):
    url: str = strawberry.field(description="Where the events are POSTed (http or https).")
    events: list[WebhookEvent] = strawberry.field(description="The events it subscribes to.")
    description: str = strawberry.field(description="What it is for, for people.")
    active: bool = strawberry.field(
        description="False: switched off (by an administrator, or after repeated failures); "
        "events are not queued for it meanwhile."
    )
    disabled_reason: str = strawberry.field(
        description="Why it was switched off automatically; empty otherwise."
    )
    consecutive_failures: int = strawberry.field(
        description="Failed attempts in a row (a success resets it); while above zero the "
        "endpoint gets one delivery at a time until one succeeds."
    )
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="When it was last changed.")
    pk: strawberry.Private[int]

    @classmethod
    def from_row(cls, row: models.Webhook) -> Webhook:
        """Build from a database row."""
        return cls(
            id=strawberry.ID(to_global_id("Webhook", row.id)),
            url=row.url,
            events=[WebhookEvent(name) for name in row.events or [] if _known(name)],
            description=row.description,
            active=row.is_active,
            disabled_reason=row.disabled_reason,
            consecutive_failures=row.consecutive_failures,
            created_at=row.created_at,
            updated_at=row.updated_at,
            pk=row.id,
        )

    @strawberry.field(description="Its deliveries, newest first: the delivery log.")
    async def deliveries(
        self,
        info: strawberry.Info,
        status: Annotated[
            DeliveryStatus | None, strawberry.argument(description="Only this status.")
        ] = None,
        first: FirstArg = None,
        after: AfterArg = None,
    ) -> Connection[WebhookDelivery]:
        return await r.deliveries(info, webhook_id=self.pk, status=status, first=first, after=after)


def _known(name: str) -> bool:
    return name in {e.value for e in WebhookEvent}


@strawberry.type(description="One event sent (or to send) to one webhook, and how it went.")
class WebhookDelivery(Node):
    event: str = strawberry.field(
        description='The event\'s type: a WebhookEvent value such as "ticket.created", or '
        '"ping" for webhookTest.'
    )
    event_id: str = strawberry.field(
        description="The event's id (header X-DeskQL-Event-Id), the same in redeliveries: "
        "receivers de-duplicate by it."
    )
    status: DeliveryStatus = strawberry.field(description="Where it stands.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    response_code: int | None = strawberry.field(
        description="HTTP status of the last attempt's answer; null: no answer (refused target, "
        "timeout, connection error)."
    )
    response_body: str = strawberry.field(description="The start (1 KB) of the last answer.")
    error: str = strawberry.field(description="Why the last attempt failed; empty: it did not.")
    duration_ms: int | None = strawberry.field(description="How long the last attempt took.")
    body: str = strawberry.field(description="The JSON body sent, the same in every attempt.")
    created_at: datetime = strawberry.field(description="When it was queued.")
    next_attempt_at: datetime | None = strawberry.field(
        description="When it is (re)tried, while QUEUED."
    )
    delivered_at: datetime | None = strawberry.field(description="When the endpoint took it.")
    webhook_pk: strawberry.Private[int]
    redelivery_of_pk: strawberry.Private[int | None]

    @classmethod
    def from_row(cls, row: models.WebhookDelivery) -> WebhookDelivery:
        """Build from a database row."""
        queued = row.status is DeliveryStatus.QUEUED
        return cls(
            id=strawberry.ID(to_global_id("WebhookDelivery", row.id)),
            event=row.event,
            event_id=row.event_id,
            status=row.status,
            attempts=row.attempts,
            response_code=row.response_code,
            response_body=row.response_body,
            error=row.last_error,
            duration_ms=row.duration_ms,
            body=row.body,
            created_at=row.created_at,
            next_attempt_at=row.next_attempt_at if queued else None,
            delivered_at=row.delivered_at,
            webhook_pk=row.webhook_id,  # type: ignore[attr-defined]
            redelivery_of_pk=row.redelivery_of_id,  # type: ignore[attr-defined]
        )

    @strawberry.field(description="The webhook it is for.")
    async def webhook(self, info: strawberry.Info) -> Webhook | None:
        return await r.webhook_of(info, self.webhook_pk)

    @strawberry.field(description="The delivery this one repeats (webhookRedeliver), if any.")
    async def redelivery_of(self, info: strawberry.Info) -> WebhookDelivery | None:
        return await r.delivery_of(info, self.redelivery_of_pk)


@strawberry.input(description="A new webhook.")
class WebhookCreateInput:
    url: str = strawberry.field(
        description="An http(s) URL of a public address (private ones are refused unless the "
        "server allows them)."
    )
    events: list[WebhookEvent] = strawberry.field(description="The events to send to it.")
    secret: str = strawberry.field(
        description="Signing secret, at least 16 bytes; never shown again."
    )
    description: str = strawberry.field(default="", description="What it is for.")


@strawberry.input(description="Changes to a webhook; only the fields you set change.")
class WebhookUpdateInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")
    url: str | None = strawberry.field(default=strawberry.UNSET, description="New URL.")
    events: list[WebhookEvent] | None = strawberry.field(
        default=strawberry.UNSET, description="New list of events."
    )
    secret: str | None = strawberry.field(
        default=strawberry.UNSET, description="New signing secret, at least 16 bytes."
    )
    description: str | None = strawberry.field(
        default=strawberry.UNSET, description="What it is for."
    )
    active: bool | None = strawberry.field(
        default=strawberry.UNSET,
        description="Switch it off (false) or on (true: its failures are cleared and the "
        "deliveries queued before it was switched off are sent).",
    )


@strawberry.input(description="The webhook to delete, with its delivery log.")
class WebhookDeleteInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="The webhook to send a ping event to now.")
class WebhookTestInput:
    id: strawberry.ID = strawberry.field(description="The webhook.")


@strawberry.input(description="A delivery to send again (same event, event id and body).")
class WebhookRedeliverInput:
    delivery_id: strawberry.ID = strawberry.field(description="The delivery.")


@strawberry.type(description="Result of a mutation that changes a webhook.")
class WebhookPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    webhook: Webhook | None = strawberry.field(
        default=None, description="The webhook as changed (as it was, for a delete)."
    )


@strawberry.type(description="Result of webhookTest or webhookRedeliver.")
class WebhookDeliveryPayload:
    errors: list[MutationError] = strawberry.field(description="Why it was refused; empty: done.")
    delivery: WebhookDelivery | None = strawberry.field(
        default=None,
        description="The delivery: for webhookTest, as the endpoint answered it; for "
        "webhookRedeliver, queued.",
    )


@strawberry.type
class WebhookQueries:
    @strawberry.field(
        description="Webhooks, oldest first (administrators).", permission_classes=[IsAdmin]
    )
    async def webhooks(
        self, info: strawberry.Info, first: FirstArg = None, after: AfterArg = None
    ) -> Connection[Webhook]:
        return await r.webhooks(info, first=first, after=after)


@strawberry.type
class WebhookMutations:
    @strawberry.mutation(
        description="Subscribe a URL to events (administrators).", permission_classes=[IsAdmin]
    )
    async def webhook_create(
        self, info: strawberry.Info, input: WebhookCreateInput
    ) -> WebhookPayload:
        return await r.webhook_create(info, input)

    @strawberry.mutation(
        description="Change a webhook, or switch it off or on (administrators).",
        permission_classes=[IsAdmin],
    )
    async def webhook_update(
        self, info: strawberry.Info, input: WebhookUpdateInput
    ) -> WebhookPayload:
        return await r.webhook_update(info, input)

    @strawberry.mutation(
        description="Delete a webhook and its delivery log (administrators).",
        permission_classes=[IsAdmin],
    )
    async def webhook_delete(
        self, info: strawberry.Info, input: WebhookDeleteInput
    ) -> WebhookPayload:
        return await r.webhook_delete(info, input)

    @strawberry.mutation(
        description="Send a ping event to a webhook now and return the delivery with the "
        "endpoint's answer (administrators).",
        permission_classes=[IsAdmin],
    )
    async def webhook_test(
        self, info: strawberry.Info, input: WebhookTestInput
    ) -> WebhookDeliveryPayload:
        return await r.webhook_test(info, input)

    @strawberry.mutation(
        description="Queue a delivery again, with the same event id and body (administrators).",
        permission_classes=[IsAdmin],
    )
    async def webhook_redeliver(
        self, info: strawberry.Info, input: WebhookRedeliverInput
    ) -> WebhookDeliveryPayload:
        return await r.webhook_redeliver(info, input)
