"""Webhook signatures, Stripe's scheme: `X-DeskQL-Signature: t=<unix seconds>,v1=<hex>` where
v1 = HMAC-SHA256(secret, f"{t}.{body}"). The timestamp is signed too, so a receiver that
refuses old timestamps (5 minutes) also refuses replays. README.md shows how to verify it."""

from __future__ import annotations

import hashlib
import hmac
import time

HEADER = "X-DeskQL-Signature"
TOLERANCE_SECONDS = 300


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of `timestamp.body` with the webhook's secret."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The value of the signature header for a body sent now (or at `timestamp`)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(secret: str, body: bytes, value: str, *, tolerance: int = TOLERANCE_SECONDS) -> bool:
    """Whether a signature header is valid for the body and recent (what receivers do)."""
    fields: dict[str, list[str]] = {}
    for part in value.split(","):
        key, _, item = part.strip().partition("=")
        fields.setdefault(key, []).append(item)
    try:
        t = int(fields["t"][0])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - t) > tolerance:
        return False
    expected = signature(secret, t, body)
    return any(hmac.compare_digest(expected, v) for v in fields.get("v1", []))
