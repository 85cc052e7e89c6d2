"""Managing webhooks (administrators only): create, change, delete, test-ping, redeliver, and
the lists of webhooks and of their deliveries."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from tortoise.queryset import QuerySet

from deskql import models
from deskql.models.webhooks import DeliveryStatus
from deskql.schema.ids import to_global_id
from deskql.services import activity, uow
from deskql.services.auth import Actor
from deskql.services.errors import ErrorCode, Errors, ValidationFailed
from deskql.services.from_addresses import decrypt, encrypt
from deskql.services.policies import require_admin
from deskql.services.webhooks import delivery, events, targets
from deskql.services.webhooks.targets import shown_url
from deskql.settings import Settings

SECRET_MIN_BYTES = 16
SECRET_MAX_BYTES = 256
DESCRIPTION_MAX = 200
WHAT = "manage webhooks"


async def _check_url(errors: Errors, settings: Settings, url: str) -> str | None:
    try:
        target = await targets.resolve(url, allow_private=settings.webhook_allow_private)
    except targets.TargetRefused as exc:
        code = ErrorCode.PRIVATE_TARGET if exc.private else ErrorCode.INVALID
        errors.add("url", str(exc), code)
        return None
    return target.url


def _check_events(errors: Errors, names: list[str]) -> list[str]:
    unknown = [n for n in names if n not in events.EVENTS]
    if unknown:
        errors.add("events", f"unknown events: {', '.join(unknown)}", ErrorCode.INVALID)
    if not names:
        errors.add("events", "subscribe to at least one event", ErrorCode.REQUIRED)
    return [n for n in events.EVENTS if n in names]  # one each, in the API's order


def _check_secret(errors: Errors, secret: str) -> None:
    size = len((secret or "").encode())
    if size < SECRET_MIN_BYTES:
        errors.add(
            "secret",
            f"the secret must be at least {SECRET_MIN_BYTES} bytes long (it is {size}); "
            "use a random string, e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`",
            ErrorCode.INVALID,
        )
    elif size > SECRET_MAX_BYTES:
        errors.add(
            "secret", f"the secret must be at most {SECRET_MAX_BYTES} bytes", ErrorCode.TOO_LONG
        )


def _check_description(errors: Errors, text: str) -> str:
    text = (text or "").strip()
    if len(text) > DESCRIPTION_MAX:
        errors.add("description", f"at most {DESCRIPTION_MAX} characters", ErrorCode.TOO_LONG)
    return text


async def _record(
    actor: Actor | None, kind: str, row: models.Webhook, changes: dict[str, Any]
) -> None:
    await activity.record(
        actor=actor, kind=kind, subject_type="Webhook", subject_id=row.id, changes=changes
    )


def list_webhooks(actor: Actor) -> QuerySet[models.Webhook]:
    """Every webhook, oldest first (administrators only)."""
    require_admin(actor, WHAT)
    return models.Webhook.all().order_by("id")


def list_deliveries(
    actor: Actor, *, webhook_id: int, status: DeliveryStatus | None = None
) -> QuerySet[models.WebhookDelivery]:
    """A webhook's deliveries, newest first, optionally by status (administrators only)."""
    require_admin(actor, WHAT)
    qs = models.WebhookDelivery.filter(webhook_id=webhook_id)
    if status is not None:
        qs = qs.filter(status=status)
    return qs.order_by("-id")


async def _require(webhook_id: int) -> models.Webhook:
    row = await models.Webhook.filter(id=webhook_id).first()
    if row is None:
        raise ValidationFailed.one("id", "no such webhook", ErrorCode.NOT_FOUND)
    return row


async def create_webhook(
    actor: Actor,
    *,
    settings: Settings,
    url: str,
    events_: list[str],
    secret: str,
    description: str = "",
) -> models.Webhook:
    """Subscribe a URL to events, signing every delivery with the secret."""
    require_admin(actor, WHAT)
    errors = Errors()
    clean_url = await _check_url(errors, settings, url)
    names = _check_events(errors, events_)
    _check_secret(errors, secret)
    text = _check_description(errors, description)
    errors.raise_if_any()
    async with uow.transaction():
        row = await models.Webhook.create(
            url=clean_url,
            events=names,
            secret_encrypted=encrypt(settings, secret),
            description=text,
            created_by_id=actor.agent_id,
        )
        events.forget_active()
        await _record(actor, "webhook.created", row, {"url": shown_url(row.url), "events": names})
    return row


