"""Abuse protection state shared by every process: throttle buckets (login throttling)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class ThrottleBucket(Model):
    """Recent failures of one throttled key (an account or a client address of one policy)."""

    id = fields.BigIntField(primary_key=True)
    # "<policy>:<kind>:<value>", e.g. "agent-login:account:<sha256 of the email>".
    key = fields.CharField(max_length=200, unique=True)
    failures = fields.IntField(default=0)
    blocked_until = fields.DatetimeField(null=True)
    last_failure_at = fields.DatetimeField(null=True)
    # Compare-and-set: every change of a bucket bumps it, so two processes never both take
    # the same last free attempt.
    version = fields.IntField(default=0)

    class Meta:
        table = "throttle_bucket"
