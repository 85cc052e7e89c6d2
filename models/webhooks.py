"""Outbound webhooks for integrators: subscriptions and their durable delivery queue."""

from __future__ import annotations

from enum import StrEnum

from tortoise import fields
from tortoise.models import Model


class DeliveryStatus(StrEnum):
    """Where a webhook delivery stands."""

    QUEUED = "QUEUED"
    SENDING = "SENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


class Webhook(Model):
    """An integrator's endpoint and the events it subscribes to (administrators manage them)."""

    id = fields.IntField(primary_key=True)
    url = fields.CharField(max_length=2000)
    # Event names ("ticket.created", ...), see services/webhooks/events.py.
    events = fields.JSONField(default=list)
    # Fernet token of the signing secret (key from settings); never returned by the API.
    secret_encrypted = fields.TextField()
    description = fields.CharField(max_length=200, default="")
    is_active = fields.BooleanField(default=True)
    # Why it was switched off automatically (empty: it was not, or it is active).
    disabled_reason = fields.TextField(default="")
    # Failed attempts in a row; a success resets it. While above zero the endpoint gets one
    # delivery at a time (a probe) at `retry_at`, instead of every queued one failing.
    consecutive_failures = fields.IntField(default=0)
    retry_at = fields.DatetimeField(null=True)
    # When the last counted failure happened: attempts that started before it failed in the
    # same outage and do not count again.
    last_failure_at = fields.DatetimeField(null=True)
    created_by = fields.ForeignKeyField(
        "models.Agent", related_name="webhooks", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "webhook"
        ordering = ["id"]


class WebhookDelivery(Model):
    """One event for one webhook: queued in the transaction of the change, sent by a worker,
    with the outcome of its last attempt (a redelivery is a new row with the same body)."""

    id = fields.BigIntField(primary_key=True)
    webhook = fields.ForeignKeyField(
        "models.Webhook", related_name="deliveries", on_delete=fields.CASCADE
    )
    event = fields.CharField(max_length=64)
    # The event's id, the same in every webhook's delivery of it and in its redeliveries:
    # receivers de-duplicate by it.
    event_id = fields.CharField(max_length=64)
    activity = fields.ForeignKeyField(
        "models.Activity", related_name="webhook_deliveries", null=True, on_delete=fields.SET_NULL
    )
    # The JSON body, built once at enqueue so every attempt sends the same bytes.
    body = fields.TextField()
    status = fields.CharEnumField(DeliveryStatus, max_length=16, default=DeliveryStatus.QUEUED)
    attempts = fields.IntField(default=0)
    next_attempt_at = fields.DatetimeField(db_index=True)
    claimed_at = fields.DatetimeField(null=True)
    response_code = fields.IntField(null=True)
    # The start of the last response's body (capped), for the delivery log.
    response_body = fields.TextField(default="")
    last_error = fields.TextField(default="")
    duration_ms = fields.IntField(null=True)
    redelivery_of = fields.ForeignKeyField(
        "models.WebhookDelivery", related_name="redeliveries", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)
    delivered_at = fields.DatetimeField(null=True)

    class Meta:
        table = "webhook_delivery"
        ordering = ["id"]
        indexes = (("webhook_id", "status", "next_attempt_at"),)