async def update_webhook(
    actor: Actor, *, settings: Settings, webhook_id: int, changes: dict[str, Any]
) -> models.Webhook:
    """Change a webhook's URL, events, secret, description, or switch it on/off (switching
    on clears its failures, and what was queued meanwhile is sent)."""
    require_admin(actor, WHAT)
    unknown = set(changes) - {"url", "events", "secret", "description", "is_active"}
    if unknown:
        raise ValueError(f"not updatable: {sorted(unknown)}")
    row = await _require(webhook_id)
    errors = Errors()
    values: dict[str, Any] = {}
    shown: dict[str, Any] = {}
    if "url" in changes:
        clean = await _check_url(errors, settings, changes["url"] or "")
        if clean is not None and clean != row.url:
            values["url"] = clean
    if "events" in changes:
        names = _check_events(errors, list(changes["events"] or []))
        if names != list(row.events or []):
            values["events"] = names
    if "description" in changes:
        values["description"] = _check_description(errors, changes["description"] or "")
    if "secret" in changes:
        _check_secret(errors, changes["secret"] or "")
        if changes["secret"] and changes["secret"] != decrypt(settings, row.secret_encrypted):
            values["secret_encrypted"] = encrypt(settings, changes["secret"])
            shown["secret"] = {"old": "(hidden)", "new": "(changed)"}
    if "is_active" in changes:
        if changes["is_active"] is None:
            errors.add("active", "active cannot be cleared", ErrorCode.REQUIRED)
        elif changes["is_active"] != row.is_active:
            values["is_active"] = bool(changes["is_active"])
    errors.raise_if_any()
    before = {key: getattr(row, key) for key in values if key != "secret_encrypted"}
    if values.get("is_active") is True:
        values.update(
            disabled_reason="", consecutive_failures=0, retry_at=None, last_failure_at=None
        )
    async with uow.transaction():
        if values:
            await models.Webhook.filter(id=row.id).update(updated_at=datetime.now(UTC), **values)
        fresh = await models.Webhook.get(id=row.id)
        changed = activity.diff(before, {key: getattr(fresh, key) for key in before}) | shown
        if "url" in changed:
            changed["url"] = {k: shown_url(v) for k, v in changed["url"].items()}
        if changed:
            events.forget_active()
            await _record(actor, "webhook.updated", fresh, changed)
    if values.get("is_active") is True:
        events.wake()
    return fresh


async def delete_webhook(actor: Actor, *, webhook_id: int) -> models.Webhook:
    """Delete a webhook and its delivery log; queued deliveries are dropped."""
    require_admin(actor, WHAT)
    row = await _require(webhook_id)
    async with uow.transaction():
        await _record(actor, "webhook.deleted", row, {"url": shown_url(row.url)})
        await row.delete()
        events.forget_active()
    return row


async def test_webhook(
    actor: Actor, *, settings: Settings, webhook_id: int
) -> models.WebhookDelivery:
    """Send a `ping` event now (also to a switched-off webhook, to check a fixed endpoint);
    the delivery, with its response code, is in the webhook's log."""
    require_admin(actor, WHAT)
    row = await _require(webhook_id)
    event_id = str(uuid.uuid4())
    data = {"webhookId": to_global_id("Webhook", row.id), "events": list(row.events or [])}
    async with uow.transaction():
        item = await models.WebhookDelivery.create(
            webhook_id=row.id,
            event=events.PING,
            event_id=event_id,
            body=events.body(events.PING, event_id, data),
            status=DeliveryStatus.QUEUED,
            # Sent from this request; workers take it only if this request died meanwhile.
            next_attempt_at=datetime.now(UTC) + timedelta(minutes=1),
        )
        await _record(actor, "webhook.pinged", row, {"deliveryId": item.id})
    await delivery.deliver_now(settings, item.id)
    return await models.WebhookDelivery.get(id=item.id)


async def redeliver(actor: Actor, *, delivery_id: int) -> models.WebhookDelivery:
    """Queue a delivery again: a new delivery with the same event, event id and body (so
    receivers de-duplicate), sent even if the original succeeded."""
    require_admin(actor, WHAT)
    original = await models.WebhookDelivery.filter(id=delivery_id).first()
    if original is None:
        raise ValidationFailed.one("deliveryId", "no such delivery", ErrorCode.NOT_FOUND)
    hook = await models.Webhook.get(id=original.webhook_id)  # type: ignore[attr-defined]
    if original.status in (DeliveryStatus.QUEUED, DeliveryStatus.SENDING):
        raise ValidationFailed.one(
            "deliveryId",
            f"the delivery is {original.status.value} already; redeliver it once it ended",
            ErrorCode.INVALID_STATE,
        )
    async with uow.transaction():
        item = await models.WebhookDelivery.create(
            webhook_id=hook.id,
            event=original.event,
            event_id=original.event_id,
            activity_id=original.activity_id,  # type: ignore[attr-defined]
            body=original.body,
            status=DeliveryStatus.QUEUED,
            next_attempt_at=datetime.now(UTC),
            redelivery_of_id=original.id,
        )
        await _record(
            actor,
            "webhook.redelivered",
            hook,
            {"deliveryId": item.id, "redeliveryOfId": original.id, "event": original.event},
        )
        uow.on_commit(events.wake)
    return item
